import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { type ApiResult, StoredResultSchema, toApiResult } from '../model/result.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';
import { type Paged, type PageParams, searchPage } from './paging.ts';

/**
 * Results are written by Python workers straight into the index (auto id, routed by task id, spec §2.2). Gets
 * by id pass no routing: with one shard every routing lands on it, and a get is real time where a search is not.
 */

const index = () => getConfig().opensearch.index;

async function store<T>(operation: string, fn: (client: Client) => Promise<T>): Promise<T> {
  await ensureIndex();
  return withStore(operation, fn);
}

interface FoundResult {
  result: ApiResult;
  routing: string | undefined;
}

async function find(client: Client, id: string): Promise<FoundResult | undefined> {
  if (id === '' || Buffer.byteLength(id, 'utf8') > 512) return undefined;
  const response = await client.get({ index: index(), id }, { ignore: [404] });
  const body = response.body as { found?: boolean; _source?: unknown; _routing?: string };
  if (!body.found) return undefined;
  const parsed = StoredResultSchema.safeParse(body._source);
  if (!parsed.success) {
    logger.debug('Not a result', { id, issues: parsed.error.issues.slice(0, 3) });
    return undefined;
  }
  return { result: toApiResult(id, parsed.data), routing: body._routing };
}

export async function getResult(id: string): Promise<ApiResult | undefined> {
  return store('get result', async (client) => (await find(client, id))?.result);
}

/** Deletes a result; false when there was none. No refresh: the original did not promise one either. */
export async function deleteResult(id: string): Promise<boolean> {
  return store('delete result', async (client) => {
    const found = await find(client, id);
    if (!found) return false;
    await client.delete(
      { index: index(), id, ...(found.routing !== undefined ? { routing: found.routing } : {}) },
      { ignore: [404] },
    );
    return true;
  });
}

async function pagedResults(query: Record<string, unknown>, page: PageParams): Promise<Paged<ApiResult>> {
  return store('search results', async (client) => {
    const { hits, total, next } = await searchPage(client, {
      index: index(),
      query,
      sort: [{ _id: 'asc' }],
      size: page.limit,
      after: page.cursor,
      trackTotal: true,
    });
    const items = hits.flatMap((hit) => {
      const parsed = StoredResultSchema.safeParse(hit._source);
      return parsed.success ? [toApiResult(hit._id, parsed.data)] : [];
    });
    return { items, total: total ?? 0, next };
  });
}

/** The results of one task, however its worker routed them. */
export function resultsOfTask(taskId: string, page: PageParams): Promise<Paged<ApiResult>> {
  return pagedResults(
    {
      bool: {
        filter: [{ parent_id: { type: 'result', id: taskId } }, { exists: { field: 'result.generator' } }],
      },
    },
    page,
  );
}

/** Results of the tasks with one key on one creator's documents; unlike the original, empty payloads count. */
export function resultsOfCreator(
  creatorId: string,
  key: string,
  page: PageParams,
): Promise<Paged<ApiResult>> {
  const ofCreator = { has_parent: { parent_type: 'document', query: { term: { 'creator.id': creatorId } } } };
  const tasks = { bool: { filter: [{ term: { 'task.key': key } }, ofCreator] } };
  return pagedResults({ bool: { filter: [{ has_parent: { parent_type: 'task', query: tasks } }] } }, page);
}
