import type { Client } from '@opensearch-project/opensearch';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';

/**
 * Per-item errors of `_bulk` and `_mget` answers. OpenSearch answers such a request with HTTP 200 even when some
 * items failed, e.g. right after a restart, before the index's shard is assigned
 * (`no_shard_available_action_exception`): such an item says nothing about whether the document exists, so it
 * must never be read as "not found". Every item is one of:
 * - missing: the document (or the index) is not there;
 * - transient: worth another try (shard unavailable, rejected under load, 429, 5xx): the whole operation fails
 *   with DependencyUnavailableError, so an API call answers 503 and a reply batch is delivered again;
 * - permanent: this item cannot succeed (a mapping conflict, a malformed id): recorded, reported to the caller.
 */
export type ItemErrorKind = 'missing' | 'transient' | 'permanent';

export interface ItemError {
  type?: string;
  reason?: string;
  caused_by?: { type?: string; reason?: string };
}

const PERMANENT_TYPES = new Set([
  'mapper_parsing_exception',
  'illegal_argument_exception',
  'routing_missing_exception',
  'action_request_validation_exception',
  'document_parsing_exception',
  'strict_dynamic_mapping_exception',
  'version_conflict_engine_exception',
]);

export function classifyItemError(status: number | undefined, error: ItemError | undefined): ItemErrorKind {
  const type = error?.type;
  if (status === 404 || type === 'index_not_found_exception' || type === 'document_missing_exception')
    return 'missing';
  if (status === 429 || (status !== undefined && status >= 500)) return 'transient';
  if (status !== undefined && status >= 400) return 'permanent';
  // `_mget` items carry no status: only the type tells. An unknown type counts as transient, because reading an
  // outage as "not there" loses work while one more delivery of a batch costs nothing.
  return type !== undefined && PERMANENT_TYPES.has(type) ? 'permanent' : 'transient';
}

export const describeItemError = (error: ItemError | undefined): string => {
  const cause = error?.caused_by?.reason;
  return `${error?.reason ?? error?.type ?? 'unknown error'}${cause ? ` > ${cause}` : ''}`;
};

export interface MgetDoc {
  _id: string;
  _seq_no?: number;
  _primary_term?: number;
  _routing?: string;
  _source?: unknown;
  found?: boolean;
  error?: ItemError;
}

/**
 * A realtime multi-get of `ids`; the docs that were found, by id. A transient item error fails the whole call;
 * a permanent one is logged and the id reads as absent. `sourceIncludes`: only these fields of each `_source`.
 */
export async function mgetFound(
  client: Client,
  index: string,
  ids: readonly string[],
  sourceIncludes?: string[],
): Promise<MgetDoc[]> {
  const found: MgetDoc[] = [];
  for (let i = 0; i < ids.length; i += 5_000) {
    const chunk = [...new Set(ids.slice(i, i + 5_000))];
    const response = await client.mget({
      index,
      body: { ids: chunk },
      ...(sourceIncludes ? { _source_includes: sourceIncludes } : {}),
    });
    const docs = (response.body as { docs: MgetDoc[] }).docs;
    const transient: MgetDoc[] = [];
    for (const doc of docs) {
      if (doc.error === undefined) {
        if (doc.found) found.push(doc);
        continue;
      }
      const kind = classifyItemError(undefined, doc.error);
      if (kind === 'transient') transient.push(doc);
      else if (kind === 'permanent')
        logger.error('Multi-get item failed', { id: doc._id, error: describeItemError(doc.error) });
    }
    if (transient.length > 0) {
      const reason = describeItemError(transient[0]?.error);
      logger.error('OpenSearch could not read some documents', { count: transient.length, reason });
      throw new DependencyUnavailableError(
        'database',
        `The database (OpenSearch) could not read ${transient.length} documents (${reason}); try again later`,
      );
    }
  }
  return found;
}

/**
 * A search that some shards could not answer comes back with HTTP 200 and fewer hits (e.g. right after a
 * restart, before the shard is assigned): read as the whole answer, that hides tasks from the sweep and keys from
 * the lease observation. Such an answer fails like an outage instead.
 */
export async function searchAllShards(
  client: Client,
  params: Record<string, unknown>,
): Promise<{ body: unknown }> {
  const response = await client.search(params);
  const shards = (
    response.body as { _shards?: { failed?: number; failures?: Array<{ reason?: ItemError }> } }
  )._shards;
  if ((shards?.failed ?? 0) > 0) {
    const reason = describeItemError(shards?.failures?.[0]?.reason);
    logger.error('OpenSearch could not search every shard', { failed: shards?.failed, reason });
    throw new DependencyUnavailableError(
      'database',
      `The database (OpenSearch) could not search every shard (${reason}); try again later`,
    );
  }
  return response;
}

/**
 * Items per `_bulk` request of a batch, and how many such requests at most. One shard takes one bulk request on
 * one write thread: 10,000 documents in one request index at the speed of one core, in four concurrent requests
 * at that of all the cores the node has (measured here on 2 cores: 4 × 2,500 then one refresh took 443 ms, one
 * request of 10,000 with refresh=true 626 ms; with other jobs busy on the machine, 436 vs 477 ms).
 */
export const BULK_CHUNK_MIN = 1_000;
export const BULK_CONCURRENCY = 4;

/**
 * How a batch of `n` items is split into `_bulk` requests sent at once: at most BULK_CONCURRENCY contiguous
 * chunks of at least BULK_CHUNK_MIN, or one request when `concurrent` is false (items that may bring new fields
 * to the mapping: in one request the first item maps a field, in concurrent requests it would be chance).
 */
export function bulkChunks(n: number, concurrent: boolean): Array<{ start: number; end: number }> {
  const count = concurrent ? Math.max(1, Math.min(BULK_CONCURRENCY, Math.floor(n / BULK_CHUNK_MIN))) : 1;
  const size = Math.ceil(n / count);
  const chunks: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < n; start += size) chunks.push({ start, end: Math.min(n, start + size) });
  return chunks;
}
