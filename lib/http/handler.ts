import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { InvalidInputError } from '../errors.ts';
import { lambdaHandler } from '../invocation.ts';
import { logger } from '../log.ts';
import { errorToResponse } from './errors.ts';

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
}

/** The raw body of each event being handled, kept by the body middleware for the handler. */
const rawBodies = new WeakMap<Event, string>();

function toResult(response: HttpResponse): Result {
  const hasBody = response.body !== undefined;
  return {
    statusCode: response.statusCode,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...response.headers,
    },
    body: hasBody ? JSON.stringify(response.body) : '',
  };
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
    const encoded = JSON.stringify(text);
    if (!event.isBase64Encoded && Buffer.byteLength(encoded) === length && !isJson(text)) text = encoded;
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
    logger.info('request', {
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: request.response?.statusCode,
      ms: Date.now() - request.internal.startedAt,
    });
  },
  onError: (request) => {
    const response = errorToResponse(request.error, request.context.awsRequestId);
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
    .use(jsonBody())
    .handler(async (event, context) => toResult(await fn(requestFrom(event, context))));
  return lambdaHandler<Event, Result>((event, context) => stack(event, context));
}
