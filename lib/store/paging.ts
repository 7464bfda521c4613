import type { Client } from '@opensearch-project/opensearch';

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

/** The sort values in a cursor, or `undefined` when it is not one we could have made for this sort. */
export function decodeCursor(cursor: string, length: number): SortValues | undefined {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(values) || values.length !== length) return undefined;
    const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
    return values.every(scalar) ? (values as SortValues) : undefined;
  } catch {
    return undefined;
  }
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
}

export async function searchPage(client: Client, request: PageRequest): Promise<Page> {
  const response = await client.search({
    index: request.index,
    ...(request.routing ? { routing: request.routing } : {}),
    body: {
      query: request.query,
      sort: request.sort,
      size: request.size,
      track_total_hits: request.trackTotal === true,
      ...(request.after ? { search_after: request.after } : {}),
      ...(request.source !== undefined ? { _source: request.source } : {}),
      ...(request.versions ? { seq_no_primary_term: true } : {}),
    },
  } as never);
  const body = response.body as unknown as SearchBody;
  return { hits: body.hits.hits, total: request.trackTotal ? totalOf(body) : undefined };
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
    const { hits } = await searchPage(client, { ...request, size: pageSize, after });
    if (hits.length > 0) yield hits;
    if (hits.length < pageSize) return;
    after = hits[hits.length - 1]?.sort;
  }
}
