import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface CallOptions {
  pathParameters?: Record<string, string>;
  query?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

let counter = 0;

/** Invokes an API function in-process with an HTTP API (payload 2.0) event, as API Gateway would. */
export async function call(handler: unknown, method: string, path: string, options: CallOptions = {}) {
  counter += 1;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const event = {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { 'content-type': 'application/json', ...options.headers },
    pathParameters: options.pathParameters,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `test-${counter}`,
    },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  const context = { awsRequestId: `test-${counter}`, getRemainingTimeInMillis: () => 30_000 } as Context;
  const result = await (handler as Handler)(event, context);
  const text = result.body ?? '';
  return {
    status: result.statusCode ?? 200,
    headers: result.headers ?? {},
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}
