import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { type ApiResult, StoredResultSchema, toApiResult } from '../model/result.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';

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
