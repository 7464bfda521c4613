import type {
  Context,
  LambdaFunctionURLEvent,
  APIGatewayProxyStructuredResultV2 as LambdaFunctionURLResult,
} from 'aws-lambda';
import { keyVerifierFromConfig } from '../auth/keys.ts';
import { OpenSearchKeyStore } from '../auth/opensearch-key-store.ts';
import {
  anyWorkerCredential,
  configuredWorkerCredential,
  workerKeyCredential,
} from '../auth/worker-credentials.ts';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { createStoreClient } from '../store/client.ts';
import { storeForwarder } from './forward.ts';
import {
  type GatewayDeps,
  type GatewayHttpResponse,
  handleGatewayRequest,
  LAMBDA_PAYLOAD_LIMIT_BYTES,
  tooLarge,
} from './gateway.ts';

/**
 * The worker gateway as a Lambda behind a function URL (its own host, as the DANE library's client config has
 * no path prefix). Locally, localstack/worker-gateway.ts turns HTTP requests into the same events.
 */

/** Room left in the 6 MiB for the response envelope (status, headers, JSON escaping is measured exactly). */
const ENVELOPE_BYTES = 16 * 1024;

/** Content types a function URL carries as text; anything else travels base64-encoded. */
export const isTextContentType = (value: string | undefined) =>
  /^(application\/(json|x-ndjson|[\w.+-]*\+json)|text\/)/i.test(value ?? '');

export function requestFromEvent(event: LambdaFunctionURLEvent) {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body =
    event.body === undefined || event.body === null
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    method: event.requestContext.http.method,
    path: event.rawPath || '/',
    rawQuery: event.rawQueryString ?? '',
    headers,
    body,
  };
}

export function resultFromResponse(response: GatewayHttpResponse): LambdaFunctionURLResult {
  const text = isTextContentType(response.headers['content-type']);
  return {
    statusCode: response.status,
    headers: response.headers,
    body: text ? response.body.toString('utf8') : response.body.toString('base64'),
    isBase64Encoded: !text,
  };
}

/**
 * Builds the handler. Workers present a `worker`-scoped API key (basic auth: user = key name, password = key);
 * the configured credential (config.gateway.worker: locally the DANE library's default elastic/changeme unless
 * set, on a deployed stage only when set) is accepted too, so that unmodified workers with the library's default
 * keep working locally. Without a pepper on a deployed stage it fails at cold start, by name.
 * `opensearchUrl` points it at another OpenSearch than the configured one (tests of an outage).
 */
export function workerGatewayHandler(options: { opensearchUrl?: string } = {}) {
  const config = getConfig();
  const deps: Omit<GatewayDeps, 'log'> = {
    index: config.opensearch.index,
    anonymousRead: config.gateway.anonymousRead,
    checkWorker: anyWorkerCredential(
      workerKeyCredential(keyVerifierFromConfig(new OpenSearchKeyStore())),
      configuredWorkerCredential(config.gateway.worker),
    ),
    forward: storeForwarder({
      maxResponseBytes: LAMBDA_PAYLOAD_LIMIT_BYTES - ENVELOPE_BYTES,
      ...(options.opensearchUrl ? { client: createStoreClient(options.opensearchUrl) } : {}),
    }),
  };
  return async (event: LambdaFunctionURLEvent, context: Context): Promise<LambdaFunctionURLResult> => {
    const log = logger.child({ requestId: context.awsRequestId, component: 'worker-gateway' });
    const response = await handleGatewayRequest(requestFromEvent(event), { ...deps, log });
    const result = resultFromResponse(response);
    // JSON escaping of the body (quotes in a search answer) can push a response that fitted over the limit.
    const size = Buffer.byteLength(JSON.stringify(result));
    if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
      log.warn('gateway response over the Lambda payload limit', { status: response.status, size });
      return resultFromResponse(tooLarge('The response', size, LAMBDA_PAYLOAD_LIMIT_BYTES));
    }
    return result;
  };
}
