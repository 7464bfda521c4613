import { createHash, randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, apiClient, pollUntil } from '../e2e/offline-api.ts';
import { type Offline, startOffline } from '../support/offline.ts';
import { deleteEarlierQueues, readyMessages, unacknowledgedOnConnection } from './broker.ts';
import { Observer, type Tally } from './observe.ts';
import { outage } from './stack.ts';
import { type PoolOptions, WorkerPool } from './workers.ts';

/**
 * The fault suite (`npm run test:faults`, issue 14): real serverless-offline, real RabbitMQ and OpenSearch (the
 * suite's own nodes, see scripts/test-faults.sh), workers that behave like DANE's. Each scenario assigns N tasks,
 * injects one fault while they run, lets the system recover, and prints what happened: lost (ended failed
 * although every worker succeeded), stuck (unfinished with nothing due to look at it), pending at the deadline,
 * tasks a worker ran more than once against what at-least-once delivery explains, and the time to recover.
 */

// The scenarios stop and start RabbitMQ and OpenSearch: only ever the suite's own nodes, which the script sets up.
if (process.env.FAULTS_OWN_STACK !== '1') {
  throw new Error(
    'The fault suite stops services: run it with `npm run test:faults` (its own RabbitMQ and OpenSearch)',
  );
}

const N = Number(process.env.FAULTS_N ?? 2000);
const LEASE_MS = Number(process.env.FAULTS_LEASE_MS ?? 15_000);
const SWEEP_EVERY_MS = 2_000;
const run = randomUUID().slice(0, 6).toUpperCase();
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const exchange = process.env.DANE_EXCHANGE ?? 'DANE-exchange';
const managementUrl = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const observer = new Observer(
  (process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200').replace(/\/+$/, ''),
  process.env.DANE_INDEX ?? 'dane-test-index',
);

let offline: Offline;
let api: Api;
let sweeping = true;
let sweeper: Promise<void> | undefined;

/** EventBridge stand-in at a faster pace than once a minute, so that recovery takes seconds, not minutes. */
async function sweepLoop(lambda: LambdaClient) {
  while (sweeping) {
    await lambda
      .send(new InvokeCommand({ FunctionName: 'dane-server-local-sweep', Payload: Buffer.from('{}') }))
      .catch(() => undefined);
    await new Promise((resolveWait) => setTimeout(resolveWait, SWEEP_EVERY_MS));
  }
}

beforeAll(async () => {
  // Every run starts from an empty store and broker (the suite's own nodes keep their data between runs): what
  // an earlier, failed run left unfinished must neither be swept nor counted now.
  await observer.deleteIndices();
  await deleteEarlierQueues(managementUrl, amqpUrl);
  offline = await startOffline({
    // Bundling every function takes a minute on a quiet machine of 2 cores, several when it is shared.
    readyTimeoutMs: 240_000,
    env: {
      SWEEP_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      TASK_LEASE_MS: String(LEASE_MS),
      CREATED_GRACE_MS: '5000',
      RETRY_BASE_MS: '1000',
      RETRY_MAX_MS: '5000',
    },
  });
  api = apiClient(offline);
  sweeper = sweepLoop(new LambdaClient({ endpoint: offline.lambdaEndpoint, region: 'eu-west-1' }));
}, 300_000);

afterAll(async () => {
  sweeping = false;
  await sweeper;
  await offline?.stop();
});

/** N documents of this scenario, and one task of `key` on each: what a client's batch does. */
async function assign(key: string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < N; start += 1000) {
    const documents = Array.from({ length: Math.min(1000, N - start) }, (_, i) => ({
      target: { id: `${key}-${start + i}`, url: `http://example.org/${start + i}.mp4`, type: 'Video' },
      creator: { id: `faults-${key}`, type: 'Organization' },
    }));
    const registered = await api<{ success: Array<{ _id: string }> }>('POST', '/DANE/documents', documents);
    expect(registered.status).toBe(200);
    const documentIds = registered.body.success.map((d) => d._id);
    const tasks = await api<{ success: Array<{ _id: string }> }>('POST', '/DANE/task', {
      document_id: documentIds,
      task: { key },
    });
    expect(tasks.status).toBe(200);
    ids.push(...tasks.body.success.map((t) => t._id));
  }
  return ids;
}

