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
  INLINE_PUBLISH_LIMIT: intFrom(0, 10_000).default(100),
  TASK_LEASE_MS: intFrom(1_000, 7 * 24 * 3_600_000).default(6 * 3_600_000),
  TASK_LEASES: z
    .string()
    .regex(/^([A-Za-z0-9_-]+=\d+)(,[A-Za-z0-9_-]+=\d+)*$/, 'must look like ASR=43200000,DOWNLOAD=600000')
    .optional(),
  CREATED_GRACE_MS: intFrom(0, 24 * 3_600_000).default(120_000),
  RETRY_MAX_ATTEMPTS: intFrom(0, 100).default(5),
  RETRY_BASE_MS: intFrom(100, 24 * 3_600_000).default(60_000),
  RETRY_MAX_MS: intFrom(100, 7 * 24 * 3_600_000).default(3_600_000),
  // The worker gateway (lib/gateway): an Elasticsearch-compatible endpoint for unmodified DANE workers.
  GATEWAY_WORKER_USERNAME: z.string().min(1).optional(),
  GATEWAY_WORKER_PASSWORD: z.string().min(1).optional(),
  GATEWAY_ANONYMOUS_READ: z.enum(['true', 'false']).optional(),
  GATEWAY_PORT: intFrom(1, 65_535).default(9201),
});

export type Env = z.input<typeof EnvSchema>;

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
    gateway: gatewayConfig(e),
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
