import { type Client, errors } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import {
  type ApiDocument,
  type NewDocument,
  StoredDocumentSchema,
  toApiDocument,
} from '../model/document.ts';
import { toPythonJson } from '../model/python.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';
import { bulkChunks, describeItemError, type ItemError, mgetFound, searchAllShards } from './items.ts';

export { BULK_CHUNK_MIN, BULK_CONCURRENCY } from './items.ts';

import {
  type Paged,
  type PageParams,
  RESULT_WINDOW,
  type SearchHit,
  type SortValues,
  searchPage,
} from './paging.ts';
import { REFRESH } from './refresh.ts';

/**
 * Documents in the DANE index (spec §2): `_id` = the SHA-1 id, no routing, `role: "document"`; their tasks are
 * join children routed by the document id, and the tasks' results are grandchildren that Python workers route by
 * task id. One shard makes the joins and routing-less gets work for all of them.
 */

const index = () => getConfig().opensearch.index;

async function store<T>(operation: string, fn: (client: Client) => Promise<T>): Promise<T> {
  await ensureIndex();
  return withStore(operation, fn);
}

/** OpenSearch refuses longer ids, so such an id cannot name anything. */
const possibleId = (id: string) => id !== '' && Buffer.byteLength(id, 'utf8') <= 512;

const isDocumentsOnly = { term: { role: 'document' } };

function toDocument(id: string, source: unknown): ApiDocument | undefined {
  const parsed = StoredDocumentSchema.safeParse(source);
  if (parsed.success) return toApiDocument(id, parsed.data);
  // A task or result id asked for as a document lands here too, hence debug, not warn.
  logger.debug('Not a document', { id, issues: parsed.error.issues.slice(0, 3) });
  return undefined;
}

const hitToDocument = (hit: SearchHit) => toDocument(hit._id, hit._source);

export type CreateOutcome =
  | { status: 'created' }
  | { status: 'exists' }
  | { status: 'rejected'; reason: string; httpStatus: number };

interface ErrorBody {
  error?: ItemError | string;
  status?: number;
}

const describeError = (error: ErrorBody['error']): string =>
  typeof error === 'string' ? error : describeItemError(error);

/** Registers one document (refresh: see refresh.ts). */
export async function createDocument(doc: NewDocument): Promise<CreateOutcome> {
  return store('create document', async (client) => {
    try {
      await client.create({
        index: index(),
        id: doc.id,
        body: toPythonJson(doc.source),
        refresh: REFRESH.document,
      } as never);
      return { status: 'created' } as const;
    } catch (error) {
      if (error instanceof errors.ResponseError) {
        const status = error.meta.statusCode ?? 500;
        if (status === 409) return { status: 'exists' } as const;
        // Dynamic mapping refusing an extra target/creator field is the client's data, not our failure.
        if (status === 400) {
          return {
            status: 'rejected',
            reason: describeError((error.meta.body as ErrorBody).error),
            httpStatus: 400,
          } as const;
        }
      }
      throw error;
    }
  });
}

type BulkCreateItem = { create?: ErrorBody };

function createOutcome(item: BulkCreateItem | undefined): CreateOutcome {
  const status = item?.create?.status ?? 500;
  if (status >= 200 && status < 300) return { status: 'created' };
  if (status === 409) return { status: 'exists' };
  return {
    status: 'rejected',
    reason: `[${status}] ${describeError(item?.create?.error)}`,
    httpStatus: status,
  };
}

const MAPPED_TARGET_KEYS = new Set(['id', 'url', 'type']);
const MAPPED_CREATOR_KEYS = new Set(['id', 'type', 'name']);
const onlyKeys = (value: object, keys: ReadonlySet<string>) =>
  Object.keys(value).every((key) => keys.has(key));

/**
 * Whether a document holds only fields the index layout maps. An extra field is mapped by the first document
 * that brings it, and a later one with another type is refused: in one request "first" is the batch order, in
 * concurrent requests it would be chance.
 */
const onlyMappedFields = (doc: NewDocument) =>
  onlyKeys(doc.source.target, MAPPED_TARGET_KEYS) && onlyKeys(doc.source.creator, MAPPED_CREATOR_KEYS);

