import type { IncomingMessage } from 'node:http';
import type { Client } from '@opensearch-project/opensearch';
import { errors } from '@opensearch-project/opensearch';
import { getStoreClient, isUnavailable, resetStoreClient } from '../store/client.ts';

/**
 * The gateway's way to OpenSearch: lib/store's client and transport, so authentication (none, basic or SigV4
 * with the function's role) is exactly that of the rest of the store. The response comes back as the raw stream,
 * so status, headers and body reach the worker byte for byte.
 */

export interface ForwardRequest {
  method: string;
  path: string;
  /** Without the leading `?`. */
  querystring: string;
  body: string | undefined;
  contentType: string | undefined;
}

export interface ForwardResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type Forwarder = (request: ForwardRequest) => Promise<ForwardResponse>;

/** OpenSearch did not answer (connection refused or reset, or no answer within the request timeout). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** OpenSearch's answer is larger than the gateway can return in one Lambda response. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  constructor(readonly limit: number) {
    super(`The response is larger than ${limit} bytes`);
  }
}

// Hop-by-hop headers, and what the Lambda runtime computes itself.
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

async function readAll(stream: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      stream.destroy();
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** A forwarder over `client`, or over the store's shared client (recreated after a connection failure). */
export function storeForwarder(options: { client?: Client; maxResponseBytes: number }): Forwarder {
  return async (request) => {
    const client = options.client ?? getStoreClient();
    let result: { statusCode: number | null; headers: Record<string, unknown> | null; body: unknown };
    try {
      result = (await client.transport.request(
        {
          method: request.method,
          path: request.path,
          querystring: request.querystring,
          ...(request.body !== undefined ? { body: request.body } : {}),
        },
        {
          asStream: true,
          ...(request.contentType ? { headers: { 'content-type': request.contentType } } : {}),
        },
      )) as unknown as typeof result;
    } catch (error) {
      if (isUnavailable(error)) {
        if (error instanceof errors.ConnectionError && !options.client) await resetStoreClient();
        throw new StoreUnavailableError((error as Error).message);
      }
      throw error;
    }
    const status = result.statusCode ?? 502;
    const body = await readAll(result.body as IncomingMessage, options.maxResponseBytes);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) {
      if (value === undefined || DROPPED.has(name.toLowerCase())) continue;
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    // OpenSearch's own 5xx answers (e.g. all shards failed) pass through unchanged, like every other answer.
    return { status, headers, body };
  };
}
