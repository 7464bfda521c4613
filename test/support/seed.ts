import { randomUUID } from 'node:crypto';
import { getConfig } from '../../lib/config.ts';
import { taskId } from '../../lib/model/ids.ts';
import { getStoreClient } from '../../lib/store/client.ts';

/**
 * Tasks in chosen states written straight into the index (one document each), for tests of the views that
 * count and select them: what matters is the stored state and bookkeeping, not how the tasks got there.
 */
export interface SeedTask {
  key: string;
  state: number;
  creator: string;
  /** A due time (back-off in progress) or none (given up, or settled). */
  due?: boolean;
  msg?: string;
  lastError?: string;
  /** Documents of one group share a document id (tasks of one document). */
  document?: string;
  /** Written as the original server (and our versions before tasks carried their creator) did: no `dane.creator`. */
  legacy?: boolean;
}

export interface SeededTask extends SeedTask {
  id: string;
  documentId: string;
}

const stamp = '2026-01-01T00:00:00';

export async function seedTasks(entries: readonly SeedTask[], type = 'Video'): Promise<SeededTask[]> {
  const index = getConfig().opensearch.index;
  const documents = new Map<string, { documentId: string; creator: string }>();
  const seeded = entries.map((entry) => {
    const group = entry.document ?? randomUUID();
    let doc = documents.get(group);
    if (!doc) {
      doc = {
        documentId: randomUUID().replace(/-/g, '').padEnd(40, '0').slice(0, 40),
        creator: entry.creator,
      };
      documents.set(group, doc);
    }
    return { ...entry, documentId: doc.documentId, id: taskId(doc.documentId, entry.key) };
  });
  const lines: unknown[] = [];
  for (const { documentId, creator } of documents.values()) {
    lines.push(
      { index: { _index: index, _id: documentId } },
      {
        target: { id: `T-${documentId.slice(0, 10)}`, url: 'http://example.org/v.mp4', type },
        creator: { id: creator, type: 'Organization' },
        created_at: stamp,
        updated_at: stamp,
        role: 'document',
      },
    );
  }
  const creatorOf = new Map([...documents.values()].map((d) => [d.documentId, d.creator]));
  for (const task of seeded) {
    lines.push(
      { index: { _index: index, _id: task.id, routing: task.documentId } },
      {
        task: { key: task.key, state: task.state, msg: task.msg ?? `state ${task.state}`, priority: 1 },
        role: { name: 'task', parent: task.documentId },
        created_at: stamp,
        updated_at: stamp,
        dane: {
          attempt: 1,
          retries: task.due ? 1 : 0,
          due_at: task.due ? Date.now() + 3_600_000 : null,
          last_error: task.lastError ?? null,
          ...(task.legacy ? {} : { creator: creatorOf.get(task.documentId) }),
        },
      },
    );
  }
  const response = await getStoreClient().bulk({
    body: lines as Record<string, unknown>[],
    refresh: 'wait_for',
  });
  if ((response.body as { errors: boolean }).errors) throw new Error('seeding failed');
  return seeded;
}