async function doneAtLeast(key: string, count: number, timeoutMs: number) {
  await pollUntil(
    `${count} tasks of ${key} done`,
    async () => {
      const done = await observer.doneCount(key);
      return done !== undefined && done >= count ? { done: true, value: done } : { done: false, last: done };
    },
    timeoutMs,
    500,
  );
}

interface Outcome {
  tally: Tally;
  /** Tasks a worker ran more than once. */
  ranTwice: string[];
  /** Tasks one re-run of which at-least-once delivery explains (the fault's own accounting). */
  explained: ReadonlySet<string>;
  /** Tasks run more than once that the fault does not explain. */
  unexplained: string[];
  recoverMs: number;
}

interface Injected {
  /** The tasks one re-run of which the fault explains, read once everything is done. */
  explained: () => ReadonlySet<string>;
  /** When the system was whole again. */
  restoredAt: number;
  /** Checks of the fault's own (run once every task is done and the queue drained); answers a report line. */
  verify?: () => string;
}

/**
 * Waits until the key's queue holds no message and no worker holds one. Once every task is done, nothing more
 * can reach a worker after that: a task is published only after a conditional claim, which never takes a task at
 * 200 and keeps it off 200 until a reply to that very attempt is applied (so that publish reached a worker), and
 * what was published before is queued or held. Counting runs earlier could miss a second copy still queued.
 */
async function drained(key: string, workers: WorkerPool, timeoutMs: number) {
  await pollUntil(
    `the queue ${key} empty and no message held`,
    async () => {
      const ready = await readyMessages(amqpUrl, key).catch(() => Number.NaN);
      const held = workers.held();
      return ready === 0 && held === 0
        ? { done: true, value: undefined }
        : { done: false, last: { ready, held } };
    },
    timeoutMs,
    250,
  );
}

/**
 * Runs one scenario: workers up, N tasks assigned, `fault` injected once workers have started a third, then waits
 * for every task to finish (or for the deadline) and for the queue to drain, and counts.
 */
