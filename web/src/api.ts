/**
 * Every call of the page goes through here: same origin, JSON, and the API key from sessionStorage (never the
 * URL, never localStorage) as `Authorization: Bearer <key>`.
 */

const KEY_ITEM = 'dane.apiKey';

export const storedKey = () => sessionStorage.getItem(KEY_ITEM) ?? '';
export function storeKey(key: string) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Answer<T> {
  body: T;
  headers: Headers;
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = storedKey();
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? null : JSON.stringify(init.body),
    cache: 'no-store',
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok) {
    const message = (body as { message?: string } | undefined)?.message ?? response.statusText;
    throw new ApiError(response.status, `${response.status}: ${message}`);
  }
  return { body: body as T, headers: response.headers };
}

export const query = (params: Record<string, string | number | readonly (string | number)[] | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(name, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** The cursor in a `Link: <...?cursor=X>; rel="next"` header, if any. */
export function nextCursor(headers: Headers): string | undefined {
  const link = headers.get('link');
  const match = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
  if (!match?.[1]) return undefined;
  return new URL(match[1], 'http://x').searchParams.get('cursor') ?? undefined;
}
