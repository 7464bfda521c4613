import amqp from 'amqplib';
import { documentBodies, median, now, randomId, timePortCalls } from './lib.ts';

/**
 * `npx tsx bench/tasks-profile.ts [N]`: where a single `POST /DANE/task` and the publisher of a batch of N
 * (default 10,000) spend their time in-process, port call by port call, with the real store and broker and no
 * HTTP in between. Uses an index and an exchange of its own (DANE_INDEX, default dane-bench-tasks-profile;
 * DANE_EXCHANGE, default DANE-tasks-profile), deleted at the end. `npm run bench` measures the same through
 * serverless-offline.
 */

process.env.DANE_INDEX ??= 'dane-bench-tasks-profile';
process.env.DANE_INDEX_REPLICAS ??= '0';
process.env.DANE_EXCHANGE ??= 'DANE-tasks-profile';
process.env.LOG_LEVEL ??= 'warn';
const index = process.env.DANE_INDEX;
const exchange = process.env.DANE_EXCHANGE;
const N = Number(process.argv[2] ?? 10_000);
// Imported once the environment is set: the modules read their configuration when they load.
const { validateDocument } = await import('../lib/documents/service.ts');
const { newDocument } = await import('../lib/model/document.ts');
const { taskId } = await import('../lib/model/ids.ts');
const { ensureIndex } = await import('../lib/store/bootstrap.ts');
const { getStoreClient } = await import('../lib/store/client.ts');
const { createDocuments } = await import('../lib/store/documents.ts');
const { assignTask, newTaskSource } = await import('../lib/tasks/assign.ts');
const { defaultPorts } = await import('../lib/tasks/ports.ts');
const { publishTasksById } = await import('../lib/tasks/publish.ts');

const times = new Map<string, number[]>();
const record = (name: string, ms: number) => times.set(name, [...(times.get(name) ?? []), ms]);
const ports = defaultPorts();
timePortCalls(ports.store, 'store', record);
timePortCalls(ports.broker, 'broker', record);

const client = getStoreClient();
await client.indices.delete({ index }, { ignore: [404] });
await ensureIndex();
const connection = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
const channel = await connection.createChannel();
await channel.assertExchange(exchange, 'topic', { durable: false });
const queue = `${exchange}-workers`;
await channel.assertQueue(queue, { durable: true });
await channel.bindQueue(queue, exchange, '#');
try {
  const stamp = '2026-12-01T00:00:00';
  const docs = documentBodies(`TP-${randomId().slice(0, 8)}`, N + 55).map((body) =>
    newDocument(validateDocument(body), stamp),
  );
  await createDocuments(docs);

  const single: number[] = [];
  for (let i = 0; i < 55; i += 1) {
    const start = now();
    await assignTask(
      (docs[N + i] as (typeof docs)[number]).id,
      { key: 'SINGLE', priority: 1, args: {} },
      new Date(),
      ports,
    );
    // The first five warm the connections up.
    if (i >= 5) single.push(now() - start);
  }
  console.log(`single task (assignTask), median of ${single.length}: ${median(single).toFixed(2)} ms`);
  for (const [name, values] of times)
    console.log(`  ${name}: median ${median(values.slice(5)).toFixed(2)} ms`);
  times.clear();

  const spec = { key: 'BATCH', priority: 1, args: {} };
  const at = new Date();
  const tasks = docs.slice(0, N).map((doc) => ({
    id: taskId(doc.id, spec.key),
    documentId: doc.id,
    source: newTaskSource(spec, doc.id, at),
  }));
  let start = now();
  await ports.store.createTasks(tasks, true);
  console.log(`batch of ${N}: created (with one refresh) in ${(now() - start).toFixed(0)} ms`);
  times.clear();
  start = now();
  const published = await publishTasksById(
    tasks.map((task) => task.id),
    new Date(),
    ports,
  );
  console.log(
    `batch of ${N}: ${published} published by publishTasksById in ${(now() - start).toFixed(0)} ms`,
  );
  for (const [name, values] of times)
    console.log(
      `  ${name}: ${values.length} calls, ${values.reduce((a, b) => a + b, 0).toFixed(0)} ms in all`,
    );
} finally {
  await channel.deleteQueue(queue);
  await channel.deleteExchange(exchange);
  await connection.close();
  await client.indices.delete({ index }, { ignore: [404] });
}
process.exit(0);
