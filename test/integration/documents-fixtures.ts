import { randomUUID } from 'node:crypto';
import { getConfig } from '../../lib/config.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';

/**
 * Writes straight into the test index, the way the original server and Python workers do, so the document
 * routes are checked against data they did not write themselves.
 */

export const index = () => getConfig().opensearch.index;
export const client = () => getStoreClient();

/** A prefix that no other test file (or earlier run) uses. */
export const uniqueName = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

export async function seedDocument(id: string, targetId: string, creatorId: string, refresh = true) {
  await ensureIndex();
  await client().index({
    index: index(),
    id,
    refresh,
    body: {
      target: { id: targetId, url: `http://example.org/${targetId}`, type: 'Video' },
      creator: { id: creatorId, type: 'Organization' },
      created_at: '2023-06-16T15:13:01',
      updated_at: '2023-06-16T15:13:01',
      role: 'document',
    },
  });
}

/** A task as the original stored it: child of its document, routed by the document id. */
export async function seedTask(
  id: string,
  documentId: string,
  key: string,
  options: { args?: Record<string, unknown>; state?: number; refresh?: boolean } = {},
) {
  await client().index({
    index: index(),
    id,
    routing: documentId,
    refresh: options.refresh ?? true,
    body: {
      task: {
        key,
        state: options.state ?? 201,
        msg: 'Created',
        priority: 1,
        ...(options.args ? { args: options.args } : {}),
      },
      role: { name: 'task', parent: documentId },
      created_at: '2023-06-16T15:13:02',
      updated_at: '2023-06-16T15:13:02',
    },
  });
}

/** A result as a Python worker saves it: auto id, child of its task, routed by the task id. */
export async function seedResult(
  taskId: string,
  payload: Record<string, unknown>,
  options: { routing?: string; refresh?: boolean } = {},
): Promise<string> {
  const response = await client().index({
    index: index(),
    routing: options.routing ?? taskId,
    refresh: options.refresh ?? true,
    body: {
      result: {
        generator: { id: 'abc123', type: 'Software', name: 'ASR', homepage: 'https://example.org/asr' },
        payload,
      },
      role: { name: 'result', parent: taskId },
      created_at: '2023-06-16T15:14:00',
      updated_at: '2023-06-16T15:14:00',
    },
  });
  return response.body._id;
}

export async function exists(id: string): Promise<boolean> {
  const response = await client().get({ index: index(), id }, { ignore: [404] });
  return (response.body as { found?: boolean }).found === true;
}

export async function countChildrenOf(documentId: string): Promise<number> {
  await client().indices.refresh({ index: index() });
  const ofDocument = { has_parent: { parent_type: 'document', query: { ids: { values: [documentId] } } } };
  const byParentId = { parent_id: { type: 'task', id: documentId } };
  const response = await client().count({
    index: index(),
    body: {
      query: {
        bool: {
          should: [byParentId, ofDocument, { has_parent: { parent_type: 'task', query: byParentId } }],
          minimum_should_match: 1,
        },
      },
    },
  });
  return response.body.count;
}

export async function removeIds(ids: readonly string[]) {
  if (ids.length === 0) return;
  await ensureIndex();
  await client().deleteByQuery({
    index: index(),
    body: { query: { ids: { values: [...ids] } } },
    refresh: true,
    conflicts: 'proceed',
  } as never);
}

export async function removeCreator(creatorId: string) {
  await client().deleteByQuery({
    index: index(),
    body: { query: { term: { 'creator.id': creatorId } } },
    refresh: true,
    conflicts: 'proceed',
  } as never);
}
