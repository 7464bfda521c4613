import { z } from 'zod';
import { decodeCursor, encodeCursor, type Paged, type SortValues } from '../store/paging.ts';
import { type HttpRequest, type HttpResponse, json } from './handler.ts';
import type { ResponseSpec } from './routes/types.ts';

/**
 * The one paging of every listing (see README, Listings): `?limit=&cursor=` in, the original's plain JSON array
 * out, with `X-Total-Count` and, while more follow, `Link: <...>; rel="next"` (GitHub-style), so existing clients
 * still parse the body. The cursor is store/paging's codec; whether a next page exists is store/paging's rule.
 */

export const LIMIT_MAX = 10_000;

/** A whole number sent as query text; the schema keeps it a string so the OpenAPI document says so. */
export const integerText = () =>
  z
    .string()
    .regex(/^\s*[+-]?\d+\s*$/, 'must be an integer')
    .transform(Number);

export const PageQuerySchema = (defaultLimit: number) =>
  z.object({
    limit: integerText()
      .pipe(z.number().int().min(1, 'must be at least 1').max(LIMIT_MAX, `must be at most ${LIMIT_MAX}`))
      .optional()
      .transform((limit) => limit ?? defaultLimit)
      .meta({ description: `Page size (1-${LIMIT_MAX}, default ${defaultLimit})` }),
    cursor: z
      .string()
      .optional()
      .transform((cursor, ctx): SortValues | undefined => {
        if (cursor === undefined) return undefined;
        const values = decodeCursor(cursor);
        if (!values)
          ctx.addIssue({ code: 'custom', message: 'is not a cursor from a previous page\'s "next" link' });
        return values;
      })
      .meta({
        description: 'From the `Link: <...>; rel="next"` header of the previous page; absent for the first',
      }),
  });

/** The headers of a paged listing, for the OpenAPI document. */
export const pageHeaders = {
  'x-total-count': { description: 'Exact number of matches over all pages', schema: z.string() },
  link: { description: 'While more pages follow: `<url of the next page>; rel="next"`', schema: z.string() },
} satisfies ResponseSpec['headers'];

/** `X-Total-Count`, and `Link` to this request with `next` (the query parameters that change) set. */
export function pageLinkHeaders(
  request: HttpRequest,
  total: number,
  next: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'x-total-count': String(total) };
  if (next) {
    const query = new URLSearchParams(request.query);
    for (const [name, value] of Object.entries(next)) query.set(name, value);
    headers.link = `<${request.path}?${query.toString()}>; rel="next"`;
  }
  return headers;
}

/** 200 with one page of a cursor-paged listing. */
export function pageResponse<T>(request: HttpRequest, page: Paged<T>, limit: number): HttpResponse {
  const next = page.next ? { cursor: encodeCursor(page.next), limit: String(limit) } : undefined;
  return json(200, page.items, pageLinkHeaders(request, page.total, next));
}
