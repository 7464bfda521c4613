import { documentBodies, now, randomId } from './lib.ts';
import { openProfileStack } from './profile-stack.ts';
import { rawBulkUpdates } from './raw.ts';

/**
 * `npx tsx bench/replies-profile.ts [N] [B]`: where applying N worker replies (default 10,000) in batches of B
 * (default the event source's batch size, 2,000) spends its time in-process, batch by batch and port call by port
 * call, with the real store and broker and no event source or serverless-offline in between; beside a raw `_bulk`
 * update of N other tasks of the same index without refresh, measured in the same run. The tasks are assigned
 * and published by our own code and their messages taken from a queue, so the replies carry the correlation ids
 * workers copy. Uses an index and an exchange of its own (DANE_INDEX, default dane-bench-replies-profile;
 * DANE_EXCHANGE, default DANE-replies-profile), deleted at the end.
 */

const N = Number(process.argv[2] ?? 10_000);
const B = Number(process.argv[3] ?? 2_000);
let calls: Array<{ name: string; ms: number }> = [];
const { index, client, channel, queue, ports, close } = await openProfileStack(
  'replies-profile',
  (name, ms) => calls.push({ name, ms }),
);
// Imported once the environment is set: the modules read their configuration when they load.
const { validateDocument } = await import('../lib/documents/service.ts');
const { newDocument } = await import('../lib/model/document.ts');
const { taskId } = await import('../lib/model/ids.ts');
const { createDocuments } = await import('../lib/store/documents.ts');
const { newTaskSource } = await import('../lib/tasks/assign.ts');
const { publishTasksById } = await import('../lib/tasks/publish.ts');
const { handleReplies } = await import('../lib/tasks/replies.ts');

/** N documents, each with one task of `key`, claimed and published; returns the messages' correlation ids. */
async function queuedTasks(
  key: string,
): Promise<Array<{ id: string; documentId: string; correlationId: string }>> {
  const stamp = '2026-12-01T00:00:00';
  const docs = documentBodies(`RP-${randomId().slice(0, 8)}`, N).map((body) =>
    newDocument(validateDocument(body), stamp),
  );
  await createDocuments(docs);
  const at = new Date();
  const tasks = docs.map((doc) => ({
    id: taskId(doc.id, key),
    documentId: doc.id,
    source: newTaskSource({ key, priority: 1, args: {} }, doc.id, at),
  }));
  await ports.store.createTasks(tasks, true);
  await publishTasksById(
    tasks.map((t) => t.id),
    new Date(),
    ports,
  );
  const correlationOf = new Map<string, string>();
  await new Promise<void>((done) => {
    void channel.consume(
      queue,
      (message) => {
        if (!message) return;
        const body = JSON.parse(message.content.toString()) as { task: { _id: string } };
        correlationOf.set(body.task._id, message.properties.correlationId as string);
        if (correlationOf.size === N) done();
      },
      { noAck: true, consumerTag: `profile-${key}` },
    );
  });
  await channel.cancel(`profile-${key}`);
  return tasks.map((t) => ({
    id: t.id,
    documentId: t.documentId,
    correlationId: correlationOf.get(t.id) as string,
  }));
}

try {
  const rounds = [await queuedTasks('PROFILE'), await queuedTasks('RAWUPDATE')];
  const [ours, raw] = rounds as [(typeof rounds)[0], (typeof rounds)[0]];
  // The raw update first, of tasks published as ours were: the same index, the same unrefreshed claims.
  const rawMs = await rawBulkUpdates(client, index, raw, false);
  console.log(`raw _bulk update of ${N}, no refresh: ${rawMs.toFixed(0)} ms`);

  const body = JSON.stringify({ state: 200, message: 'Success' });
  let total = 0;
  for (let i = 0; i < ours.length; i += B) {
    calls = [];
    const batch = ours.slice(i, i + B).map((t) => ({ correlationId: t.correlationId, body }));
    const start = now();
    const report = await handleReplies(batch, new Date(), ports);
    const ms = now() - start;
    total += ms;
    const inStore = calls.reduce((sum, c) => sum + c.ms, 0);
    console.log(
      `batch ${i / B + 1}: ${batch.length} replies (${report.counts.applied} applied) in ${ms.toFixed(0)} ms, ` +
        `${inStore.toFixed(0)} ms in port calls: ${calls.map((c) => `${c.name} ${c.ms.toFixed(0)}`).join(', ')}`,
    );
  }
  console.log(
    `${N} replies in batches of ${B}: ${total.toFixed(0)} ms in-process, ${(total / rawMs).toFixed(2)}x the raw update`,
  );
} finally {
  await close();
}
process.exit(0);
