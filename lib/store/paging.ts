import type { Client } from '@opensearch-project/opensearch';
import { InvalidInputError } from '../errors.ts';
import { searchAllShards } from './items.ts';

/**
 * Paging without OpenSearch's 10,000-hit window: every listing sorts on fields that identify a hit and continues
 * with `search_after` from the last hit's sort values. The values travel to clients as an opaque cursor.
 */

export type SortValue = string | number | boolean | null;
export type SortValues = SortValue[];

export interface SearchHit {
  _id: string;
  _routing?: string;
  _source?: unknown;
  sort?: SortValues;
  _seq_no?: number;
  _primary_term?: number;
}

interface SearchBody {
  hits: { total?: { value: number; relation: string } | number; hits: SearchHit[] };
}

/** A cursor is the base64url JSON of the last hit's sort values: opaque to clients, stateless for us. */
export function encodeCursor(sort: SortValues): string {
  return Buffer.from(JSON.stringify(sort), 'utf8').toString('base64url');
}

/** The sort values in a cursor, or `undefined` when it is not one we could have made. */
export function decodeCursor(cursor: string): SortValues | undefined {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(values) || values.length === 0) return undefined;
    const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
    return values.every(scalar) ? (values as SortValues) : undefined;
  } catch {
    return undefined;
  }
}

/** What a listing asks for: a page size and where the previous page ended. */
export interface PageParams {
  limit: number;
  cursor?: SortValues | undefined;
}

/** One page of a listing; `next` (the last item's sort values) is present only when more follow. */
export interface Paged<T> {
  items: T[];
  total: number;
  next: SortValues | undefined;
}

export const totalOf = (body: SearchBody): number => {
  const total = body.hits.total;
  return typeof total === 'number' ? total : (total?.value ?? 0);
};

export interface PageRequest {
  index: string;
  query: unknown;
  sort: unknown[];
  size: number;
  after?: SortValues | undefined;
  source?: unknown;
  /** Count every match (exact `total`); costs a little, so only the first page of a listing asks for it. */
  trackTotal?: boolean;
  /** Search one shard routing only (children of one document). */
  routing?: string | undefined;
  /** Return each hit's `_seq_no`/`_primary_term`, for conditional writes of what was read. */
  versions?: boolean;
}

export interface Page {
  hits: SearchHit[];
  total: number | undefined;
  /** Sort values of the last hit when more follow: one hit more than asked is read to know it. */
  next: SortValues | undefined;
}

/** OpenSearch's default `index.max_result_window`: no search may ask for more hits. */
export const RESULT_WINDOW = 10_000;

export async function searchPage(client: Client, request: PageRequest): Promise<Page> {
  // A cursor made for another listing (another sort) would make OpenSearch answer 400 or skip hits.
  if (request.after && request.after.length !== request.sort.length) {
    throw InvalidInputError.at(['cursor'], 'is not a cursor from a previous page\'s "next" link');
  }
  const response = await searchAllShards(client, {
    index: request.index,
    ...(request.routing ? { routing: request.routing } : {}),
    body: {
      query: request.query,
      sort: request.sort,
      // A page as large as the window cannot look ahead: a full one then counts as having a next page.
      size: Math.min(request.size + 1, RESULT_WINDOW),
      track_total_hits: request.trackTotal === true,
      ...(request.after ? { search_after: request.after } : {}),
      ...(request.source !== undefined ? { _source: request.source } : {}),
      ...(request.versions ? { seq_no_primary_term: true } : {}),
    },
  } as never);
  const body = response.body as unknown as SearchBody;
  const hits = body.hits.hits.slice(0, request.size);
  const more =
    body.hits.hits.length > request.size || (request.size >= RESULT_WINDOW && hits.length === request.size);
  return {
    hits,
    total: request.trackTotal ? totalOf(body) : undefined,
    next: more ? hits[hits.length - 1]?.sort : undefined,
  };
}

/**
 * Every hit of a query, page by page (a page is at most `pageSize` hits in memory at once). The sort must
 * identify a hit, or hits that tie on it at a page boundary are skipped.
 */
export async function* searchAll(
  client: Client,
  request: Omit<PageRequest, 'size' | 'after' | 'trackTotal'>,
  pageSize = 1_000,
): AsyncGenerator<SearchHit[]> {
  let after: SortValues | undefined;
  for (;;) {
    const { hits, next } = await searchPage(client, { ...request, size: pageSize, after });
    if (hits.length > 0) yield hits;
    if (!next) return;
    after = next;
  }
}