/**
 * How a batch is split into `_bulk` requests sent at once: at most BULK_CONCURRENCY chunks of at least
 * BULK_CHUNK_MIN, or one request when some document brings fields of its own (see onlyMappedFields).
 */
export function documentChunks(docs: readonly NewDocument[]): Array<{ start: number; end: number }> {
  return bulkChunks(docs.length, docs.every(onlyMappedFields));
}

/**
 * Registers many documents with `_bulk` requests sent at once (documentChunks); the outcome of each, in order.
 * The refresh promise of REFRESH.documents holds for the whole batch: with several requests, one refresh of the
 * index after all of them, instead of one per request.
 */
export async function createDocuments(docs: readonly NewDocument[]): Promise<CreateOutcome[]> {
  if (docs.length === 0) return [];
  return store('create documents', async (client) => {
    const name = index();
    const chunks = documentChunks(docs);
    const refreshAfter = chunks.length > 1 && REFRESH.documents === true;
    const answers = await Promise.all(
      chunks.map(async ({ start, end }) => {
        let body = '';
        for (let i = start; i < end; i += 1) {
          const doc = docs[i] as NewDocument;
          body += `${JSON.stringify({ create: { _index: name, _id: doc.id } })}\n${toPythonJson(doc.source)}\n`;
        }
        const response = await client.bulk({
          body,
          refresh: refreshAfter ? false : REFRESH.documents,
          // Only what the outcomes are read from: the full answer is some 200 bytes an item to write and parse.
          filter_path: 'items.*.status,items.*.error',
        } as never);
        return (response.body as { items?: BulkCreateItem[] }).items ?? [];
      }),
    );
    if (refreshAfter) await client.indices.refresh({ index: name });
    // An item the index did not answer for stays a hole, which the caller reports as such.
    const outcomes = new Array<CreateOutcome>(docs.length);
    chunks.forEach(({ start, end }, c) => {
      const items = answers[c] ?? [];
      for (let i = 0; i < Math.min(items.length, end - start); i += 1)
        outcomes[start + i] = createOutcome(items[i]);
    });
    return outcomes;
  });
}

export async function getDocument(id: string): Promise<ApiDocument | undefined> {
  if (!possibleId(id)) return undefined;
  return store('get document', async (client) => {
    const response = await client.get({ index: index(), id }, { ignore: [404] });
    const body = response.body as { found?: boolean; _source?: unknown };
    return body.found ? toDocument(id, body._source) : undefined;
  });
}

/** The documents among `ids` (one `_mget`, real time); ids that name no document are absent from the map. */
export async function getDocuments(ids: readonly string[]): Promise<Map<string, ApiDocument>> {
  const found = new Map<string, ApiDocument>();
  const unique = [...new Set(ids)].filter(possibleId);
  if (unique.length === 0) return found;
  return store('get documents', async (client) => {
    for (const hit of await mgetFound(client, index(), unique)) {
      const doc = toDocument(hit._id, hit._source);
      if (doc) found.set(hit._id, doc);
    }
    return found;
  });
}

/**
 * Deletes documents with their tasks and the tasks' results, children first, so that a failure leaves every
 * document in place for a retry. The refresh before the delete-by-query is deliberate: it reads the searchable
 * view, and a task or result written within the last refresh interval would otherwise survive as an orphan that
 * no has_parent query ever finds again. Deleting documents is rare next to writing them.
 */
