import { gunzipSync, inflateSync } from 'node:zlib';
import type { WorkerCredentialCheck } from '../auth/worker-credentials.ts';
import type { Logger } from '../log.ts';
import {
  type Forwarder,
  type ForwardResponse,
  ResponseTooLargeError,
  StoreUnavailableError,
} from './forward.ts';
import { classify } from './scope.ts';

/**
 * The worker gateway: an endpoint that the `elasticsearch7` 7.x client (inside every DANE worker and
 * dane-workflows) accepts as Elasticsearch, and that forwards the DANE index's requests to OpenSearch. The worker
 * credential is checked here; the real OpenSearch credentials (or the IAM role) stay on our side.
 */

/** Lambda's synchronous invocation payload limit (request and response), 6 MiB. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

export interface GatewayHttpRequest {
  method: string;
  /** As sent (percent-encoded), without the query string. */
  path: string;
  /** The query string as sent, without `?`; forwarded unchanged. */
  rawQuery: string;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body: Buffer | undefined;
}

export interface GatewayHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface GatewayDeps {
  /** The one index reachable through the gateway (the DANE index). */
  index: string;
  anonymousRead: boolean;
  checkWorker: WorkerCredentialCheck;
  forward: Forwarder;
  log: Logger;
  /** Largest request body accepted (default: Lambda's payload limit). */
  maxBodyBytes?: number;
}

/**
 * What the `elasticsearch7` client verifies before its first request (transport `_ProductChecker`): a version
 * from 7.14 on must come with the `X-Elastic-Product: Elasticsearch` header; the tagline and build flavour are
 * what 7.0-7.13 clients check, so they are there too.
 */
export const EMULATED_VERSION = '7.17.0';
const PRODUCT_HEADER = { 'x-elastic-product': 'Elasticsearch' };
const REALM = 'Basic realm="dane-worker-gateway", charset="UTF-8"';

/** An error in the shape Elasticsearch uses, so that clients show the reason. */
function errorResponse(
  status: number,
  type: string,
  reason: string,
  headers: Record<string, string> = {},
): GatewayHttpResponse {
  const body = { error: { root_cause: [{ type, reason }], type, reason }, status };
  return {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...PRODUCT_HEADER, ...headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

export const tooLarge = (what: string, bytes: number | undefined, limit: number) =>
  errorResponse(
    413,
    'request_too_large_exception',
    `${what}${bytes !== undefined ? ` (${bytes} bytes)` : ''} is over Lambda's payload limit of ${limit} bytes; ` +
      'send smaller requests (fewer documents per bulk, fewer hits or fields per search)',
  );

type Credentials = { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bad' };

function credentialsOf(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return { kind: 'bad' };
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'bad' };
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function decodeBody(request: GatewayHttpRequest, limit: number): string | undefined | GatewayHttpResponse {
  if (!request.body || request.body.length === 0) return undefined;
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let bytes = request.body;
  try {
    // The scope rules read the body, so it is inflated here and sent on uncompressed.
    if (encoding === 'gzip') bytes = gunzipSync(bytes, { maxOutputLength: limit });
    else if (encoding === 'deflate') bytes = inflateSync(bytes, { maxOutputLength: limit });
    else if (encoding !== 'identity')
      return errorResponse(415, 'illegal_argument_exception', `Unsupported content-encoding \`${encoding}\``);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      return tooLarge('The decompressed request body', undefined, limit);
    }
    return errorResponse(400, 'parse_exception', `The ${encoding} request body could not be decompressed`);
  }
  return bytes.toString('utf8');
}

/**
 * `application/vnd.elasticsearch+json; compatible-with=7` (what a client in compatibility mode sends) is plain
 * JSON to OpenSearch, which does not know Elasticsearch's vendor types.
 */
function contentTypeFor(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/vnd\.elasticsearch\+x-ndjson/i.test(value)) return 'application/x-ndjson';
  if (/vnd\.elasticsearch\+json/i.test(value)) return 'application/json';
  return value;
}

async function info(forward: Forwarder, method: string): Promise<GatewayHttpResponse> {
  const upstream = await forward({
    method: 'GET',
    path: '/',
    querystring: '',
    body: undefined,
    contentType: undefined,
  });
  if (upstream.status >= 300) return withProductHeader(upstream);
  let cluster: { name?: unknown; cluster_name?: unknown; cluster_uuid?: unknown } = {};
  try {
    cluster = JSON.parse(upstream.body.toString('utf8')) as typeof cluster;
  } catch {
    // Names are cosmetic; the answer below is what the client checks.
  }
  const body = {
    name: typeof cluster.name === 'string' ? cluster.name : 'dane-worker-gateway',
    cluster_name: typeof cluster.cluster_name === 'string' ? cluster.cluster_name : 'dane',
    cluster_uuid: typeof cluster.cluster_uuid === 'string' ? cluster.cluster_uuid : '_na_',
    version: {
      number: EMULATED_VERSION,
      build_flavor: 'default',
      build_type: 'tar',
      build_hash: 'dane-worker-gateway',
      build_date: '2022-01-28T08:36:04.875279988Z',
      build_snapshot: false,
      lucene_version: '8.11.1',
      minimum_wire_compatibility_version: '6.8.0',
      minimum_index_compatibility_version: '6.0.0-beta1',
    },
    tagline: 'You Know, for Search',
  };
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...PRODUCT_HEADER },
    body: method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body)),
  };
}

