import { closeBroker, getBroker } from '../lib/broker/connection.ts';
import { getConfig } from '../lib/config.ts';
import { bootstrapIndex } from '../lib/store/bootstrap.ts';
import { getStoreClient, resetStoreClient } from '../lib/store/client.ts';

// Prepares storage and messaging before the local server starts: the DANE index (created if absent) and the
// exchange + response queue (declared exactly as workers expect). Lambdas do the same lazily on cold start.
const config = getConfig();
const outcome = await bootstrapIndex(getStoreClient());
console.error(`[bootstrap] index ${config.opensearch.index}: ${outcome}`);
await getBroker();
console.error(
  `[bootstrap] exchange ${config.amqp.exchange} (topic) and queue ${config.amqp.responseQueue} (durable) declared`,
);
await closeBroker();
await resetStoreClient();
