import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../lib/errors.ts';
import type { ApiDocument } from '../../lib/model/document.ts';
import { taskId } from '../../lib/model/ids.ts';
import type { StoredTask, TaskSpec } from '../../lib/model/task.ts';
import type { NewTask, WriteOutcome } from '../../lib/store/tasks.ts';
import { assignTask, assignTasks } from '../../lib/tasks/assign.ts';
import type { TaskPorts } from '../../lib/tasks/ports.ts';
import { PUBLISH_CHUNK } from '../../lib/tasks/publish.ts';
import { recordingBroker, stubPolicy } from '../support/stub-ports.ts';

// Assignment when the store fails in the middle of a request, over stub ports (lib/tasks/ports.ts): what was
// stored and published must be answered as such, and what was not must be named, not hidden behind a 503.
const NOW = new Date('2026-12-03T12:00:00Z');
const spec: TaskSpec = { key: 'ASR', priority: 1, args: {} };
const docId = (i: number) => i.toString(16).padStart(40, '0');
const documentOf = (id: string): ApiDocument => ({
  _id: id,
  target: { id: `T${id}`, url: `http://example.org/${id}.mp4`, type: 'Video' },
  creator: { id: 'C', type: 'Organization' },
  created_at: null,
  updated_at: null,
});
const outage = () =>
  new DependencyUnavailableError('database', 'The database is unavailable (connect ECONNREFUSED)');

/** A store that keeps what it is given; the options say which of its calls throw an outage instead. */
function stubs(
  options: { failCreate?: (call: number) => boolean; failReplace?: boolean; failRefresh?: boolean } = {},
) {
  const rows = new Map<string, StoredTask>();
  let createCalls = 0;
  const refuse = () => {
    throw new Error('not used by assignment');
  };
  const { broker, published } = recordingBroker(
    { status: 'confirmed' },
    { queueDepths: refuse, unacknowledged: refuse, responseQueue: 'replies' },
  );
  const ports: TaskPorts = {
    policy: stubPolicy,
    broker,
    store: {
      getDocuments: async (ids) => new Map(ids.map((id) => [id, documentOf(id)])),
      createTasks: async (tasks: readonly NewTask[]): Promise<WriteOutcome[]> => {
        createCalls += 1;
        if (options.failCreate?.(createCalls)) throw outage();
        return tasks.map((task) => {
          if (rows.has(task.id)) return { status: 'conflict' };
          rows.set(task.id, task.source);
          return { status: 'ok', seqNo: 1, primaryTerm: 1 };
        });
      },
      replaceTasksIfUnchanged: async (replacements) => {
        if (options.failReplace) throw outage();
        return replacements.map(({ hit, source }) => {
          rows.set(hit.id, source);
          return { status: 'ok' as const, seqNo: hit.seqNo + 1, primaryTerm: 1 };
        });
      },
      getTask: async () => {
        throw outage();
      },
      refreshTasks: async () => {
        if (options.failRefresh) throw outage();
      },
      getTasks: refuse,
      updateTasksIfUnchanged: async (updates) =>
        updates.map(() => ({ status: 'ok', seqNo: 2, primaryTerm: 1 })),
      tasksOfDocuments: refuse,
      dueTasks: refuse,
      updateTasksInState: refuse,
      queuedTaskKeys: refuse,
      recordQueuesBusy: refuse,
      queuesBusyAt: refuse,
    },
  };
  return { ports, rows, published };
}

describe('assignment when the store fails mid-request', () => {
  it('a batch whose second chunk the store fails answers what was stored and published, and names the rest', async () => {
    const n = PUBLISH_CHUNK * 2 + 500;
    const ids = Array.from({ length: n }, (_, i) => docId(i));
    // Calls 1-3 are the three chunks in flight at once; the second fails, and so does the batch's refresh after.
    const { ports, rows, published } = stubs({ failCreate: (call) => call === 2, failRefresh: true });
    const answer = await assignTasks(ids, spec, NOW, ports);

    expect(answer.success.length + answer.failed.length).toBe(n);
    expect(answer.success).toHaveLength(rows.size);
    expect(answer.failed).toHaveLength(PUBLISH_CHUNK);
    expect(answer.failed.every((f) => f.error.startsWith('[503] not stored:'))).toBe(true);
    expect(answer.failed[0]?.error).toContain('assign it again');
    // Every stored task was published, and only those.
    expect(published).toHaveLength(rows.size);
    // The second chunk's documents are the ones named, and none of their tasks exists.
    const failedIds = new Set(answer.failed.map((f) => f.document_id));
    expect(ids.slice(PUBLISH_CHUNK, PUBLISH_CHUNK * 2).every((id) => failedIds.has(id))).toBe(true);
    expect([...failedIds].some((id) => rows.has(taskId(id, spec.key)))).toBe(false);
    expect(new Set(answer.success.map((task) => task._id))).toEqual(new Set(rows.keys()));
  });

  it('chunks not started once the store failed are named too, without asking the store again', async () => {
    const n = PUBLISH_CHUNK * 5;
    const ids = Array.from({ length: n }, (_, i) => docId(i));
    let calls = 0;
    const { ports, rows } = stubs({
      failCreate: (call) => {
        calls = call;
        return call === 1;
      },
    });
    const answer = await assignTasks(ids, spec, NOW, ports);
    // Three chunks were in flight at once; the two after them were not sent to a store that had failed.
    expect(calls).toBe(3);
    expect(rows.size).toBe(PUBLISH_CHUNK * 2);
    expect(answer.success).toHaveLength(PUBLISH_CHUNK * 2);
    expect(answer.failed).toHaveLength(PUBLISH_CHUNK * 3);
    expect(answer.failed.filter((f) => f.error.includes('an earlier part of the batch'))).toHaveLength(
      PUBLISH_CHUNK * 2,
    );
  });

  it('a batch stored and published whole is answered even if its refresh then fails', async () => {
    const ids = Array.from({ length: PUBLISH_CHUNK * 2 }, (_, i) => docId(i));
    const { ports, published } = stubs({ failRefresh: true });
    const answer = await assignTasks(ids, spec, NOW, ports);
    expect(answer.success).toHaveLength(ids.length);
    expect(answer.failed).toHaveLength(0);
    expect(published).toHaveLength(ids.length);
  });

  it('a batch of which nothing could be stored fails as a whole (503)', async () => {
    const ids = Array.from({ length: PUBLISH_CHUNK * 2 }, (_, i) => docId(i));
    const { ports, published } = stubs({ failCreate: () => true });
    await expect(assignTasks(ids, spec, NOW, ports)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(published).toHaveLength(0);
  });

  it('a single task whose store fails before the create is a 503', async () => {
    const { ports, published } = stubs({ failCreate: () => true });
    await expect(assignTask(docId(1), spec, NOW, ports)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(published).toHaveLength(0);
  });

  it('a task published before the store failed to record the outcome is answered, as claimed', async () => {
    const { ports, rows, published } = stubs({ failReplace: true });
    const task = await assignTask(docId(7), spec, NOW, ports);
    expect(published).toHaveLength(1);
    expect(task._id).toBe(taskId(docId(7), spec.key));
    // What it answers is the claim, the last version stored (the outcome write never went through).
    expect(rows.get(task._id)?.dane?.claim).toBeTruthy();
    expect(task.state).toBe(rows.get(task._id)?.task.state);
  });
});
