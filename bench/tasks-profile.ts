import { documentBodies, median, now, randomId } from './lib.ts';
import { openProfileStack } from './profile-stack.ts';

/**
 * `npx tsx bench/tasks-profile.ts [N]`: where a single `POST /DANE/task`, the publisher of a batch of N (default
 * 10,000) and the same batch assigned through the API's path (`assignTasks`: published inline up to
 * INLINE_PUBLISH_LIMIT) spend their time in-process, port call by port call, with the real store and broker and no
 * HTTP in between. Uses an index and an exchange of its own (DANE_INDEX, default dane-bench-tasks-profile;
 * DANE_EXCHANGE, default DANE-tasks-profile), deleted at the end. `npm run bench` measures the same through
 * serverless-offline.
 */

const N = Number(process.argv[2] ?? 10_000);
const times = new Map<string, number[]>();
const { ports, close } = await openProfileStack('tasks-profile', (name, ms) =>
  times.set(name, [...(times.get(name) ?? []), ms]),
);
// Imported once the environment is set: the modules read their configuration when they load.
const { validateDocument } = await import('../lib/documents/service.ts');
const { newDocument } = await import('../lib/model/document.ts');
const { taskId } = await import('../lib/model/ids.ts');
const { createDocuments } = await import('../lib/store/documents.ts');
const { assignTask, assignTasks, newTaskSource } = await import('../lib/tasks/assign.ts');
const { publishTasksById } = await import('../lib/tasks/publish.ts');

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
  times.clear();

  // The same batch assigned through the API's path (assignTasks) on other documents: inline up to the limit.
  const inlineSpec = { key: 'INLINE', priority: 1, args: {} };
  start = now();
  const cpu = process.cpuUsage();
  const answer = await assignTasks(
    docs.slice(0, N).map((doc) => doc.id),
    inlineSpec,
    new Date(),
    ports,
  );
  console.log(
    `batch of ${N} through assignTasks (INLINE_PUBLISH_LIMIT ${process.env.INLINE_PUBLISH_LIMIT ?? 'default'}): ${answer.success.length} assigned in ${(now() - start).toFixed(0)} ms`,
  );
  const used = process.cpuUsage(cpu);
  // What a Lambda function would need of its CPU share for the same (its CPU grows with its memory).
  console.log(`  CPU of this process meanwhile: ${((used.user + used.system) / 1000).toFixed(0)} ms`);
  for (const [name, values] of times)
    console.log(
      `  ${name}: ${values.length} calls, ${values.reduce((a, b) => a + b, 0).toFixed(0)} ms in all`,
    );
} finally {
  await close();
}
process.exit(0);