function withProductHeader(response: ForwardResponse): GatewayHttpResponse {
  return {
    status: response.status,
    headers: { ...response.headers, ...PRODUCT_HEADER },
    body: response.body,
  };
}

/** Handles one request; never throws for a client's or OpenSearch's fault. */
export async function handleGatewayRequest(
  request: GatewayHttpRequest,
  deps: GatewayDeps,
): Promise<GatewayHttpResponse> {
  const started = Date.now();
  const method = request.method.toUpperCase();
  const fields: Record<string, unknown> = { method, path: request.path };
  const done = (response: GatewayHttpResponse, reason?: string) => {
    // One line per request: never the credentials, the query string or a body.
    deps.log.info('gateway request', {
      ...fields,
      status: response.status,
      ms: Date.now() - started,
      ...(reason ? { reason } : {}),
    });
    return response;
  };
  const refused = (status: number, type: string, reason: string, headers?: Record<string, string>) =>
    done(errorResponse(status, type, reason, headers), reason);

  const limit = deps.maxBodyBytes ?? LAMBDA_PAYLOAD_LIMIT_BYTES;
  if (request.body && request.body.length > limit) {
    return done(tooLarge('The request body', request.body.length, limit), 'request body over the limit');
  }
  const body = decodeBody(request, limit);
  if (body !== undefined && typeof body !== 'string') return done(body, 'body not decodable');

  const credentials = credentialsOf(request.headers.authorization);
  const challenge = { 'www-authenticate': REALM };
  if (credentials.kind === 'bad') {
    return refused(401, 'security_exception', 'Only HTTP basic authentication is accepted', challenge);
  }
  // The client's reason (refused, timed out) goes to the operator's log line; it names no credential.
  const unavailable = (error: Error) => {
    fields.cause = error.message;
    return refused(
      503,
      'opensearch_unavailable_exception',
      'The DANE storage (OpenSearch) is unavailable; try again later',
      { 'retry-after': '5' },
    );
  };
  let worker = false;
  try {
    worker =
      credentials.kind === 'basic' && (await deps.checkWorker(credentials.username, credentials.password));
  } catch (error) {
    // The key store is OpenSearch: when it cannot answer, neither could the request; never "wrong password".
    if (!(error instanceof StoreUnavailableError)) throw error;
    return unavailable(error);
  }
  if (credentials.kind === 'basic' && !worker) {
    return refused(401, 'security_exception', 'Wrong worker user name or password', challenge);
  }
  fields.auth = worker ? 'worker' : 'anonymous';

  const query = new URLSearchParams(request.rawQuery);
  const decision = classify({ method, path: request.path, query, body }, deps.index);
  if (decision.outcome === 'refuse') {
    return refused(
      decision.status,
      decision.status === 403 ? 'security_exception' : 'illegal_argument_exception',
      decision.reason,
    );
  }
  fields.operation = decision.operation;
  if (!worker && (decision.access === 'worker' || !deps.anonymousRead)) {
    const reason = deps.anonymousRead
      ? `${decision.operation} needs the worker credential (anonymous access is read-only: search, count, get, mget)`
      : 'The worker credential is required (missing authentication)';
    return refused(401, 'security_exception', reason, challenge);
  }

  try {
    if (decision.outcome === 'info') return done(await info(deps.forward, method));
    const upstream = await deps.forward({
      method,
      path: request.path,
      querystring: request.rawQuery,
      body,
      contentType: contentTypeFor(request.headers['content-type']),
    });
    return done(withProductHeader(upstream));
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      return unavailable(error);
    }
    if (error instanceof ResponseTooLargeError) {
      return done(tooLarge('The response', undefined, error.limit), 'response over the limit');
    }
    deps.log.error('gateway error', { ...fields, error });
    return refused(500, 'exception', 'Internal error in the worker gateway');
  }
}
