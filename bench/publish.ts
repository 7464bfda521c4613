import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { closeBroker } from '../lib/broker/connection.ts';
import { getConfig } from '../lib/config.ts';
import { taskId } from '../lib/model/ids.ts';
import { TaskSpecSchema } from '../lib/model/task.ts';
import { bootstrapIndex } from '../lib/store/bootstrap.ts';
import { getStoreClient, resetStoreClient } from '../lib/store/client.ts';
import { getTasks } from '../lib/store/tasks.ts';
import { assignTasks } from '../lib/tasks/assign.ts';
import { claimAndPublish } from '../lib/tasks/publish.ts';

/**
 * Registering and publishing a batch of N tasks, against the raw limits of the same machine measured in the same
 * run: one OpenSearch `_bulk` of N task sources, and N confirmed, mandatory, persistent publishes pipelined on one
 * channel. The ratios say how close the whole path (validation, claim, publish, follow-up writes) comes to what the
 * two services can do at all. Run: `npx tsx bench/publish.ts [N]` with the local stack up.
 */
const N = Number(process.argv[2] ?? 5_000);
process.env.DANE_INDEX = `dane-bench-${randomUUID().slice(0, 8)}`;
process.env.DANE_INDEX_REPLICAS = '0';
process.env.INLINE_PUBLISH_LIMIT = String(N);
process.env.LOG_LEVEL = 'warn';

const config = getConfig();
const client = getStoreClient();
const index = config.opensearch.index;
const key = `BENCH${randomUUID().slice(0, 6).toUpperCase()}`;
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

await bootstrapIndex(client, index, 0);
const connection = await amqp.connect(config.amqp.url);
const channel = await connection.createConfirmChannel();
await channel.assertExchange(config.amqp.exchange, 'topic', { durable: false });
await channel.assertQueue(key, { durable: true, arguments: { 'x-max-priority': 10 } });
await channel.bindQueue(key, config.amqp.exchange, `#.${key}`);

// Documents to assign to (not measured).
const docIds: string[] = [];
const docLines: unknown[] = [];
for (let i = 0; i < N; i += 1) {
  const id = randomUUID().replace(/-/g, '');
  docIds.push(id);
  docLines.push(
    { create: { _index: index, _id: id } },
    {
      target: { id, url: 'http://example.org/x.mp4', type: 'Video' },
      creator: { id: 'BENCH', type: 'Organization' },
      role: 'document',
    },
  );
}
await client.bulk({ body: docLines as Record<string, unknown>[], refresh: 'wait_for' });

// Raw limit 1: one _bulk of N task sources (the same shape we store), refresh=wait_for as ours.
const rawLines: unknown[] = [];
for (const id of docIds) {
  rawLines.push(
    { create: { _index: index, _id: `raw-${id}`, routing: id } },
    {
      task: { key: `RAW${key}`, state: 201, msg: 'Created', priority: 1 },
      role: { name: 'task', parent: id },
    },
  );
}
let start = process.hrtime.bigint();
await client.bulk({ body: rawLines as Record<string, unknown>[], refresh: 'wait_for' });
const rawBulkMs = ms(start);

// Raw limit 2: N confirmed, mandatory, persistent publishes of messages of the same size, pipelined.
const body = Buffer.from(
  JSON.stringify({ task: { key, _id: 'x'.repeat(40), state: 201 }, document: docLines[1] }),
);
start = process.hrtime.bigint();
for (let i = 0; i < N; i += 1) {
  channel.publish(config.amqp.exchange, `Video.${key}`, body, {
    mandatory: true,
    persistent: true,
    priority: 1,
  });
}
await channel.waitForConfirms();
const rawPublishMs = ms(start);
await channel.purgeQueue(key);

// Ours: register N tasks (one bulk) and publish them (bulk claim, pipelined confirms, no follow-up needed).
const spec = TaskSpecSchema.parse({ key });
start = process.hrtime.bigint();
const assigned = await assignTasks(docIds, spec);
const oursMs = ms(start);
const queued = (await channel.checkQueue(key)).messageCount;

// The publishing half alone, on already registered tasks (as the async publishTasks function does it).
const key2 = `${key}B`;
await channel.assertQueue(key2, { durable: true, arguments: { 'x-max-priority': 10 } });
await channel.bindQueue(key2, config.amqp.exchange, `#.${key2}`);
await assignTasks(docIds, TaskSpecSchema.parse({ key: key2 }), new Date());
await channel.purgeQueue(key2);
const hits = await getTasks(docIds.map((d) => taskId(d, key2)));
start = process.hrtime.bigint();
await claimAndPublish([...hits.values()], 'force');
const republishMs = ms(start);

const rows = [
  ['raw OpenSearch _bulk of N tasks', rawBulkMs],
  ['raw RabbitMQ confirmed publish of N', rawPublishMs],
  ['raw sum (lower bound for both)', rawBulkMs + rawPublishMs],
  ['ours: register + publish N (assignTasks)', oursMs],
  ['ours: claim + publish N (publishTasks path)', republishMs],
] as const;
console.log(`N = ${N} tasks; ${assigned.success.length} registered, ${queued} messages queued`);
for (const [name, value] of rows)
  console.log(
    `${name.padEnd(46)} ${value.toFixed(0).padStart(7)} ms  ${(N / (value / 1000)).toFixed(0).padStart(7)} tasks/s`,
  );
console.log(
  `ratio ours / raw sum (register + publish):     ${(oursMs / (rawBulkMs + rawPublishMs)).toFixed(2)}`,
);
console.log(
  `ratio claim+publish / raw (bulk + publish):    ${(republishMs / (rawBulkMs + rawPublishMs)).toFixed(2)}`,
);

await channel.deleteQueue(key);
await channel.deleteQueue(key2);
await connection.close();
await closeBroker();
await client.indices.delete({ index });
await resetStoreClient();
