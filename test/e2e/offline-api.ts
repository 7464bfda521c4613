import type { Offline } from '../support/offline.ts';

/** A small HTTP client for the e2e tests: every call goes through serverless-offline, as a client's would. */

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export type Api = <T = unknown>(method: string, path: string, body?: unknown) => Promise<ApiResponse<T>>;

/** Calls as the run's admin key unless `authorization` says otherwise (`null`: no Authorization header). */
export function apiClient(
  offline: Offline,
  timeoutMs = 120_000,
  authorization: string | null = offline.keys.admin.authorization,
): Api {
  return async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${offline.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(authorization === null ? {} : { authorization }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: keep the text, the assertion that follows shows it.
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };
}

/** Calls `probe` until it returns a value, or fails after `timeoutMs` with the last thing it saw. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<{ done: true; value: T } | { done: false; last: unknown }>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const outcome = await probe();
    if (outcome.done) return outcome.value;
    last = outcome.last;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The URL path of a `Link: <...>; rel="next"` header, if any. */
export function nextLink(headers: Headers): string | undefined {
  const link = headers.get('link');
  return link ? /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
}
