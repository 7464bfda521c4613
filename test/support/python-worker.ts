import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { getConfig } from '../../lib/config.ts';

/**
 * Runs a real Python DANE worker (the `dane` 0.4.3 base worker from PyPI, see test/compat/worker.py) against the
 * local RabbitMQ and, through the worker gateway, OpenSearch, and exposes what it received and replied, parsed
 * from its stdout.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const compatDir = join(root, 'test/compat');
const venvPython = join(compatDir, '.venv/bin/python');

export interface PythonWorkerOptions {
  /**
   * The worker gateway the library's Elasticsearch client connects to (`Offline.gatewayUrl`, or a
   * test/support/gateway.ts one), with the configured worker credential.
   */
  gatewayUrl: string;
  /**
   * The basic-auth credential the worker sends to the gateway (`ELASTICSEARCH.USER`/`PASSWORD`): a worker key
   * (`{ username: key name, password: key }`, e.g. from `Offline.keys.worker`); default: the configured one.
   */
  credential?: { username: string; password: string };
  /** Task key; the worker binds `#.<KEY>` (upper-cased). */
  key: string;
  /** Worker queue; defaults to the key, as the original's convention (and the /workers view) expects. */
  queue?: string;
  /** Binding keys instead of `#.<KEY>`, e.g. `['Video.ASR']`. */
  bindingKeys?: string[];
  /** The base worker's `depends_on`: task keys that must be 200 on the document first, else it replies 412. */
  dependsOn?: string[];
  /** State the worker's callback returns (default 200). */
  replyState?: number;
  /** Message the callback returns (default `Success` for 200, else `Replied <state>`). */
  replyMessage?: string;
  /** Return the reply as a JSON string, which the library JSON-encodes again (spec §4.4 double encoding). */
  replyAsString?: boolean;
  /** Save a Result through the library (`Result(generator, payload, api=handler).save(task._id)`). */
  saveResult?: boolean;
  /** Time the callback takes. */
  delayMs?: number;
  /** Run outside a git repository: the library then leaves its generator null (saving a result fails). */
  noGenerator?: boolean;
  /** DANE index the worker reads and writes (default: this process's DANE_INDEX, i.e. dane-test-index). */
  index?: string;
  /** Keep the worker queue and its messages (default: purge it on start and delete it on stop). */
  keepQueue?: boolean;
  /** Extra environment for the Python process. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** A task message as the worker received it, before the library parsed it (spec §4.2). */
export interface ReceivedMessage {
  routingKey: string;
  exchange: string;
  redelivered: boolean;
  properties: {
    correlation_id: string | null;
    reply_to: string | null;
    priority: number | null;
    delivery_mode: number | null;
    content_type: string | null;
    headers: Record<string, unknown> | null;
    message_id: string | null;
    timestamp: number | null;
    expiration: string | null;
  };
  /** `task` and `document` of the JSON body; `body` holds the raw text only when it was not JSON. */
  task: Record<string, unknown> | null;
  document: Record<string, unknown> | null;
  body: string | null;
}

/** A reply the library published to `reply_to` (spec §4.4); `reply` is what it JSON-encoded. */
export interface WorkerReply {
  correlationId: string | null;
  replyTo: string | null;
  reply: unknown;
}

export interface SavedResult {
  taskId: string;
  resultId: string;
  generator: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export interface PythonWorker {
  queue: string;
  bindingKeys: string[];
  /** The library's generator (from the worker's git checkout), or null. */
  generator: Record<string, unknown> | null;
  received: ReceivedMessage[];
  replies: WorkerReply[];
  results: SavedResult[];
  /** Resolves with the first reply (past or future) for this correlation id. */
  waitForReply(correlationId: string, timeoutMs?: number): Promise<WorkerReply>;
  /** Resolves with the first received message (past or future) matching the predicate. */
  waitForReceived(
    predicate: (message: ReceivedMessage) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedMessage>;
  /** The worker's stderr (library logging) so far. */
  stderr(): string;
  stop(): Promise<void>;
}

let venvReady: Promise<void> | undefined;

/** Builds test/compat/.venv if needed (test/compat/setup.sh is idempotent and quick when nothing changed). */
export function ensurePythonVenv(): Promise<void> {
  venvReady ??= new Promise<void>((resolvePromise, reject) => {
    const child = spawn('bash', [join(compatDir, 'setup.sh')], { stdio: ['ignore', 'inherit', 'pipe'] });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && existsSync(venvPython)) resolvePromise();
      else reject(new Error(`test/compat/setup.sh failed (exit ${code}):\n${output.slice(-4000)}`));
    });
  }).catch((error: unknown) => {
    venvReady = undefined;
    throw error;
  });
  return venvReady;
}

// Workers still running when the test process exits are killed (they also stop on their own when their stdin
// closes, should this process die without running exit handlers).
const running = new Map<ChildProcessWithoutNullStreams, () => Promise<void>>();
process.on('exit', () => {
  for (const child of running.keys()) child.kill('SIGKILL');
});

/** Stops every worker that is still running (for an afterAll). */
export async function stopAllPythonWorkers(): Promise<void> {
  await Promise.all([...running.values()].map((stop) => stop()));
}

