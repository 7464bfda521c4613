import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Client, errors } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { getConfig } from '../config.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';

/**
 * One OpenSearch client per warm container. The client keeps its own keep-alive pool, so it is created lazily
 * on first use and reused by later invocations; `resetStoreClient` drops it after a failure that suggests the
 * pool is broken, and the next call builds a fresh one.
 */
let client: Client | undefined;

export function createStoreClient(url = getConfig().opensearch.url): Client {
  const { username, password, requestTimeoutMs, auth, region } = getConfig().opensearch;
  const authentication =
    auth === 'sigv4'
      ? // Amazon OpenSearch Service with IAM access: requests are signed with the function role's credentials.
        AwsSigv4Signer({ region, service: 'es', getCredentials: defaultProvider() })
      : auth === 'basic'
        ? { auth: { username: username ?? '', password: password ?? '' } }
        : {};
  return new Client({
    node: url,
    ...authentication,
    requestTimeout: requestTimeoutMs,
    // Retries inside a request would multiply the latency of an outage; callers decide what to retry.
    maxRetries: 0,
  });
}

export function getStoreClient(): Client {
  client ??= createStoreClient();
  return client;
}

export async function resetStoreClient(): Promise<void> {
  const old = client;
  client = undefined;
  await old?.close().catch(() => undefined);
}

/** True for errors that mean "OpenSearch did not answer", as opposed to an answer we did not like. */
export function isUnavailable(error: unknown): boolean {
  return (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    (error instanceof errors.ResponseError && [502, 503, 504].includes(error.meta.statusCode ?? 0))
  );
}

/**
 * Runs a store operation and turns an outage into a DependencyUnavailableError (a 503 for the API). Other errors
 * pass through unchanged, so that conflicts and not-founds can be handled by the caller.
 */
export async function withStore<T>(operation: string, fn: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await fn(getStoreClient());
  } catch (error) {
    if (isUnavailable(error)) {
      logger.error('OpenSearch unavailable', { operation, error });
      if (error instanceof errors.ConnectionError) await resetStoreClient();
      throw new DependencyUnavailableError(
        'database',
        'The database (OpenSearch) is unavailable; try again later',
        error,
      );
    }
    throw error;
  }
}