async function scenario(
  name: string,
  pool: Omit<PoolOptions, 'key'>,
  fault: (workers: WorkerPool, key: string) => Promise<Injected>,
  deadlineMs: number,
): Promise<Outcome> {
  const key = `FAULT_${run}_${name.toUpperCase().replace(/[^A-Z]+/g, '_')}`;
  const workers = new WorkerPool({ ...pool, key }, amqpUrl, exchange);
  await workers.start();
  const started = Date.now();
  // FAULTS_TRACE=1: a progress line every 5 s (jobs started by workers, tasks done in the store, queue, held).
  const trace =
    process.env.FAULTS_TRACE === '1'
      ? setInterval(() => {
          void Promise.all([
            observer.doneCount(key),
            readyMessages(amqpUrl, key).catch(() => Number.NaN),
          ]).then(([done, ready]) =>
            console.log(
              `[faults] ${name} +${((Date.now() - started) / 1000).toFixed(0)} s: started ${workers.executions.size}, ` +
                `done ${done}, ready ${ready}, held ${workers.held()}`,
            ),
          );
        }, 5_000)
      : undefined;
  try {
    const ids = await assign(key);
    expect(ids).toHaveLength(N);
    // Mid-batch: a third of the tasks has reached the workers, two thirds are still queued or to be published,
    // and replies are on their way (the store applies them behind the workers).
    await workers.startedAtLeast(Math.floor(N / 3), deadlineMs);
    const injected = await fault(workers, key);
    let recoverMs = Number.NaN;
    let report = '';
    let failure: unknown;
    try {
      await doneAtLeast(key, N, deadlineMs - (Date.now() - started));
      recoverMs = Date.now() - injected.restoredAt;
      await drained(key, workers, 60_000);
      report = injected.verify?.() ?? '';
    } catch (error) {
      // Printed below with the tally of what did not finish, then thrown.
      failure = error;
      report = `not verified: ${(error as Error).message}`;
    }
    const tally = await observer.tally(key);
    const explained = injected.explained();
    const ranTwice = workers.ranMoreThanOnce();
    // A fault explains one more run of a task it touched, never two.
    const unexplained = ranTwice.filter(
      (id) => !explained.has(id) || (workers.executions.get(id)?.length ?? 0) > 2,
    );
    const sample = (unexplained.length > 0 ? unexplained : ranTwice).slice(0, 3);
    if (sample.length > 0) {
      console.log(
        `[faults] ${name}: runs of tasks run more than once${unexplained.length > 0 ? ' (unexplained)' : ''}, ` +
          `e.g. ${JSON.stringify(sample.map((id) => ({ id, runs: workers.executions.get(id) })))}`,
      );
    }
    const outcome: Outcome = { tally, ranTwice, explained, unexplained, recoverMs };
    // How each task ran again: the same message delivered again (unacknowledged when its worker or the broker
    // went away), or a new attempt the server published (its lease ran out).
    const redeliveries = ranTwice.filter((id) => {
      const runs = workers.executions.get(id) ?? [];
      return runs.slice(1).every((r) => r.redelivered && r.correlationId === runs[0]?.correlationId);
    }).length;
    console.log(
      `[faults] ${name}: N=${N} done=${tally.done} lost=${tally.failed.length + (N - tally.total)} ` +
        `stuck=${tally.stuck.length} pending=${tally.pending.length} ` +
        `processed more than once=${ranTwice.length} (explained by at-least-once delivery: ` +
        `${ranTwice.length - unexplained.length} of ${explained.size} that may be; unexplained: ${unexplained.length}; ` +
        `${redeliveries} redelivered, ${ranTwice.length - redeliveries} republished) ` +
        `time to recover=${Number.isNaN(recoverMs) ? 'not recovered' : `${(recoverMs / 1000).toFixed(1)} s`} ` +
        `(scenario ${((Date.now() - started) / 1000).toFixed(0)} s)` +
        (report === '' ? '' : `; ${report}`) +
        (tally.done < N
          ? `; e.g. ${JSON.stringify([...tally.failed, ...tally.stuck, ...tally.pending].slice(0, 3))}`
          : ''),
    );
    if (failure !== undefined) throw failure;
    return outcome;
  } finally {
    clearInterval(trace);
    await workers.stop();
  }
}

function expectWhole(outcome: Outcome) {
  expect(outcome.tally.total, 'tasks in the store').toBe(N);
  expect(outcome.tally.failed, 'tasks lost (ended failed)').toEqual([]);
  expect(outcome.tally.stuck, 'tasks stuck (unfinished, nothing due)').toEqual([]);
  expect(outcome.tally.done, 'tasks done by the deadline').toBe(N);
  expect(
    outcome.unexplained,
    'tasks run more than once that at-least-once delivery does not explain',
  ).toEqual([]);
}

const generous = (workMs: number, workers: number) =>
  120_000 + 4 * LEASE_MS + (3 * N * (workMs + 5)) / workers;

