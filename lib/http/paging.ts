import { z } from 'zod';
import type { Paged, PageParams } from '../tasks/queries.ts';
import { type HttpRequest, type HttpResponse, json } from './handler.ts';

/**
 * Listings that the original returned as one (silently capped) JSON array keep that shape, so existing clients
 * still parse them; the rest is in headers, GitHub-style: `Link: <...>; rel="next"` while more remain, and
 * `X-Total-Count` with the exact number of matches.
 */
const PageQuerySchema = (defaultLimit: number) =>
  z.object({
    limit: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .default(defaultLimit),
    cursor: z.string().min(1).optional(),
  });

export function pageParams(request: HttpRequest, defaultLimit = 1_000): PageParams {
  const parsed = PageQuerySchema(defaultLimit).parse({
    limit: request.query.get('limit') ?? undefined,
    cursor: request.query.get('cursor') ?? undefined,
  });
  return { limit: parsed.limit, cursor: parsed.cursor };
}

export function pagedArray<T>(request: HttpRequest, page: PageParams, result: Paged<T>): HttpResponse {
  const headers: Record<string, string> = { 'x-total-count': String(result.total) };
  if (result.next) {
    const query = new URLSearchParams(request.query);
    query.set('cursor', result.next);
    query.set('limit', String(page.limit));
    headers.link = `<${request.path}?${query.toString()}>; rel="next"`;
  }
  return json(200, result.items, headers);
}
