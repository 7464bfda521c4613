import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKey } from '../../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import type { Scope } from '../../lib/auth/scopes.ts';
import { LOCAL_DEVELOPMENT_PEPPER } from '../../lib/config.ts';

/**
 * Runs the API the way `npm start` does: `serverless offline start` (serverless-offline 14, handlers bundled by
 * serverless-esbuild) plus, when it exists, localstack/emulate-events.ts (the local stand-in for the Amazon MQ
 * event source) and localstack/worker-gateway.ts (the worker gateway's function URL). Each runs in its own
 * process group, so stopping one stops everything it spawned.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface OfflineOptions {
  /** HTTP port; the Lambda invoke endpoint listens on port + 1. Default: a free pair. */
  port?: number;
  /** Extra environment for both processes (wins over the defaults below). */
  env?: Record<string, string>;
  /** Start localstack/emulate-events.ts when it exists (default true). */
  emulateEvents?: boolean;
  /** How long to wait for `GET /health` (the first start bundles every function). Default 120 s. */
  readyTimeoutMs?: number;
  /** Called with every chunk of output as it arrives (`offline` or `events`), e.g. to watch function logs. */
  onOutput?: (name: string, chunk: string) => void;
}

/** A key made for one run: its name and the whole key (the Bearer token, the Basic password). */
export interface TestKey {
  name: string;
  key: string;
  /** `Bearer <key>`: what the test API client sends. */
  authorization: string;
}

export interface Offline {
  baseUrl: string;
  /** serverless-offline's Lambda invoke endpoint (for `@aws-sdk/client-lambda`'s `endpoint`). */
  lambdaEndpoint: string;
  /** The worker gateway (Elasticsearch-compatible endpoint for DANE workers), on a free port of its own. */
  gatewayUrl: string;
  /**
   * Keys made in the run's key index before the start (auth is on, as with `npm start`): `admin` for the test
   * API client, `worker` for the Python workers' gateway credential.
   */
  keys: { admin: TestKey; worker: TestKey };
  /** The run's API key index (AUTH_KEYS_INDEX of the server). */
  keyIndex: string;
  /** Makes one more key in the run's key index (e.g. one without a route's scope). */
  createKey(prefix: string, scopes: Scope[]): Promise<TestKey>;
  /** Combined stdout/stderr of the processes so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  done: boolean;
}

const groups = new Set<Managed>();
process.on('exit', () => {
  for (const managed of groups) killGroup(managed, 'SIGKILL');
});

function killGroup(managed: Managed, signal: NodeJS.Signals) {
  if (managed.done || managed.child.pid === undefined) return;
  try {
    process.kill(-managed.child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopGroup(managed: Managed) {
  killGroup(managed, 'SIGTERM');
  const timer = setTimeout(() => killGroup(managed, 'SIGKILL'), 10_000);
  await managed.exited;
  clearTimeout(timer);
  // The leader is gone; make sure nothing it spawned outlives it.
  killGroup({ ...managed, done: false }, 'SIGKILL');
  groups.delete(managed);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer()
      .once('error', () => resolvePort(false))
      .once('listening', () => server.close(() => resolvePort(true)))
      .listen(port, '127.0.0.1');
  });
}

/** Ports handed out by this process: free until the server that was given them binds them. */
const handedOut = new Set<number>();

/**
 * The first port of the kernel's ephemeral range (from which outgoing connections take their local port). Ports
 * for servers are chosen below it: a port in it that is free now can be taken, before the server binds it, by any
 * outgoing connection, e.g. the gateway adapter's own attempts to reach the Lambda endpoint not yet listening (a
 * CI run failed so with EADDRINUSE).
 */
function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (Number.isInteger(first) && first > 12_000) return first;
  } catch {
    // not Linux: the IANA ephemeral range
  }
  return 49_152;
}

/**
 * A port `p` such that `p` .. `p + count - 1` are all free: at random from 10,000 up to the ephemeral range, or,
 * with `TEST_PORTS=5600-5619` (a machine shared by several people's runs), the first free ones in that range.
 */
export async function freePorts(count: number): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.TEST_PORTS ?? '');
  const span = ephemeralStart() - 10_000 - count;
  const candidates = range
    ? Array.from({ length: Number(range[2]) - Number(range[1]) - count + 2 }, (_, i) => Number(range[1]) + i)
    : Array.from({ length: 50 }, () => 10_000 + Math.floor(Math.random() * span));
  for (const port of candidates) {
    let free = true;
    for (let i = 0; i < count && free; i += 1)
      free = !handedOut.has(port + i) && (await portIsFree(port + i));
    if (!free) continue;
    for (let i = 0; i < count; i += 1) handedOut.add(port + i);
    return port;
  }
  throw new Error(`No ${count} free consecutive ports found for serverless-offline`);
}

/** The run's worker key as the Python workers present it to the gateway: user = key name, password = key. */
export const workerCredential = (offline: Offline) => ({
  username: offline.keys.worker.name,
  password: offline.keys.worker.key,
});

