import { describe, expect, it } from 'vitest';
import type { PublishOutcome } from '../../lib/broker/publisher.ts';
import type { QueueDepth } from '../../lib/broker/queues.ts';
import type { ApiDocument } from '../../lib/model/document.ts';
import type { StoredTask } from '../../lib/model/task.ts';
import type { ConditionalUpdate, TaskHit, WriteOutcome } from '../../lib/store/tasks.ts';
import type { TaskPorts } from '../../lib/tasks/ports.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';
import { recordingBroker, stubPolicy } from '../support/stub-ports.ts';

// The orchestrators over stub ports (lib/tasks/ports.ts): an in-memory task store with versions and a broker
// that records what it is asked to publish. The real-service tests (test/integration) remain the end-to-end
// proof; these show that read -> decide -> conditional write -> effects needs nothing else.
const NOW = new Date('2026-12-01T12:00:00Z');
const DOC = 'd'.repeat(40);
const document: ApiDocument = {
  _id: DOC,
  target: { id: 'T', url: 'http://example.org/v.mp4', type: 'Video' },
  creator: { id: 'C', type: 'Organization' },
  created_at: null,
  updated_at: null,
};

function stubs(
  tasks: Record<string, { key: string; state: number; dane?: StoredTask['dane'] }>,
  outcome: PublishOutcome,
  queues: Map<string, QueueDepth | null> = new Map(),
) {
  const busyAt = new Map<string, number>();
  const rows = new Map<string, TaskHit>();
  for (const [id, t] of Object.entries(tasks)) {
    rows.set(id, {
      id,
      documentId: DOC,
      seqNo: 1,
      primaryTerm: 1,
      source: {
        task: { key: t.key, state: t.state, msg: 'm', priority: 1 },
        role: { name: 'task', parent: DOC },
        dane: { attempt: 1, retries: 0, claim: 'c1', ...t.dane },
      },
    });
  }
  const { broker, published } = recordingBroker(outcome, {
    queueDepths: async (names) => new Map(names.map((name) => [name, queues.get(name) ?? null])),
    unacknowledged: async () => new Map(),
    responseQueue: 'replies',
  });
  const write = (
    hit: Pick<TaskHit, 'id' | 'seqNo'>,
    source: (old: StoredTask) => StoredTask,
  ): WriteOutcome => {
    const row = rows.get(hit.id);
    if (!row) return { status: 'missing' };
    if (row.seqNo !== hit.seqNo) return { status: 'conflict' };
    rows.set(hit.id, { ...row, seqNo: row.seqNo + 1, source: source(row.source) });
    return { status: 'ok', seqNo: row.seqNo + 1, primaryTerm: 1 };
  };
  const merge = (old: StoredTask, doc: Record<string, unknown>): StoredTask => ({
    ...old,
    ...doc,
    task: { ...old.task, ...(doc.task as object) },
    dane: { ...old.dane, ...(doc.dane as object) },
  });
  const all = () => [...rows.values()];
  const ports: TaskPorts = {
    policy: stubPolicy,
    broker,
    store: {
      getTask: async (id) => rows.get(id),
      getTasks: async (ids) =>
        new Map(
          all()
            .filter((r) => ids.includes(r.id))
            .map((r) => [r.id, r]),
        ),
      createTasks: async (news) => news.map(() => ({ status: 'conflict' as const })),
      updateTasksIfUnchanged: async (updates: readonly ConditionalUpdate[]) =>
        updates.map(({ hit, doc }) => write(hit, (old) => merge(old, doc))),
      replaceTasksIfUnchanged: async (replacements) =>
        replacements.map(({ hit, source }) => write(hit, () => source)),
      refreshTasks: async () => undefined,
      tasksOfDocuments: async (documentIds, states) => {
        const grouped = new Map<string, TaskHit[]>();
        for (const row of all()) {
          if (!documentIds.includes(row.documentId)) continue;
          if (states && !states.includes(row.source.task.state)) continue;
          grouped.set(row.documentId, [...(grouped.get(row.documentId) ?? []), row]);
        }
        return grouped;
      },
      dueTasks: async (nowMs) => {
        const hits = all().filter(
          (r) => r.source.dane?.due_at != null && (r.source.dane.due_at as number) <= nowMs,
        );
        return { hits, total: hits.length, next: undefined };
      },
      updateTasksInState: async () => 0,
      getDocuments: async (ids) => new Map(ids.includes(DOC) ? [[DOC, document]] : []),
      queuedTaskKeys: async () => [
        ...new Set(
          all()
            .filter((r) => r.source.task.state === 102)
            .map((r) => r.source.task.key),
        ),
      ],
      recordQueuesBusy: async (names, atMs) => {
        for (const name of names) busyAt.set(name, atMs);
      },
      queuesBusyAt: async (names) =>
        new Map(names.filter((n) => busyAt.has(n)).map((n) => [n, busyAt.get(n) as number])),
    },
  };
  return { ports, rows, published, busyAt, state: (id: string) => rows.get(id)?.source.task };
}

