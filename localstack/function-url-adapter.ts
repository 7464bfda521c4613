import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  LambdaFunctionURLEvent,
  APIGatewayProxyStructuredResultV2 as LambdaFunctionURLResult,
} from 'aws-lambda';
import { isTextContentType } from '../lib/gateway/function-url.ts';
import { LAMBDA_PAYLOAD_LIMIT_BYTES, tooLarge } from '../lib/gateway/gateway.ts';
import type { Logger } from '../lib/log.ts';

/**
 * A Lambda function URL, offline: an HTTP server that turns each request into a function-URL event (payload
 * 2.0), hands it to `invoke`, and writes the function's result back. Like Lambda, it refuses a request body over
 * the 6 MiB payload limit before invoking anything. localstack/worker-gateway.ts invokes through
 * serverless-offline; tests may invoke the handler in their own process.
 */

export type Invoke = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;

export interface FunctionUrlServer {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, method: string, result: LambdaFunctionURLResult) {
  const status = result.statusCode ?? 200;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(status, { ...result.headers, 'content-length': String(body.length) });
  res.end(method === 'HEAD' ? undefined : body);
}

export const failure = (reason: string): LambdaFunctionURLResult => ({
  statusCode: 502,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: reason }),
});

function toEvent(req: IncomingMessage, body: Buffer, host: string, port: number): LambdaFunctionURLEvent {
  const url = new URL(req.url ?? '/', `http://${host}:${port}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const text = isTextContentType(headers['content-type']);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: `${host}:${port}`,
      domainPrefix: host,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0
      ? { body: body.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
}

export function serveFunctionUrl(options: {
  port: number;
  host?: string;
  invoke: Invoke;
  log: Logger;
}): Promise<FunctionUrlServer> {
  const host = options.host ?? '127.0.0.1';
  const { invoke, log } = options;
  let port = options.port;
  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
        if (!refused) {
          refused = true;
          const response = tooLarge('The request body', undefined, LAMBDA_PAYLOAD_LIMIT_BYTES);
          res.writeHead(413, { ...response.headers, connection: 'close' });
          res.end(response.body, () => req.destroy());
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      invoke(toEvent(req, Buffer.concat(chunks), host, port)).then(
        (result) => send(res, method, result),
        (error: unknown) => {
          log.error('adapter error', { error });
          send(res, method, failure('Internal error in the local gateway adapter'));
        },
      );
    });
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      port = (server.address() as AddressInfo).port;
      resolveListen({
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((resolveClose) => {
            server.closeAllConnections();
            server.close(() => resolveClose());
          }),
      });
    });
  });
}