export async function startOffline(options: OfflineOptions = {}): Promise<Offline> {
  const index = process.env.DANE_INDEX ?? 'dane-test-index';
  const keysIndex = options.env?.AUTH_KEYS_INDEX ?? process.env.AUTH_KEYS_INDEX ?? `${index}-auth-keys`;
  // Names are never reused, so every run makes its own; the run's server and this process share index and pepper.
  const store = new OpenSearchKeyStore(keysIndex, 0);
  const pepper = options.env?.AUTH_KEY_PEPPER || process.env.AUTH_KEY_PEPPER || LOCAL_DEVELOPMENT_PEPPER;
  const run = Math.random().toString(36).slice(2, 10);
  const makeKey = async (prefix: string, scopes: Scope[]): Promise<TestKey> => {
    const { info, key } = await createKey(store, pepper, { name: `${prefix}-${run}`, scopes });
    return { name: info.name, key, authorization: `Bearer ${key}` };
  };
  const keys = {
    admin: await makeKey('e2e-admin', ['admin']),
    worker: await makeKey('e2e-worker', ['worker']),
  };

  // A port checked free can still be bound by another test process before our server binds it; such a start
  // fails with EADDRINUSE and is tried again on other ports (never when the caller chose the port).
  for (let attempt = 1; ; attempt += 1) {
    try {
      const started = await launchAll(options, index, keysIndex);
      return { ...started, keys, keyIndex: store.index, createKey: makeKey };
    } catch (error) {
      const addressInUse = (error as { addressInUse?: boolean }).addressInUse === true;
      if (options.port !== undefined || attempt === 3 || !addressInUse) throw error;
    }
  }
}

type Launched = Pick<Offline, 'baseUrl' | 'lambdaEndpoint' | 'gatewayUrl' | 'output' | 'stop'>;

async function launchAll(options: OfflineOptions, index: string, keysIndex: string): Promise<Launched> {
  const port = options.port ?? (await freePorts(2));
  const lambdaPort = port + 1;
  const baseUrl = `http://127.0.0.1:${port}`;
  const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`;
  const gatewayPort = await freePorts(1);
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DANE_INDEX: index,
    AUTH_KEYS_INDEX: keysIndex,
    // The AWS SDK refuses to sign without credentials, even against serverless-offline.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: process.env.AWS_REGION ?? 'eu-west-1',
    LAMBDA_ENDPOINT: lambdaEndpoint,
    GATEWAY_PORT: String(gatewayPort),
    ...options.env,
  };

  let output = '';
  const started: Managed[] = [];
  const launch = (name: string, command: string, args: string[]) => {
    const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (chunk: Buffer) => {
      options.onOutput?.(name, chunk.toString());
      output += chunk
        .toString()
        .split('\n')
        .map((line) => (line === '' ? line : `[${name}] ${line}`))
        .join('\n');
      if (output.length > 400_000) output = output.slice(-200_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const managed: Managed = {
      name,
      child,
      done: false,
      exited: new Promise((resolveExit) => {
        child.on('exit', () => {
          managed.done = true;
          resolveExit();
        });
        child.on('error', (error) => {
          append(Buffer.from(`spawn failed: ${error.message}\n`));
          managed.done = true;
          resolveExit();
        });
      }),
    };
    groups.add(managed);
    started.push(managed);
    return managed;
  };

  const stop = async () => {
    await Promise.all(started.map(stopGroup));
    for (const used of [port, lambdaPort, gatewayPort]) handedOut.delete(used);
  };

  launch('offline', join(root, 'node_modules/.bin/serverless'), [
    'offline',
    'start',
    '--httpPort',
    String(port),
    '--lambdaPort',
    String(lambdaPort),
  ]);
  const emulator = join(root, 'localstack/emulate-events.ts');
  if ((options.emulateEvents ?? true) && existsSync(emulator)) {
    launch('events', join(root, 'node_modules/.bin/tsx'), [emulator]);
  }
  launch('gateway', join(root, 'node_modules/.bin/tsx'), [join(root, 'localstack/worker-gateway.ts')]);

  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      const dead = started.find((managed) => managed.done);
      if (dead) throw new Error(`${dead.name} exited before /health answered`);
      if (Date.now() > deadline)
        throw new Error(`GET ${baseUrl}/health did not answer 200 in ${readyTimeoutMs} ms`);
      const status = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.status,
        () => 0,
      );
      // Any answer from the gateway adapter means it listens (it invokes the function per request).
      const gateway = await fetch(`${gatewayUrl}/`, {
        method: 'HEAD',
        signal: AbortSignal.timeout(2_000),
      }).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200 && gateway !== 0) break;
      await new Promise((wait) => setTimeout(wait, 250));
    }
  } catch (error) {
    await stop();
    throw Object.assign(
      new Error(`serverless offline: ${(error as Error).message}. Output:\n${output.slice(-6000)}`),
      { addressInUse: output.includes('EADDRINUSE') },
    );
  }

  return { baseUrl, lambdaEndpoint, gatewayUrl, output: () => output, stop };
}
