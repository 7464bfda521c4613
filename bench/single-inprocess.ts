import amqp from 'amqplib';
import { documentBodies, median, now, randomId } from './lib.ts';
import { createRawIndex, roundTripSteps } from './raw.ts';
import { declareWorkerQueue } from './worker.ts';

/**
 * `npx tsx bench/single-inprocess.ts [COUNT]`: the `POST /DANE/document` and `POST /DANE/task` functions called
 * in-process, with an HTTP API event as API Gateway sends it, against the real store and broker: what a single
 * request costs without serverless-offline's invocations (its authorizer's and its function's, each in a worker
 * thread). `npm run bench` runs it with the index and exchange of the server under test and reads the last line,
 * `{"documentMs":…,"taskMs":…,"rawIndexMs":…,"rawGetIndexPublishMs":…}` (medians of COUNT, default 50, after 5
 * not counted). Each call is followed by its raw round trip (the same document indexed into an index of its own;
 * a get of it + one index + one confirmed publish), so that a ratio compares moments of the same load: a raw
 * figure measured minutes apart can differ by half under the load of the workloads in between.
 */

process.env.LOG_LEVEL ??= 'warn';
const COUNT = Number(process.argv[2] ?? 50);
// Imported once the environment is set: the modules read their configuration when they load.
const { call } = await import('../test/support/http.ts');
const { handler: documentCreate } = await import('../functions/http/document-create.ts');
const { handler: taskCreate } = await import('../functions/http/task-create.ts');
const { getConfig } = await import('../lib/config.ts');
const { closeBroker } = await import('../lib/broker/connection.ts');
const { getStoreClient } = await import('../lib/store/client.ts');

const { exchange, index } = { ...getConfig().amqp, ...getConfig().opensearch };
const client = getStoreClient();
const rawIndex = `${index}-inprocess-raw`;
await createRawIndex(client, rawIndex);
const connection = await amqp.connect(getConfig().amqp.url);
const channel = await connection.createChannel();
const confirmChannel = await connection.createConfirmChannel();
const raw = await roundTripSteps(client, confirmChannel, rawIndex, exchange);
// A bound queue, so that every task is published and confirmed as in the HTTP workload.
const key = `INPROC${randomId().slice(0, 8).toUpperCase()}`;
const queue = await declareWorkerQueue(channel, exchange, key);
const times = {
  documentMs: [] as number[],
  taskMs: [] as number[],
  rawIndexMs: [] as number[],
  rawGetIndexPublishMs: [] as number[],
};
const ids: string[] = [];
try {
  for (const [i, body] of documentBodies(`INPROC-${randomId().slice(0, 8)}`, COUNT + 5).entries()) {
    let start = now();
    const response = await call(documentCreate, 'POST', '/DANE/document', { body });
    const ms = now() - start;
    if (response.status >= 300) throw new Error(`POST /DANE/document answered ${response.status}`);
    const id = (response.body as { _id: string })._id;
    ids.push(id);
    start = now();
    await client.index({ index: rawIndex, id, body: { ...body, role: 'document' }, op_type: 'create' });
    const rawMs = now() - start;
    if (i < 5) continue;
    times.documentMs.push(ms);
    times.rawIndexMs.push(rawMs);
  }
  for (const [i, documentId] of ids.entries()) {
    let start = now();
    const response = await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key } });
    const ms = now() - start;
    if (response.status >= 300) throw new Error(`POST /DANE/task answered ${response.status}`);
    start = now();
    await raw.getIndexPublish(documentId);
    const rawMs = now() - start;
    if (i < 5) continue;
    times.taskMs.push(ms);
    times.rawGetIndexPublishMs.push(rawMs);
  }
} finally {
  await raw.close();
  await channel.deleteQueue(queue);
  await connection.close();
  await client.indices.delete({ index: rawIndex }, { ignore: [404] });
  await closeBroker();
}
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]))),
);
process.exit(0);
