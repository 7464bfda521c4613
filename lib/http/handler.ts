import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ZodError } from 'zod';
import { type Logger, logger } from '../log.ts';
import { BadRequestError, HttpError, ServiceUnavailableError } from './errors.ts';

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
  log: Logger;
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
  log: Logger;
  startedAt: number;
}

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

/** `Invalid <field>: <problem>` for the first issue: every 400 names the field at fault. */
export function zodMessage(error: ZodError): string {
  const first = error.issues[0];
  if (!first) return 'Invalid request';
  const where = first.path.length > 0 ? first.path.join('.') : 'body';
  return `Invalid ${where}: ${first.message}`;
}

/** Maps any thrown value to a response. 5xx bodies never carry internals; the log has them. */
export function errorToResponse(error: unknown, requestId: string, log: Logger): HttpResponse {
  if (error instanceof ZodError) {
    return json(400, {
      message: zodMessage(error),
      errors: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  if (error instanceof ServiceUnavailableError) {
    return json(
      503,
      { message: error.message, dependency: error.dependency, requestId },
      { 'retry-after': '5' },
    );
  }
  if (error instanceof HttpError) {
    return json(error.statusCode, {
      message: error.message,
      ...(error.details !== undefined ? { errors: error.details } : {}),
    });
  }
  log.error('Unhandled error', { error });
  return json(500, { message: 'Internal server error', requestId });
}

function rawBodyOf(event: Event): string | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return text.trim() === '' ? undefined : text;
}

function parseBody(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  // The original parsed the raw body as JSON whatever the content type; existing clients rely on that.
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`Request body is not valid JSON: ${(error as Error).message}`);
  }
}

function requestFrom(event: Event, context: Context, log: Logger): HttpRequest {
  // API Gateway (and serverless-offline) hand over path parameters already percent-decoded; decoding again
  // would turn an id containing a literal `%41` into `A`.
  const pathParameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[key] = value;
  }
  const rawBody = rawBodyOf(event);
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    pathParameters,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers: event.headers ?? {},
    body: parseBody(rawBody),
    rawBody,
    requestId: context.awsRequestId,
    log,
  };
}

const stack = (): MiddlewareObj<Event, Result, Error, Context, Internal> => ({
  name: 'dane-http',
  before: (request) => {
    request.internal.startedAt = Date.now();
    request.internal.log = logger.child({
      requestId: request.context.awsRequestId,
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
    });
  },
  after: (request) => {
    request.internal.log?.info('request', {
      status: request.response?.statusCode,
      ms: Date.now() - request.internal.startedAt,
    });
  },
  onError: (request) => {
    const log = request.internal.log ?? logger.child({ requestId: request.context.awsRequestId });
    const response = errorToResponse(request.error, request.context.awsRequestId, log);
    log.info('request', {
      status: response.statusCode,
      ms: Date.now() - (request.internal.startedAt ?? Date.now()),
      error:
        response.statusCode >= 500 ? request.error?.message : (response.body as { message?: string }).message,
    });
    request.response = toResult(response);
  },
});

export function httpHandler(fn: (request: HttpRequest) => Promise<HttpResponse> | HttpResponse) {
  return middy<Event, Result, Error, Context, Internal>()
    .use(httpHeaderNormalizer())
    .use(stack())
    .handler(async (event, context) => {
      const log = logger.child({ requestId: context.awsRequestId, path: event.rawPath });
      return toResult(await fn(requestFrom(event, context, log)));
    });
}
