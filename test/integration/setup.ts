// Integration tests run against the local stack started by `npm test` (localstack/up.sh). They use an index of
// their own so that a developer's `npm start` data is never touched.
process.env.DANE_INDEX ??= 'dane-test-index';
process.env.LOG_LEVEL ??= 'error';
process.env.DANE_INDEX_REPLICAS ??= '0';
