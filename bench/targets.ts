import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOffline } from '../test/support/offline.ts';
import { childrenMatching, now, progress, sleep, waitFor } from './lib.ts';

/** A server under test: where its API answers, which index, exchange and response queue it uses. */
export interface Target {
  name: 'ours' | 'original';
  baseUrl: string;
  /** Headers every API request sends: ours has auth on (an admin key made for the run), the original none. */
  headers: Record<string, string>;
  index: string;
  exchange: string;
  responseQueue: string;
  /** Process groups to sample for memory, by name. */
  processes(): Map<string, number[]>;
  /** Invokes a function by name (ours only: the sweep). */
  lambdaEndpoint?: string;
  /**
   * Ours: how many replies the replies function has finished handling (its "Replies handled" log lines) and when
   * the last of them arrived. Reply states are stored before the follow-up work (fan-out to siblings): a batch is
   * only done when its invocation is.
   */
  repliesHandled?: () => { total: number; at: number };
  stop(): Promise<void>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Services {
  opensearchUrl: string;
  amqpUrl: string;
}

export interface OursOptions extends Services {
  index: string;
  port: number;
  /** The emulator's batch size and window; unset: its defaults (those of serverless.yml). */
  eventBatchSize?: number | undefined;
  eventWindowMs?: number | undefined;
}

/** Ours, as `npm start` runs it: serverless-offline (every function) plus the local event source emulator. */
export async function startOurs(options: OursOptions): Promise<Target> {
  // Names of our own on a shared broker (as for the index): the run deletes its response queue first.
  const exchange = process.env.DANE_EXCHANGE ?? 'DANE-exchange';
  const responseQueue = process.env.DANE_RESPONSE_QUEUE ?? 'DANE-response-queue';
  const env: Record<string, string> = {
    OPENSEARCH_URL: options.opensearchUrl,
    AMQP_URL: options.amqpUrl,
    DANE_INDEX: options.index,
    DANE_INDEX_REPLICAS: '0',
    DANE_EXCHANGE: exchange,
    DANE_RESPONSE_QUEUE: responseQueue,
    // The sweep is measured on its own; a scheduled run in the middle of another workload would blur it.
    SWEEP_ENABLED: 'false',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  if (options.eventBatchSize !== undefined) env.EMULATE_BATCH_SIZE = String(options.eventBatchSize);
  if (options.eventWindowMs !== undefined) env.EMULATE_WINDOW_MS = String(options.eventWindowMs);
  progress(`ours: starting serverless-offline on port ${options.port} (index ${options.index})`);
  const handled = { total: 0, at: 0 };
  let partial = '';
  const offline = await startOffline({
    port: options.port,
    env,
    readyTimeoutMs: 240_000,
    onOutput: (name, chunk) => {
      if (name !== 'offline') return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"Replies handled"')) continue;
        const total = /"total":(\d+)/.exec(line)?.[1];
        if (total === undefined) continue;
        handled.total += Number(total);
        handled.at = now();
      }
    },
  });
  return {
    name: 'ours',
    baseUrl: offline.baseUrl,
    headers: { authorization: offline.keys.admin.authorization },
    index: options.index,
    exchange,
    responseQueue,
    lambdaEndpoint: offline.lambdaEndpoint,
    repliesHandled: () => ({ ...handled }),
    processes: () =>
      new Map([
        ['functions', childrenMatching(/serverless offline/)],
        ['event emulator', childrenMatching(/emulate-events/)],
      ]),
    stop: async () => {
      await offline.stop();
      // The functions' own log lines (the last few hundred kB), for looking into a surprising figure.
      if (process.env.BENCH_OFFLINE_LOG) writeFileSync(process.env.BENCH_OFFLINE_LOG, offline.output());
    },
  };
}

export interface OriginalOptions extends Services {
  index: string;
  port: number;
}

/**
 * The original DANE-server 0.3.1 from PyPI, in bench/original/.venv: its API process and its server process
 * (reply listener + task scheduler), with their own index, exchange and response queue (see launch.py).
 */
export async function startOriginal(options: OriginalOptions): Promise<Target> {
  const setup = spawnSync('bash', [join(root, 'bench/original/setup.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) throw new Error('bench/original/setup.sh failed');
  const workdir = mkdtempSync(join(tmpdir(), 'dane-original-'));
  const exchange = 'DANE-bench-original-exchange';
  const responseQueue = 'DANE-bench-original-response-queue';
  const env = {
    ...process.env,
    ORIG_WORKDIR: workdir,
    ORIG_ES_URL: options.opensearchUrl,
    ORIG_INDEX: options.index,
    ORIG_AMQP_URL: options.amqpUrl,
    ORIG_EXCHANGE: exchange,
    ORIG_RESPONSE_QUEUE: responseQueue,
    ORIG_PORT: String(options.port),
    ORIG_LOG_LEVEL: 'INFO',
    PYTHONUNBUFFERED: '1',
  };
  const python = join(root, 'bench/original/.venv/bin/python');
  const launcher = join(root, 'bench/original/launch.py');
  const children: ChildProcess[] = [];
  let output = '';
  const launch = (role: string) => {
    const child = spawn(python, [launcher, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.push(child);
    return child;
  };
  progress(`original: starting DANE-server 0.3.1 on port ${options.port} (index ${options.index})`);
  // The server process first: it creates the index and declares the exchange and the response queue.
  const server = launch('server');
  const baseUrl = `http://127.0.0.1:${options.port}`;
  try {
    await sleep(1_000);
    const api = launch('api');
    await waitFor(
      'the original API',
      async () => {
        if (server.exitCode !== null || api.exitCode !== null) throw new Error('the original exited');
        const status = await fetch(`${baseUrl}/health`).then(
          (r) => r.status,
          () => 0,
        );
        return status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}. Output:\n${output.slice(-4000)}`);
  }
  return {
    name: 'original',
    baseUrl,
    headers: {},
    index: options.index,
    exchange,
    responseQueue,
    processes: () =>
      new Map([
        ['api', childrenMatching(/launch\.py api/)],
        ['server', childrenMatching(/launch\.py server/)],
      ]),
    stop: async () => {
      for (const child of children) {
        if (child.exitCode !== null) continue;
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}
