import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { normaliseRouteKey, principalOf } from '../auth/authorizer.ts';
import { getConfig } from '../config.ts';
import { InvalidInputError } from '../errors.ts';
import { lambdaHandler } from '../invocation.ts';
import { logger } from '../log.ts';
import { errorToResponse, MethodNotAllowedError, PayloadTooLargeError } from './errors.ts';
import type { RouteSpec } from './routes/types.ts';

/**
 * The shared middy stack of every API function. Handlers receive a parsed `HttpRequest` and return a
 * `HttpResponse`; the stack parses the body, maps errors by class (one place) and logs one line per request.
 */

export interface HttpRequest {
  method: string;
  path: string;
  pathParameters: Record<string, string>;
  /** Every value of every query parameter, in order (repeated parameters kept apart). */
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  /** The JSON body, `undefined` when there is none. */
  body: unknown;
  /**
   * The body as sent, `undefined` when there is none: for routes that must re-parse it with Python number
   * semantics (`parsePythonJson`), where JSON.parse would lose whether `1.0` was a float.
   */
  rawBody: string | undefined;
  requestId: string;
  /** The Lambda authorizer's context (`requestContext.authorizer.lambda`), absent when no authorizer ran. */
  authorizer: Record<string, unknown> | undefined;
}

export interface HttpResponse {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const json = (statusCode: number, body: unknown, headers?: Record<string, string>): HttpResponse => ({
  statusCode,
  body,
  ...(headers ? { headers } : {}),
});

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

interface Internal extends Record<string, unknown> {
  startedAt: number;
  route: RouteSpec | undefined;
}

let routeTable: Map<string, RouteSpec> | undefined;

/**
 * The registry entry of the event's route key (undefined for events that name none, as in-process tests send).
 * Imported on first use: the route modules import this one (through paging), and a static import would make the
 * order in which a function's modules load decide whether the registry is initialised yet.
 */
async function routeOf(event: Event): Promise<RouteSpec | undefined> {
  if (!routeTable) {
    const { routes } = await import('./routes/index.ts');
    routeTable = new Map(routes.map((route) => [`${route.method.toUpperCase()} ${route.path}`, route]));
  }
  return event.routeKey ? routeTable.get(normaliseRouteKey(event.routeKey)) : undefined;
}

/** Bytes of the body as sent (base64 is decoded length), without decoding it. */
function bodyBytes(event: Event): number {
  const body: unknown = event.body;
  if (typeof body !== 'string') return body == null ? 0 : Buffer.byteLength(JSON.stringify(body));
  return event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
}

/**
 * Before anything reads the body: refuses a body over HTTP_MAX_BODY_BYTES (413) and, when HTTP_GET_ALIASES=false,
 * the GET aliases that change state (405, naming the form to use).
 */
const routeGuard = (): MiddlewareObj<Event, Result, Error, Context, Internal> => ({
  name: 'dane-route-guard',
  before: async (request) => {
    const { http } = getConfig();
    const route = await routeOf(request.event);
    request.internal.route = route;
    const size = bodyBytes(request.event);
    if (size > http.maxBodyBytes) {
      throw new PayloadTooLargeError(
        `Request body of ${size} bytes is over the limit of ${http.maxBodyBytes} bytes (HTTP_MAX_BODY_BYTES)`,
      );
    }
    if (route?.stateChangingGet && !http.getAliases) {
      const form = route.stateChangingGet;
      throw new MethodNotAllowedError(
        `GET ${route.path} changes state and is switched off on this deployment (HTTP_GET_ALIASES=false); use ${form}`,
        form.split(' ')[0] ?? 'POST',
      );
    }
  },
});

const MAX_AUDIT_IDS = 100;

/** The ids a mutation names: its path parameters, its `docs` query, the ids its answer carries. */
function idsTouched(event: Event, response: Result | undefined): Record<string, unknown> {
  const ids: Record<string, unknown> = { ...(event.pathParameters ?? {}) };
  const query = new URLSearchParams(event.rawQueryString ?? '');
  const docs = ['docs', 'docs[]', 'doc', 'doc[]'].flatMap((name) => query.getAll(name));
  if (docs.length > 0) ids.docs = docs.slice(0, MAX_AUDIT_IDS);
  let body: unknown = response ? answeredBodies.get(response) : undefined;
  if (body === undefined) {
    try {
      body = response?.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
  }
  const items = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : [];
  // Documents and tasks answer with `_id`, API keys with `name` (never their `key`, nor any other field).
  const answered = items.flatMap((item) => {
    const { _id, name } = (item ?? {}) as { _id?: unknown; name?: unknown };
    return typeof _id === 'string' ? [_id] : typeof name === 'string' ? [name] : [];
  });
  if (answered.length > 0) {
    ids.answered = answered.slice(0, MAX_AUDIT_IDS);
    if (answered.length > MAX_AUDIT_IDS) ids.answeredTotal = answered.length;
  }
  return ids;
}

/**
 * One `audit` line per request to a route that changes state: who (the authorizer's principal; offline a client
 * can forge it with sls-offline-authorizer-override, on AWS only the authorizer writes it), which route, the ids
 * touched, the outcome. Never a credential or a body.
 */
function audit(request: { event: Event; internal: Internal }, status: number, response?: Result): void {
  const route = request.internal.route;
  if (!route || (route.method === 'get' && !route.stateChangingGet)) return;
  logger.info('audit', {
    principal: principalOf(request.event as never)?.name ?? 'unknown',
    route: `${route.method.toUpperCase()} ${route.path}`,
    ids: idsTouched(request.event, response),
    status,
    outcome: status < 400 ? 'done' : status < 500 ? 'refused' : 'failed',
  });
}

/** The raw body of each event being handled, kept by the body middleware for the handler. */
const rawBodies = new WeakMap<Event, string>();
/**
 * The value each result's body was written from, for the audit line: parsing the text back would cost as much as
 * writing it (tens of ms for the answer to a batch of 10,000).
 */
const answeredBodies = new WeakMap<Result, unknown>();

function toResult(response: HttpResponse): Result {
  const hasBody = response.body !== undefined;
  const result: Result = {
    statusCode: response.statusCode,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...response.headers,
    },
    body: hasBody ? JSON.stringify(response.body) : '',
  };
  if (hasBody && response.body !== null) answeredBodies.set(result, response.body);
  return result;
}

/**
 * The body as the client sent it. API Gateway always hands over text (base64 for binary). serverless-offline
 * hands over the value it parsed itself for a JSON content type when that value is falsy (`0`, `false`, `null`)
 * or a string (`"x"` arrives as `x`); its content-length still tells a JSON string from raw text, since a
 * string's JSON is at least two bytes longer than the string.
 */
function rawBodyOf(event: Event): string | undefined {
  const body: unknown = event.body;
  const length = Number(event.headers?.['content-length']);
  let text: string | undefined;
  if (typeof body === 'string') {
    text = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    // A string's JSON is at least two bytes longer: when the text is all that was sent (the usual case, and the
    // only one for large bodies), there is no need to encode a copy of it to find out.
    if (!event.isBase64Encoded && Buffer.byteLength(text) + 2 <= length) {
      const encoded = JSON.stringify(text);
      if (Buffer.byteLength(encoded) === length && !isJson(text)) text = encoded;
    }
  } else if (body === null || body === undefined) {
    text = length === 4 ? 'null' : undefined;
  } else {
    text = JSON.stringify(body);
  }
  return text === undefined || text.trim() === '' ? undefined : text;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * JSON bodies through @middy/http-json-body-parser, read whatever the Content-Type (the original did, and
 * existing clients rely on it), with the raw text kept for Python number semantics. A body that is not JSON is a
 * 400 naming the problem (the parser's own answer would be a 415).
 */
const jsonBody = (): MiddlewareObj<Event, Result, Error, Context, Internal> => {
  // The option exists in the package's code (index.js) but not in its type declarations.
  const parser = httpJsonBodyParser({ disableContentTypeCheck: true } as never) as MiddlewareObj<Event>;
  return {
    name: 'dane-json-body',
    before: async (request) => {
      const raw = rawBodyOf(request.event);
      if (raw === undefined) {
        request.event.body = undefined;
        return;
      }
      rawBodies.set(request.event, raw);
      request.event.body = raw;
      request.event.isBase64Encoded = false;
      try {
        await parser.before?.(request as never);
      } catch (error) {
        const reason = ((error as Error).cause as { message?: string } | undefined)?.message ?? 'malformed';
        throw new InvalidInputError(`Request body is not valid JSON: ${reason}`);
      }
    },
  };
};

const accessLog = (): MiddlewareObj<Event, Result, Error, Context, Internal> => ({
  name: 'dane-http',
  before: (request) => {
    request.internal.startedAt = Date.now();
  },
  after: (request) => {
    audit(request, request.response?.statusCode ?? 200, request.response ?? undefined);
    logger.info('request', {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: request.response?.statusCode,
      ms: Date.now() - request.internal.startedAt,
    });
  },
  onError: (request) => {
    const response = errorToResponse(request.error, request.context.awsRequestId);
    audit(request, response.statusCode);
    logger.info('request', {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: response.statusCode,
      ms: Date.now() - (request.internal.startedAt ?? Date.now()),
      error: response.statusCode >= 500 ? request.error?.message : response.body.message,
    });
    request.response = toResult(response);
  },
});

function requestFrom(event: Event, context: Context): HttpRequest {
  const rawBody = rawBodies.get(event);
  // API Gateway (and serverless-offline) hand over path parameters already percent-decoded; decoding again
  // would turn an id containing a literal `%41` into `A`.
  const pathParameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[key] = value;
  }
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    pathParameters,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers: event.headers ?? {},
    body: rawBody === undefined ? undefined : (event.body as unknown),
    rawBody,
    requestId: context.awsRequestId,
    authorizer: (event.requestContext as { authorizer?: { lambda?: Record<string, unknown> } } | undefined)
      ?.authorizer?.lambda,
  };
}

export function httpHandler(fn: (request: HttpRequest) => Promise<HttpResponse> | HttpResponse) {
  const stack = middy<Event, Result, Error, Context, Internal>()
    .use(httpHeaderNormalizer())
    .use(accessLog())
    .use(routeGuard())
    .use(jsonBody())
    .handler(async (event, context) => toResult(await fn(requestFrom(event, context))));
  return lambdaHandler<Event, Result>((event, context) => stack(event, context));
}