describe('fault suite', () => {
  it('RabbitMQ restarts mid-batch', async () => {
    const outcome = await scenario(
      'broker restart',
      { workers: 4, workMs: 10 },
      async (workers, key) => {
        // Jobs in progress are delivered again after the restart, and replies not yet applied (waiting in the
        // response queue, or in a batch the replies function holds) are not persistent (DANE workers publish them
        // so) and die with the broker: a task that the store did not hold as done when the stop began, and that a
        // worker had started by the time the broker was gone, may run again. Nothing else may.
        const open = new Set((await observer.tasks(key)).filter((t) => t.state !== 200).map((t) => t.id));
        let started = new Set<string>();
        const { restoredAt } = await outage('rabbitmq', 3_000, () => {
          started = new Set(workers.executions.keys());
        });
        return { explained: () => new Set([...started].filter((id) => open.has(id))), restoredAt };
      },
      generous(10, 4),
    );
    expectWhole(outcome);
  });

  it('OpenSearch stops and restarts while replies arrive', async () => {
    const outcome = await scenario(
      'store outage',
      { workers: 4, workMs: 10 },
      // Replies wait in the durable response queue while the store is down and are applied after it is back
      // (also those arriving while its shard is still being assigned): nothing needs to run twice.
      async () => ({ explained: () => new Set(), ...(await outage('opensearch', 20_000)) }),
      generous(10, 4),
    );
    expectWhole(outcome);
  });

  it('a worker is killed holding messages', async () => {
    const prefetch = 5;
    const outcome = await scenario(
      'worker killed',
      // Four workers taking 5 messages at a time, 200 ms a job: every worker holds messages all along.
      { workers: 4, prefetch, workMs: 200 },
      async (workers) => {
        // The victim finishes no job from now on (as one in the middle of long jobs), so what it holds at the
        // kill is known exactly: its prefetch, which the broker fills while two thirds of the batch are queued.
        const victim = await workers.freezeHolding(prefetch, 30_000);
        // The broker's own count for the victim's channel must agree before the kill. Its statistics are
        // emitted every 5 s, so this waits for at most a few intervals.
        const brokerHeld = await pollUntil(
          `the broker counting ${victim.held.size} unacknowledged messages on the victim's channel`,
          async () => {
            const unacked = await unacknowledgedOnConnection(managementUrl, amqpUrl, victim.localPort).catch(
              () => undefined,
            );
            return unacked === victim.held.size
              ? { done: true, value: unacked }
              : { done: false, last: unacked };
          },
          30_000,
          500,
        );
        const killedAt = Date.now();
        workers.kill(victim);
        await workers.start(1);
        return {
          // Only the messages it held come back: those tasks, and none other, may run a second time.
          explained: () => new Set(victim.held.values()),
          restoredAt: Date.now(),
          verify: () => {
            // Each held message came back as the same message (same correlation id, flagged redelivered by the
            // broker) to a live worker, and that run finished its task (every task is done by now).
            const redeliveredAt = [...victim.held].flatMap(([correlationId, taskId]) =>
              (workers.executions.get(taskId) ?? [])
                .filter((run) => run.at >= killedAt && run.redelivered && run.correlationId === correlationId)
                .map((run) => run.at - killedAt)
                .slice(0, 1),
            );
            expect(victim.held.size, 'messages the killed worker held').toBe(prefetch);
            expect(redeliveredAt.length, 'held messages redelivered after the kill').toBe(victim.held.size);
            return (
              `killed worker held ${victim.held.size} unacknowledged messages (broker: ${brokerHeld}), ` +
              `${redeliveredAt.length} redelivered (the last ${(Math.max(...redeliveredAt) / 1000).toFixed(1)} s ` +
              'after the kill) and done'
            );
          },
        };
      },
      generous(200, 4),
    );
    expectWhole(outcome);
  });

  it('a backlog longer than the lease', async () => {
    // One worker at 20 ms a job: N tasks wait far longer than the lease in their queue. A task no worker has
    // started yet is not lost, so none may be published a second time.
    const outcome = await scenario(
      'backlog',
      { workers: 1, workMs: 20 },
      async () => ({ explained: () => new Set(), restoredAt: Date.now() }),
      generous(20, 1),
    );
    expectWhole(outcome);
  });

  it('5% of replies are poison', async () => {
    const poisoned = (id: string) =>
      Number.parseInt(createHash('sha1').update(id).digest('hex').slice(0, 8), 16) % 20 === 0;
    const poisonSent = new Set<string>();
    const outcome = await scenario(
      'poison replies',
      {
        workers: 4,
        workMs: 5,
        // The first run of a poisoned task answers something no server can read; its task must be run again
        // (that re-run is explained), once, after its lease.
        replyFor: (id, execution) => {
          if (execution > 1 || !poisoned(id)) return undefined;
          poisonSent.add(id);
          return 'not json {';
        },
      },
      async () => ({
        explained: () => poisonSent,
        restoredAt: Date.now(),
        verify: () => `${poisonSent.size} poison replies sent`,
      }),
      generous(5, 4),
    );
    expectWhole(outcome);
  });
});
