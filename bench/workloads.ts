import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@opensearch-project/opensearch';
import type { Channel } from 'amqplib';
import {
  documentBodies,
  expectStatus,
  median,
  now,
  postJson,
  progress,
  randomId,
  sleep,
  timed,
  waitFor,
} from './lib.ts';
import type { Target } from './targets.ts';
import { declareWorkerQueue, FakeWorker } from './worker.ts';

/**
 * The workloads of issue 9, over HTTP against either server (ours or the original), so that both are measured
 * doing exactly the same thing. Batch workloads end when their effect is complete (every task in the worker
 * queue; every reply applied in the index), not when the HTTP request returns.
 */

interface ApiDocumentRef {
  _id: string;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const key = (prefix: string) => `${prefix}${randomId().slice(0, 8).toUpperCase()}`;

/** Warm single POST /DANE/document: `count` in a row after 5 not counted; returns the median and the ids. */
export async function singleDocuments(target: Target, count: number) {
  const creator = `SINGLE-${randomId().slice(0, 8)}`;
  const bodies = documentBodies(creator, count + 5);
  const times: number[] = [];
  const ids: string[] = [];
  for (const [i, body] of bodies.entries()) {
    const { ms, value } = await timed(() =>
      postJson(`${target.baseUrl}/DANE/document/`, body, target.headers),
    );
    expectStatus(`${target.name} POST /DANE/document`, value, 200, 201);
    ids.push((value.body as ApiDocumentRef)._id);
    if (i >= 5) times.push(ms);
  }
  return { medianMs: median(times), ids };
}

/** Warm single POST /DANE/task to documents in `ids` (a bound queue, so each is published): the median. */
export async function singleTasks(target: Target, channel: Channel, ids: readonly string[]) {
  const taskKey = key('SINGLE');
  const queue = await declareWorkerQueue(channel, target.exchange, taskKey);
  const times: number[] = [];
  for (const [i, documentId] of ids.entries()) {
    const { ms, value } = await timed(() =>
      postJson(`${target.baseUrl}/DANE/task/`, { document_id: documentId, key: taskKey }, target.headers),
    );
    expectStatus(`${target.name} POST /DANE/task`, value, 200, 201);
    if (i >= 5) times.push(ms);
  }
  await waitFor(
    `${ids.length} single tasks in ${queue}`,
    async () => (await channel.checkQueue(queue)).messageCount >= ids.length,
    { timeoutMs: 60_000 },
  );
  await channel.deleteQueue(queue);
  return { medianMs: median(times) };
}

/**
 * What serverless-offline costs a request by itself: `GET /health`, one invocation of a function that does no
 * I/O (public, so no authorizer). With `authorized`, `GET /DANE/auth/me` instead: the authorizer's invocation
 * (with its read of the key) and then one invocation that does no I/O, the least any authorized route pays.
 */
export async function offlineFloor(target: Target, count: number, authorized = false) {
  const path = authorized ? '/DANE/auth/me' : '/health';
  const times: number[] = [];
  for (let i = 0; i < count + 5; i += 1) {
    const { ms, value } = await timed(async () => {
      const response = await fetch(`${target.baseUrl}${path}`, { headers: authorized ? target.headers : {} });
      await response.arrayBuffer();
      return response.status;
    });
    if (value !== 200) throw new Error(`${target.name} GET ${path} answered ${value}`);
    if (i >= 5) times.push(ms);
  }
  return median(times);
}

/** Medians from bench/single-inprocess.ts: the functions, and the raw round trips interleaved with them. */
export interface InProcessSingles {
  documentMs: number;
  taskMs: number;
  rawIndexMs: number;
  rawGetIndexPublishMs: number;
}

/**
 * The single-request functions called in-process (bench/single-inprocess.ts, a process of its own with the
 * configuration of the server under test): the requests without serverless-offline in between.
 */
export function singleInProcess(
  target: Target,
  services: { opensearchUrl: string; amqpUrl: string },
  count: number,
): InProcessSingles {
  const result = spawnSync(
    join(root, 'node_modules/.bin/tsx'),
    [join(root, 'bench/single-inprocess.ts'), String(count)],
    {
      env: {
        ...process.env,
        OPENSEARCH_URL: services.opensearchUrl,
        AMQP_URL: services.amqpUrl,
        DANE_INDEX: target.index,
        DANE_EXCHANGE: target.exchange,
        DANE_RESPONSE_QUEUE: target.responseQueue,
      },
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  const last = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !last.startsWith('{'))
    throw new Error(`bench/single-inprocess.ts failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return JSON.parse(last) as InProcessSingles;
}

/** POST /DANE/documents of `n`: the time of the request (every document is stored when it answers). */
export async function documentsBatch(target: Target, n: number) {
  const bodies = documentBodies(`BATCH-${randomId().slice(0, 8)}`, n);
  const { ms, value } = await timed(() =>
    postJson(`${target.baseUrl}/DANE/documents/`, bodies, target.headers),
  );
  expectStatus(`${target.name} POST /DANE/documents`, value, 200, 201);
  const success = (value.body as { success?: ApiDocumentRef[] }).success ?? [];
  if (success.length !== n) throw new Error(`${target.name}: ${success.length} of ${n} documents registered`);
  return { ms, ids: success.map((d) => d._id) };
}

/**
 * Batch assignment: POST /DANE/task with `n` document ids, timed until all `n` task messages are in the bound
 * worker queue (ours publishes asynchronously above its inline limit; the original in a background thread).
 */
export async function assignBatch(target: Target, channel: Channel, documentIds: readonly string[]) {
  const taskKey = key('BATCH');
  const queue = await declareWorkerQueue(channel, target.exchange, taskKey);
  const n = documentIds.length;
  const start = now();
  const response = await postJson(
    `${target.baseUrl}/DANE/task/`,
    { document_id: documentIds, key: taskKey },
    target.headers,
  );
  const answeredMs = now() - start;
  expectStatus(`${target.name} POST /DANE/task (batch)`, response, 200, 201);
  const success = (response.body as { success?: Array<{ _id: string }> }).success ?? [];
  if (success.length !== n) throw new Error(`${target.name}: ${success.length} of ${n} tasks assigned`);
  let queued = 0;
  await waitFor(
    `${n} tasks in ${queue}`,
    async () => {
      queued = (await channel.checkQueue(queue)).messageCount;
      return queued >= n;
    },
    { timeoutMs: Math.max(120_000, n * 100), intervalMs: 50 },
  );
  const ms = now() - start;
  // The original may publish a task twice (API thread and scheduler race, spec 9.2): count what arrived.
  await sleep(200);
  queued = (await channel.checkQueue(queue)).messageCount;
  return { ms, answeredMs, queue, taskIds: success.map((t) => t._id), messages: queued };
}

/**
 * Worker replies end to end: a fake worker pool answers every message in `queue` with 200; timed from its start
 * (or, with `backlog`, from the release of the replies waiting in the response queue) until every reply is stored
 * and its batch done (follow-up included); every task is then confirmed at 200 by real-time multi-gets.
 */
export async function replies(
  target: Target,
  client: Client,
  channel: Channel,
  amqpUrl: string,
  queue: string,
  taskIds: readonly string[],
  options: { backlog?: boolean } = {},
) {
  const worker = new FakeWorker(amqpUrl, queue);
  let pending = [...taskIds];
  const handledBefore = target.repliesHandled?.().total ?? 0;
  let start = now();
  if (options.backlog) {
    // Every reply waits in the response queue first (the emulator stopped); timed from its resumption.
    if (!target.pauseReplies) throw new Error(`${target.name}: no way to hold its replies back`);
    target.pauseReplies(true);
    try {
      await worker.start();
      await waitFor(`${taskIds.length} replies sent`, async () => worker.replied >= taskIds.length, {
        timeoutMs: 120_000,
        intervalMs: 20,
      });
    } catch (error) {
      target.pauseReplies(false);
      throw error;
    }
    start = now();
    target.pauseReplies(false);
  } else {
    await worker.start();
  }
  let lastReport = now();
  // Every task at 200 by real-time multi-gets (they need no refresh), 10,000 ids a request.
  const allStored = async () => {
    const still: string[] = [];
    for (let i = 0; i < pending.length; i += 10_000) {
      const ids = pending.slice(i, i + 10_000);
      const response = await client.mget({
        index: target.index,
        body: { ids },
        _source_includes: 'task.state',
      } as never);
      const docs = (
        response.body as { docs: Array<{ _id: string; _source?: { task?: { state?: number } } }> }
      ).docs;
      for (const doc of docs) if (doc._source?.task?.state !== 200) still.push(doc._id);
    }
    pending = still;
    return pending.length === 0;
  };
  let end: number;
  try {
    if (target.repliesHandled) {
      // Ours: timed to the end of the invocation that finished the last reply (its "Replies handled" line, written
      // after the states are stored and the follow-up is done), then confirmed by multi-gets. Reply states are not
      // refreshed (lib/store/refresh.ts), so a count would add up to the index's refresh interval (1 s) to the
      // figure, time the raw update it is compared with does not pay either.
      const handled = target.repliesHandled;
      const handledNow = () => handled().total - handledBefore;
      await waitFor(
        `${taskIds.length} replies handled`,
        async () => {
          if (now() - lastReport > 10_000) {
            lastReport = now();
            progress(
              `${target.name}: ${handledNow()}/${taskIds.length} replies handled (${worker.replied} sent)`,
            );
          }
          return handledNow() >= taskIds.length;
        },
        { timeoutMs: Math.max(300_000, taskIds.length * 400), intervalMs: 20 },
      );
      end = handled().at;
      // A reply handled but not stored (dropped as poison, say) would be a failure of the server, not a slow run.
      if (!(await allStored()))
        throw new Error(`${target.name}: ${pending.length} tasks not at 200 after every reply was handled`);
    } else {
      // The original refreshes on every write: a count of the key's tasks at 200 follows its progress cheaply;
      // once it reaches N, the multi-gets confirm every task.
      const first = await client.get({ index: target.index, id: taskIds[0] as string });
      const taskKey = (first.body as { _source: { task: { key: string } } })._source.task.key;
      const doneCount = async () => {
        const response = await client.count({
          index: target.index,
          body: {
            query: { bool: { filter: [{ term: { 'task.key': taskKey } }, { term: { 'task.state': 200 } }] } },
          },
        } as never);
        return (response.body as { count: number }).count;
      };
      await waitFor(
        `${taskIds.length} replies applied`,
        async () => {
          const done = await doneCount();
          if (now() - lastReport > 10_000) {
            lastReport = now();
            progress(`${target.name}: ${done}/${taskIds.length} replies applied (${worker.replied} sent)`);
          }
          return done >= taskIds.length && (await allStored());
        },
        { timeoutMs: Math.max(300_000, taskIds.length * 400), intervalMs: 100 },
      );
      end = now();
    }
  } finally {
    await worker.stop();
  }
  const ms = end - start;
  await channel.deleteQueue(queue);
  progress(
    `${target.name}: workers sent replies from ${(worker.firstReplyAt - start).toFixed(0)} ms to ${(worker.lastReplyAt - start).toFixed(0)} ms; all applied at ${ms.toFixed(0)} ms`,
  );
  return { ms, sent: worker.replied };
}