function workerArgs(options: PythonWorkerOptions, queue: string): string[] {
  const args = ['-u', join(compatDir, 'worker.py'), '--key', options.key, '--queue', queue];
  for (const key of options.bindingKeys ?? []) args.push('--binding-key', key);
  if (options.dependsOn?.length) args.push('--depends-on', options.dependsOn.join(','));
  if (options.replyState !== undefined) args.push('--reply-state', String(options.replyState));
  if (options.replyMessage !== undefined) args.push('--reply-message', options.replyMessage);
  if (options.replyAsString) args.push('--reply-as-string');
  if (options.saveResult) args.push('--save-result');
  if (options.delayMs) args.push('--delay-ms', String(options.delayMs));
  if (options.noGenerator) args.push('--no-generator');
  if (!options.keepQueue) args.push('--purge', '--delete-queue');
  args.push('--exit-on-stdin-eof');
  return args;
}

export async function startPythonWorker(options: PythonWorkerOptions): Promise<PythonWorker> {
  await ensurePythonVenv();
  const config = getConfig();
  const queue = options.queue ?? options.key.toUpperCase();
  const child = spawn(venvPython, workerArgs(options, queue), {
    cwd: compatDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DANE_ES_URL: esUrl(options.gatewayUrl, options.credential ?? config.gateway.worker),
      DANE_ES_INDEX: options.index ?? config.opensearch.index,
      DANE_AMQP_URL: config.amqp.url,
      DANE_EXCHANGE: config.amqp.exchange,
      DANE_RESPONSE_QUEUE: config.amqp.responseQueue,
      PYTHONUNBUFFERED: '1',
      ...options.env,
    },
  });

  const events = new EventEmitter();
  const received: ReceivedMessage[] = [];
  const replies: WorkerReply[] = [];
  const results: SavedResult[] = [];
  let stderr = '';
  let generator: Record<string, unknown> | null = null;
  let bindingKeys: string[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (event.event) {
      case 'ready':
        generator = (event.generator as Record<string, unknown> | null) ?? null;
        bindingKeys = event.binding_keys as string[];
        events.emit('ready');
        break;
      case 'received': {
        const message: ReceivedMessage = {
          routingKey: event.routing_key as string,
          exchange: event.exchange as string,
          redelivered: event.redelivered as boolean,
          properties: event.properties as ReceivedMessage['properties'],
          task: (event.task as Record<string, unknown> | null) ?? null,
          document: (event.document as Record<string, unknown> | null) ?? null,
          body: (event.body as string | null) ?? null,
        };
        received.push(message);
        events.emit('received', message);
        break;
      }
      case 'replied': {
        const reply: WorkerReply = {
          correlationId: (event.correlation_id as string | null) ?? null,
          replyTo: (event.reply_to as string | null) ?? null,
          reply: event.reply,
        };
        replies.push(reply);
        events.emit('replied', reply);
        break;
      }
      case 'result': {
        const result: SavedResult = {
          taskId: event.task_id as string,
          resultId: event.result_id as string,
          generator: event.generator as Record<string, unknown>,
          payload: event.payload as Record<string, unknown>,
        };
        results.push(result);
        events.emit('result', result);
        break;
      }
    }
  });
  const exit = new Promise<void>((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      events.emit('exit');
      resolveExit();
    });
  });
  child.on('error', (error) => events.emit('spawn-error', error));

  const describeExit = () =>
    exited ? `exited (code ${exited.code}, signal ${exited.signal})` : 'still running';
  const failure = (what: string) =>
    new Error(`Python worker ${queue}: ${what}; ${describeExit()}. stderr:\n${stderr.slice(-4000)}`);

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  running.set(child, stop);

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  try {
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(failure(`not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        events.off('ready', onReady).off('exit', onExit).off('spawn-error', onError);
        if (error) reject(error);
        else resolveReady();
      };
      const onReady = () => settle();
      const onExit = () => settle(failure('exited before it was ready'));
      const onError = (error: Error) => settle(failure(`could not be started (${error.message})`));
      events.on('ready', onReady).on('exit', onExit).on('spawn-error', onError);
    });
  } catch (error) {
    await stop();
    throw error;
  }

  function waitFor<T>(
    list: T[],
    event: string,
    predicate: (item: T) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<T> {
    const found = list.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolveWait, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        events.off(event, onItem).off('exit', onExit);
      };
      const onItem = (item: T) => {
        if (!predicate(item)) return;
        cleanup();
        resolveWait(item);
      };
      const onExit = () => {
        cleanup();
        reject(failure(`exited while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(failure(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      events.on(event, onItem).on('exit', onExit);
    });
  }

  return {
    queue,
    get bindingKeys() {
      return bindingKeys;
    },
    get generator() {
      return generator;
    },
    received,
    replies,
    results,
    waitForReply: (correlationId, timeoutMs = 30_000) =>
      waitFor(
        replies,
        'replied',
        (reply) => reply.correlationId === correlationId,
        `reply for ${correlationId}`,
        timeoutMs,
      ),
    waitForReceived: (predicate, timeoutMs = 30_000) =>
      waitFor(received, 'received', predicate, 'matching message', timeoutMs),
    stderr: () => stderr,
    stop,
  };
}

function esUrl(gatewayUrl: string, worker: { username: string; password: string } | undefined) {
  const url = new URL(gatewayUrl);
  // The URL setters percent-encode; worker.py decodes.
  url.username = worker?.username ?? '';
  url.password = worker?.password ?? '';
  return url.toString();
}