export async function deleteDocuments(ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await store('delete documents', async (client) => {
    const ofDocuments = { has_parent: { parent_type: 'document', query: { ids: { values: ids } } } };
    const query = {
      bool: {
        should: [ofDocuments, { has_parent: { parent_type: 'task', query: ofDocuments } }],
        minimum_should_match: 1,
      },
    };
    for (let attempt = 1; ; attempt += 1) {
      await client.indices.refresh({ index: index() });
      const response = await client.deleteByQuery({
        index: index(),
        body: { query },
        conflicts: 'proceed',
      } as never);
      const conflicts = (response.body as { version_conflicts?: number }).version_conflicts ?? 0;
      // A conflict is a task updated while we deleted (a worker reply): its new version is still there.
      if (conflicts === 0) break;
      if (attempt === 3) {
        logger.warn('Tasks or results of deleted documents kept changing; some may remain', {
          ids,
          conflicts,
        });
        break;
      }
    }
    const body = `${ids.map((id) => JSON.stringify({ delete: { _index: index(), _id: id } })).join('\n')}\n`;
    // A search right after the delete must not show the documents (nor, through the same refresh,
    // their children).
    await client.bulk({ body, refresh: REFRESH.deletes } as never);
  });
}

/**
 * Wildcard patterns as the original took them, but only `*` and `?` are special: a backslash, the wildcard
 * query's one other metacharacter, is escaped, so input never reaches the query as syntax.
 */
export const escapeWildcard = (pattern: string) => pattern.replace(/\\/g, '\\\\');

/** target.id + creator.id determines the document id, so this sort identifies every document. */
const documentSort = [{ 'target.id': 'asc' }, { 'creator.id': 'asc' }];

export interface DocumentSearch {
  targetId: string;
  creatorId: string;
  page: number;
  perPage: number;
}

export interface DocumentSearchResult {
  total: number;
  hits: ApiDocument[];
}

/**
 * A page of a wildcard search with the exact total. Pages inside the first 10,000 hits are one from/size
 * request. Deeper pages walk there with search_after over the sort values alone (10,000 per request, no
 * `_source`), then fetch the page itself: the cost grows with the page number, never with the index size, and
 * no cluster setting has to change.
 */
export async function searchDocuments(
  search: DocumentSearch,
  window = RESULT_WINDOW,
): Promise<DocumentSearchResult> {
  const filter: unknown[] = [isDocumentsOnly];
  if (search.targetId !== '*')
    filter.push({ wildcard: { 'target.id': { value: escapeWildcard(search.targetId) } } });
  if (search.creatorId !== '*') {
    filter.push({ wildcard: { 'creator.id': { value: escapeWildcard(search.creatorId) } } });
  }
  const query = { bool: { filter } };
  const offset = (search.page - 1) * search.perPage;
  return store('search documents', async (client) => {
    const base = { index: index(), query, sort: documentSort };
    if (offset + search.perPage <= window) {
      const response = await searchAllShards(client, {
        index: index(),
        body: { query, sort: documentSort, from: offset, size: search.perPage, track_total_hits: true },
      } as never);
      const body = response.body as unknown as { hits: { total: { value: number }; hits: SearchHit[] } };
      return {
        total: body.hits.total.value,
        hits: body.hits.hits.flatMap((hit) => hitToDocument(hit) ?? []),
      };
    }
    let total: number | undefined;
    let after: SortValues | undefined;
    for (let skipped = 0; skipped < offset; ) {
      const size = Math.min(window, offset - skipped);
      const page = await searchPage(client, {
        ...base,
        source: false,
        size,
        after,
        trackTotal: total === undefined,
      });
      total ??= page.total ?? 0;
      if (page.hits.length < size) return { total, hits: [] };
      skipped += size;
      after = page.hits[page.hits.length - 1]?.sort;
    }
    const page = await searchPage(client, { ...base, size: search.perPage, after });
    return { total: total ?? 0, hits: page.hits.flatMap((hit) => hitToDocument(hit) ?? []) };
  });
}

/** One page of a creator's documents, in target.id order (unique within one creator). */
export async function getDocumentsOfCreator(
  creatorId: string,
  page: PageParams,
): Promise<Paged<ApiDocument>> {
  return store('get documents of creator', async (client) => {
    const { hits, total, next } = await searchPage(client, {
      index: index(),
      query: { bool: { filter: [isDocumentsOnly, { term: { 'creator.id': creatorId } }] } },
      sort: [{ 'target.id': 'asc' }],
      size: page.limit,
      after: page.cursor,
      trackTotal: true,
    });
    return { items: hits.flatMap((hit) => hitToDocument(hit) ?? []), total: total ?? 0, next };
  });
}