describe('the sweep over stub ports', () => {
  it('publishes a left-behind 201, gives up an exhausted lease and releases what waits on it', async () => {
    const t = stubs(
      {
        created: { key: 'NEW', state: 201, dane: { due_at: 0 } },
        lost: { key: 'ASR', state: 102, dane: { due_at: 0, retries: 2 } },
        waiting: { key: 'NER', state: 412, dane: { due_at: NOW.getTime() + 1e9, waiting_on: ['ASR'] } },
      },
      { status: 'confirmed' },
    );
    const report = await sweep(
      NOW,
      defaultSweepDeps(() => 60_000, t.ports),
    );
    expect(report).toMatchObject({ read: 2, published: 1, gaveUp: 1, released: 1, complete: true });
    expect(t.published.map((m) => m.routingKey)).toEqual(['Video.NEW']);
    expect(t.published[0]?.correlationId).toMatch(/^created#2\.[0-9a-f]{8}$/);
    expect(t.state('created')).toMatchObject({ state: 102, msg: 'Queued' });
    expect(t.rows.get('created')?.source.dane?.due_at).toBe(NOW.getTime() + 3_600_000);
    expect(t.state('lost')).toMatchObject({
      state: 500,
      msg: 'No reply within the lease after 2 attempts (no queue named ASR)',
    });
    expect(t.state('waiting')).toMatchObject({
      state: 424,
      msg: expect.stringContaining('Dependency `ASR` failed'),
    });
  });

  it('a lease does not end while the queue holds a backlog, and counts from when it was last seen', async () => {
    const queues = new Map([['ASR', { ready: 7, consumers: 1 }]]);
    const t = stubs(
      { waits: { key: 'ASR', state: 102, dane: { due_at: 0, retries: 0 } } },
      { status: 'confirmed' },
      queues,
    );
    expect(
      await sweep(
        NOW,
        defaultSweepDeps(() => 60_000, t.ports),
      ),
    ).toMatchObject({ published: 0, rescheduled: 1 });
    expect(t.published).toEqual([]);
    expect(t.busyAt.get('ASR')).toBe(NOW.getTime());
    expect(t.rows.get('waits')?.source.dane).toMatchObject({ retries: 0, due_at: NOW.getTime() + 3_600_000 });
    // An hour later the queue has drained: no sign of the task waiting any more, so its lease has run out.
    queues.set('ASR', { ready: 0, consumers: 1 });
    const later = new Date(NOW.getTime() + 3_600_000);
    expect(
      await sweep(
        later,
        defaultSweepDeps(() => 60_000, t.ports),
      ),
    ).toMatchObject({ published: 1 });
    expect(t.published[0]?.correlationId).toMatch(/^waits#2\./);
  });

  it('a returned publish makes the task 422, due again', async () => {
    const t = stubs({ created: { key: 'NEW', state: 201, dane: { due_at: 0 } } }, { status: 'returned' });
    expect(
      await sweep(
        NOW,
        defaultSweepDeps(() => 60_000, t.ports),
      ),
    ).toMatchObject({ unroutable: 1 });
    expect(t.state('created')).toMatchObject({ state: 422, msg: 'Unroutable task' });
    expect(t.rows.get('created')?.source.dane?.due_at).toBe(NOW.getTime() + 30_000);
  });
});

describe('replies over stub ports', () => {
  it('applies a 200 to the attempt in flight and runs the sibling waiting on it; ignores a stale one', async () => {
    const t = stubs(
      {
        asr: { key: 'ASR', state: 102, dane: { attempt: 3, claim: 'c1' } },
        ner: { key: 'NER', state: 412, dane: { due_at: 1e15, waiting_on: ['ASR'] } },
      },
      { status: 'confirmed' },
    );
    const report = await handleReplies(
      [
        { correlationId: 'asr#2.c1', body: JSON.stringify({ state: 500, message: 'late' }) },
        { correlationId: 'asr#3.c1', body: JSON.stringify({ state: 200, message: 'ok' }) },
      ],
      NOW,
      t.ports,
    );
    expect(report.outcomes).toEqual(['stale', 'applied']);
    expect(t.state('asr')).toMatchObject({ state: 200, msg: 'ok' });
    expect(t.published.map((m) => m.routingKey)).toEqual(['Video.NER']);
    expect(t.state('ner')).toMatchObject({ state: 102 });
  });
});
