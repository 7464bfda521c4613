import type { HttpRequest } from './handler.ts';

/**
 * Headers of a paged listing whose body stays the original's plain JSON array, so existing clients still parse
 * it (GitHub-style): `X-Total-Count` with the exact number of matches, and `Link: <...>; rel="next"` while more
 * remain. `next` holds the query parameters that differ for the next page.
 */
export function pageHeaders(
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
