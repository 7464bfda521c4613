import { z } from 'zod';

/**
 * The only reader of `process.env`. Every setting has a local default so that `npm start` works on a fresh
 * machine; production sets them in serverless.yml. A malformed value fails at cold start, naming the variable.
 */

const intFrom = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}`,
  );

const name = z.string().regex(/^[A-Za-z0-9._-]+$/, 'may only hold letters, digits, ".", "_" and "-"');

const EnvSchema = z.object({
  DANE_STAGE: name.default('local'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  OPENSEARCH_URL: url(['http:', 'https:']).default('http://127.0.0.1:9200'),
  OPENSEARCH_USERNAME: z.string().optional(),
  OPENSEARCH_PASSWORD: z.string().optional(),
  OPENSEARCH_AUTH: z.enum(['none', 'basic', 'sigv4']).optional(),
  AWS_REGION: z.string().min(1).default('eu-west-1'),
  OPENSEARCH_REQUEST_TIMEOUT_MS: intFrom(100, 600_000).default(10_000),
  DANE_INDEX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a lowercase OpenSearch index name')
    .default('dane-index'),
  DANE_INDEX_REPLICAS: intFrom(0, 10).default(1),
  AMQP_URL: url(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
  AMQP_CONNECT_TIMEOUT_MS: intFrom(100, 120_000).default(5_000),
  DANE_EXCHANGE: name.default('DANE-exchange'),
  DANE_RESPONSE_QUEUE: name.default('DANE-response-queue'),
  RABBITMQ_MANAGEMENT_URL: z
    .union([z.literal(''), url(['http:', 'https:'])])
    .default('http://127.0.0.1:15672'),
  READY_TIMEOUT_MS: intFrom(100, 60_000).default(3_000),
  LAMBDA_ENDPOINT: z.union([z.literal(''), url(['http:', 'https:'])]).default(''),
  PUBLISH_FUNCTION_NAME: z.string().min(1).default('dane-server-local-publishTasks'),
  INLINE_PUBLISH_LIMIT: intFrom(0, 10_000).default(10_000),
  TASK_LEASE_MS: intFrom(1_000, 7 * 24 * 3_600_000).default(6 * 3_600_000),
  TASK_LEASES: z
    .string()
    .regex(/^([A-Za-z0-9_-]+=\d+)(,[A-Za-z0-9_-]+=\d+)*$/, 'must look like ASR=43200000,DOWNLOAD=600000')
    .optional(),
  CREATED_GRACE_MS: intFrom(0, 24 * 3_600_000).default(120_000),
  RETRY_MAX_ATTEMPTS: intFrom(0, 100).default(5),
  RETRY_BASE_MS: intFrom(100, 24 * 3_600_000).default(60_000),
  RETRY_MAX_MS: intFrom(100, 7 * 24 * 3_600_000).default(3_600_000),
  // --- auth (lib/auth) ---
  AUTH_MODE: z.enum(['keys', 'none']).default('keys'),
  AUTH_KEYS_INDEX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a lowercase OpenSearch index name')
    .default('dane-auth-keys'),
  AUTH_KEY_PEPPER: z.string().min(32, 'must be at least 32 characters').optional(),
  // The name of the Secrets Manager secret holding the pepper (deployed stages): read at cold start.
  AUTH_KEY_PEPPER_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'must be a Secrets Manager secret name like dane/prod/auth-key-pepper')
    .optional(),
  // The state-changing GET aliases of 0.2.2 (/task/{id}/retry, /document/{id}/delete, ...): `false` answers 405.
  HTTP_GET_ALIASES: z.enum(['true', 'false']).default('true'),
  // Request bodies above this many bytes answer 413 before parsing (API Gateway's own limit is 10 MB).
  HTTP_MAX_BODY_BYTES: intFrom(1_024, 10 * 1024 * 1024).default(6 * 1024 * 1024),
  AUTH_KEY_CACHE_MS: intFrom(0, 60_000).default(0),
  AUTH_LAST_USED_INTERVAL_MS: intFrom(1_000, 24 * 3_600_000).default(60_000),
  AUTH_OIDC_ISSUER: z.string().min(1).optional(),
  AUTH_OIDC_AUDIENCE: z.string().min(1).optional(),
  AUTH_OIDC_JWKS_URL: url(['http:', 'https:']).optional(),
  AUTH_OIDC_SCOPES_CLAIM: z.string().min(1).default('scope'),
  AUTH_OIDC_SCOPE_PREFIX: z.string().default(''),
  AUTH_OIDC_NAME_CLAIM: z.string().min(1).default('sub'),
  // The worker gateway (lib/gateway): an Elasticsearch-compatible endpoint for unmodified DANE workers.
  GATEWAY_WORKER_USERNAME: z.string().min(1).optional(),
  GATEWAY_WORKER_PASSWORD: z.string().min(1).optional(),
  GATEWAY_ANONYMOUS_READ: z.enum(['true', 'false']).optional(),
  GATEWAY_PORT: intFrom(1, 65_535).default(9201),
});

export interface Config {
  stage: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  opensearch: {
    url: string;
    username: string | undefined;
    password: string | undefined;
    /** basic: OPENSEARCH_USERNAME/PASSWORD; sigv4: the function's IAM role (Amazon OpenSearch Service). */
    auth: 'none' | 'basic' | 'sigv4';
    region: string;
    requestTimeoutMs: number;
    index: string;
    replicas: number;
  };
  amqp: {
    url: string;
    connectTimeoutMs: number;
    exchange: string;
    responseQueue: string;
    managementUrl: string | undefined;
  };
  readyTimeoutMs: number;
  publishing: {
    /** serverless-offline's invoke endpoint locally; empty on AWS (the SDK finds Lambda itself). */
    lambdaEndpoint: string | undefined;
    functionName: string;
    /** Batches up to this size are published inside the request; larger ones by the async function. */
    inlineLimit: number;
  };
  tasks: {
    /** How long a queued task may stay at 102 before the sweep republishes it, per task key. */
    leaseMs: (key: string) => number;
    /** How long a 201/205 task may wait for its publisher before the sweep publishes it. */
    createdGraceMs: number;
    retry: { maxAttempts: number; baseMs: number; maxMs: number };
  };
  http: {
    /** The state-changing GET aliases answer (true) or 405 (false). */
    getAliases: boolean;
    maxBodyBytes: number;
  };
  auth: {
    /** `none` lets every request through: for local experiments only. */
    mode: 'keys' | 'none';
    /** Our own small index of hashed API keys; never the DANE index. */
    keysIndex: string;
    /** The HMAC key of the stored key hashes; a fixed development value on stage `local` when unset. */
    pepper: string | undefined;
    /** Where a deployed stage keeps the pepper instead (the name of a Secrets Manager secret). */
    pepperSecret: string | undefined;
    /** How long a verified key record may be reused without reading the store: the bound on revocation. */
    keyCacheMs: number;
    /** At most one `lastUsedAt` write per key and container in this interval. */
    lastUsedIntervalMs: number;
    /** OIDC bearer tokens, accepted only when an issuer is configured. */
    oidc:
      | {
          issuer: string;
          audience: string;
          jwksUrl: string;
          scopesClaim: string;
          /** Claim values are our scope names after this prefix is removed, e.g. `dane:` in `dane:read`. */
          scopePrefix: string;
          nameClaim: string;
        }
      | undefined;
  };
  gateway: {
    /**
     * The basic-auth credential DANE workers present. Locally the DANE library's own default (elastic /
     * changeme) unless set; on any other stage undefined unless set, and the gateway refuses to start.
     */
    worker: { username: string; password: string } | undefined;
    /** Unauthenticated search/count/get/mget on the DANE index (dane-workflows sends no credentials). */
    anonymousRead: boolean;
    /** Local only: the port the function-URL adapter (localstack/worker-gateway.ts) listens on. */
    localPort: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Every variable the configuration reads; serverless.yml forwards each one (a unit test holds them equal). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/** Parses an environment; pure, so tests can feed it any record. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty string means "not set" for every optional variable: that is how serverless.yml renders a
  // missing `${env:...}` and how most shells clear a value.
  const present = Object.fromEntries(
    Object.keys(EnvSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(
        ([key, value]) =>
          value !== undefined &&
          (value !== '' || key === 'RABBITMQ_MANAGEMENT_URL' || key === 'LAMBDA_ENDPOINT'),
      ),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`Invalid configuration: ${details}`);
  }
  const e = parsed.data;
  const leases = new Map(
    (e.TASK_LEASES ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const [key = '', ms = '0'] = pair.split('=');
        return [key.toUpperCase(), Number(ms)] as const;
      }),
  );
  return {
    stage: e.DANE_STAGE,
    logLevel: e.LOG_LEVEL,
    opensearch: {
      url: e.OPENSEARCH_URL,
      username: e.OPENSEARCH_USERNAME,
      password: e.OPENSEARCH_PASSWORD,
      auth: e.OPENSEARCH_AUTH ?? (e.OPENSEARCH_USERNAME !== undefined ? 'basic' : 'none'),
      region: e.AWS_REGION,
      requestTimeoutMs: e.OPENSEARCH_REQUEST_TIMEOUT_MS,
      index: e.DANE_INDEX,
      replicas: e.DANE_INDEX_REPLICAS,
    },
    amqp: {
      url: e.AMQP_URL,
      connectTimeoutMs: e.AMQP_CONNECT_TIMEOUT_MS,
      exchange: e.DANE_EXCHANGE,
      responseQueue: e.DANE_RESPONSE_QUEUE,
      managementUrl: e.RABBITMQ_MANAGEMENT_URL === '' ? undefined : e.RABBITMQ_MANAGEMENT_URL,
    },
    readyTimeoutMs: e.READY_TIMEOUT_MS,
    publishing: {
      lambdaEndpoint: e.LAMBDA_ENDPOINT === '' ? undefined : e.LAMBDA_ENDPOINT,
      functionName: e.PUBLISH_FUNCTION_NAME,
      inlineLimit: e.INLINE_PUBLISH_LIMIT,
    },
    tasks: {
      leaseMs: (key) => leases.get(key.toUpperCase()) ?? e.TASK_LEASE_MS,
      createdGraceMs: e.CREATED_GRACE_MS,
      retry: { maxAttempts: e.RETRY_MAX_ATTEMPTS, baseMs: e.RETRY_BASE_MS, maxMs: e.RETRY_MAX_MS },
    },
    http: { getAliases: e.HTTP_GET_ALIASES === 'true', maxBodyBytes: e.HTTP_MAX_BODY_BYTES },
    auth: parseAuth(e),
    gateway: gatewayConfig(e),
  };
}

/** Used as the pepper on stage `local` only, so that `npm start` needs no secret; never on a deployed stage. */
export const LOCAL_DEVELOPMENT_PEPPER = 'dane-local-development-pepper-not-a-secret';

function parseAuth(e: z.output<typeof EnvSchema>): Config['auth'] {
  if (e.AUTH_KEYS_INDEX === e.DANE_INDEX) {
    throw new ConfigError('Invalid configuration: AUTH_KEYS_INDEX: must differ from DANE_INDEX');
  }
  const { AUTH_OIDC_ISSUER: issuer, AUTH_OIDC_AUDIENCE: audience, AUTH_OIDC_JWKS_URL: jwksUrl } = e;
  const oidc =
    issuer !== undefined && audience !== undefined && jwksUrl !== undefined
      ? {
          issuer,
          audience,
          jwksUrl,
          scopesClaim: e.AUTH_OIDC_SCOPES_CLAIM,
          scopePrefix: e.AUTH_OIDC_SCOPE_PREFIX,
          nameClaim: e.AUTH_OIDC_NAME_CLAIM,
        }
      : undefined;
  if (!oidc && [issuer, audience, jwksUrl].some((value) => value !== undefined)) {
    throw new ConfigError(
      'Invalid configuration: AUTH_OIDC_ISSUER, AUTH_OIDC_AUDIENCE and AUTH_OIDC_JWKS_URL must be set together',
    );
  }
  if (e.AUTH_MODE === 'none' && e.DANE_STAGE !== 'local') {
    throw new ConfigError(
      `Invalid configuration: AUTH_MODE=none is for local experiments only, not for stage ${e.DANE_STAGE}`,
    );
  }
  return {
    mode: e.AUTH_MODE,
    keysIndex: e.AUTH_KEYS_INDEX,
    pepper:
      e.AUTH_KEY_PEPPER ??
      (e.DANE_STAGE === 'local' && e.AUTH_KEY_PEPPER_SECRET === undefined
        ? LOCAL_DEVELOPMENT_PEPPER
        : undefined),
    pepperSecret: e.AUTH_KEY_PEPPER_SECRET,
    keyCacheMs: e.AUTH_KEY_CACHE_MS,
    lastUsedIntervalMs: e.AUTH_LAST_USED_INTERVAL_MS,
    oidc,
  };
}

function gatewayConfig(e: z.output<typeof EnvSchema>): Config['gateway'] {
  const local = e.DANE_STAGE === 'local';
  const username = e.GATEWAY_WORKER_USERNAME ?? (local ? 'elastic' : undefined);
  const password = e.GATEWAY_WORKER_PASSWORD ?? (local ? 'changeme' : undefined);
  return {
    worker: username !== undefined && password !== undefined ? { username, password } : undefined,
    anonymousRead: e.GATEWAY_ANONYMOUS_READ === undefined ? local : e.GATEWAY_ANONYMOUS_READ === 'true',
    localPort: e.GATEWAY_PORT,
  };
}

let cached: Config | undefined;

/** The configuration of this process, read once. */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
