import amqp from 'amqplib';
import { documentBodies, median, now, randomId } from './lib.ts';
import { declareWorkerQueue } from './worker.ts';

/**
 * `npx tsx bench/single-inprocess.ts [COUNT]`: the `POST /DANE/document` and `POST /DANE/task` functions called
 * in-process, with an HTTP API event as API Gateway sends it, against the real store and broker: what a single
 * request costs without serverless-offline's invocations (its authorizer's and its function's, each in a worker
 * thread). `npm run bench` runs it with the index and exchange of the server under test and reads the last line,
 * `{"documentMs":…,"taskMs":…}` (medians of COUNT, default 50, after 5 not counted).
 */

process.env.LOG_LEVEL ??= 'warn';
const COUNT = Number(process.argv[2] ?? 50);
// Imported once the environment is set: the modules read their configuration when they load.
const { call } = await import('../test/support/http.ts');
const { handler: documentCreate } = await import('../functions/http/document-create.ts');
const { handler: taskCreate } = await import('../functions/http/task-create.ts');
const { getConfig } = await import('../lib/config.ts');
const { closeBroker } = await import('../lib/broker/connection.ts');

const documentTimes: number[] = [];
const ids: string[] = [];
for (const [i, body] of documentBodies(`INPROC-${randomId().slice(0, 8)}`, COUNT + 5).entries()) {
  const start = now();
  const response = await call(documentCreate, 'POST', '/DANE/document', { body });
  if (i >= 5) documentTimes.push(now() - start);
  if (response.status >= 300) throw new Error(`POST /DANE/document answered ${response.status}`);
  ids.push((response.body as { _id: string })._id);
}

// A bound queue, so that every task is published and confirmed as in the HTTP workload.
const connection = await amqp.connect(getConfig().amqp.url);
const channel = await connection.createChannel();
const key = `INPROC${randomId().slice(0, 8).toUpperCase()}`;
const queue = await declareWorkerQueue(channel, getConfig().amqp.exchange, key);
const taskTimes: number[] = [];
try {
  for (const [i, documentId] of ids.entries()) {
    const start = now();
    const response = await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key } });
    if (i >= 5) taskTimes.push(now() - start);
    if (response.status >= 300) throw new Error(`POST /DANE/task answered ${response.status}`);
  }
} finally {
  await channel.deleteQueue(queue);
  await connection.close();
  await closeBroker();
}
console.log(JSON.stringify({ documentMs: median(documentTimes), taskMs: median(taskTimes) }));
process.exit(0);
