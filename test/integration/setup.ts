// Integration tests run against the local stack started by `npm test` (localstack/up.sh). They use an index of
// their own so that a developer's `npm start` data is never touched.
process.env.DANE_INDEX ??= 'dane-test-index';
process.env.LOG_LEVEL ??= 'error';
process.env.DANE_INDEX_REPLICAS ??= '0';
// In-process tests have no Lambda endpoint: handing a batch to the async publisher must fail fast (connection
// refused on the discard port), never reach out to AWS. The e2e tests run serverless-offline, where it works.
process.env.LAMBDA_ENDPOINT ??= 'http://127.0.0.1:9';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_REGION ??= 'eu-west-1';
