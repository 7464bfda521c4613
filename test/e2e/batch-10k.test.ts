import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.ts';
import { taskId } from '../../lib/model/ids.ts';
import { getStoreClient, resetStoreClient } from '../../lib/store/client.ts';
import { closeAmqp, type WorkerQueue, workerQueue } from '../support/amqp.ts';
import { type Offline, startOffline } from '../support/offline.ts';
import { type Api, apiClient, nextLink, pollUntil } from './offline-api.ts';

/**
 * Issue 4: "a batch of 10,000 tasks is registered and published completely", through the HTTP API of
 * serverless-offline, on the path of batches above INLINE_PUBLISH_LIMIT (set to 1,000 here; by default 10,000
 * are published inline, which test/integration/tasks.test.ts covers): POST /DANE/task answers once the tasks are
 * stored; the publishing is done by the `publishTasks` function, invoked asynchronously through
 * serverless-offline's Lambda endpoint. A worker queue (declared as Python workers declare theirs, never
 * consumed) counts what arrived.
 */

const BATCH = 10_000;
const DOCUMENT_CHUNK = 2_500;

const run = randomUUID().slice(0, 8);
const KEY = `BATCH_${run.toUpperCase()}`;
const creatorId = `batch-${run}`;

let offline: Offline;
let api: Api;
let queue: WorkerQueue | undefined;

beforeAll(async () => {
  offline = await startOffline({
    env: { SWEEP_ENABLED: 'false', LOG_LEVEL: 'info', INLINE_PUBLISH_LIMIT: '1000' },
  });
  api = apiClient(offline);
});

afterAll(async () => {
  await queue?.close().catch(() => undefined);
  await closeAmqp();
  await offline?.stop();
  // Cleanup straight in the index: the documents of this run, their tasks (and any results of those).
  const client = getStoreClient();
  const index = getConfig().opensearch.index;
  const ofDocuments = {
    has_parent: { parent_type: 'document', query: { term: { 'creator.id': creatorId } } },
  };
  await client.indices.refresh({ index }).catch(() => undefined);
  await client
    .deleteByQuery({
      index,
      conflicts: 'proceed',
      refresh: true,
      body: {
        query: {
          bool: {
            should: [ofDocuments, { has_parent: { parent_type: 'task', query: ofDocuments } }],
            minimum_should_match: 1,
          },
        },
      },
    })
    .catch(() => undefined);
  await client
    .deleteByQuery({
      index,
      conflicts: 'proceed',
      refresh: true,
      body: { query: { term: { 'creator.id': creatorId } } },
    })
    .catch(() => undefined);
  await resetStoreClient();
});

interface BatchDocuments {
  success: Array<{ _id: string }>;
  failed: unknown[];
}

interface ApiTask {
  _id: string;
  key: string;
  state: number;
}

interface BatchTasks {
  success: ApiTask[];
  failed: Array<{ document_id: string; error: string }>;
}

describe('a batch of 10,000 tasks through serverless-offline', () => {
  it('is registered and published completely', { timeout: 420_000 }, async () => {
    // 1. 10,000 documents, a few batch requests.
    const registerStart = performance.now();
    const documentIds: string[] = [];
    for (let from = 0; from < BATCH; from += DOCUMENT_CHUNK) {
      const chunk = Array.from({ length: Math.min(DOCUMENT_CHUNK, BATCH - from) }, (_, i) => ({
        target: { id: `${creatorId}-${from + i}`, url: `http://example.org/${from + i}.wav`, type: 'Sound' },
        creator: { id: creatorId, type: 'Organization' },
      }));
      const response = await api<BatchDocuments>('POST', '/DANE/documents', chunk);
      expect(response.status, JSON.stringify(response.body).slice(0, 500)).toBe(200);
      expect(response.body.failed).toEqual([]);
      expect(response.body.success).toHaveLength(chunk.length);
      documentIds.push(...response.body.success.map((document) => document._id));
    }
    const registerMs = performance.now() - registerStart;
    expect(new Set(documentIds).size).toBe(BATCH);

    // 2. A worker pool for the key: bound, durable, priority queue, nobody consuming.
    queue = await workerQueue(KEY);
    expect(await queue.count()).toBe(0);

    // 3. One request assigns the task to all of them (lower-case key: the server upper-cases it).
    const assignStart = performance.now();
    const assigned = await api<BatchTasks>('POST', '/DANE/task', {
      document_id: documentIds,
      key: KEY.toLowerCase(),
      priority: 2,
    });
    const assignMs = performance.now() - assignStart;
    expect(assigned.status, JSON.stringify(assigned.body).slice(0, 500)).toBe(200);
    expect(assigned.body.failed).toEqual([]);
    expect(assigned.body.success).toHaveLength(BATCH);
    const expectedIds = new Set(documentIds.map((id) => taskId(id, KEY)));
    expect(new Set(assigned.body.success.map((task) => task._id))).toEqual(expectedIds);
    expect(assigned.body.success.every((task) => task.key === KEY)).toBe(true);

    // 4. Every task reaches the worker queue, exactly once.
    let lastCount = 0;
    await pollUntil(
      `${BATCH} messages in ${queue.queue}`,
      async () => {
        lastCount = await (queue as WorkerQueue).count();
        return lastCount >= BATCH ? { done: true, value: lastCount } : { done: false, last: lastCount };
      },
      240_000,
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- server output ---\n${offline.output().slice(-6000)}`);
    });
    const publishMs = performance.now() - assignStart;
    // A duplicate publish would show up as surplus messages shortly after.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await queue.count()).toBe(BATCH);

    // 5. The API shows every one of them queued (102), none left at 201. The listing is a search: it catches up
    // with the claims within a refresh.
    const states = await pollUntil(
      `all ${BATCH} ${KEY} tasks at 102 in GET /DANE/task`,
      async () => {
        const counts: Record<number, number> = {};
        const seen = new Set<string>();
        let path: string | undefined = '/DANE/task?limit=10000';
        while (path) {
          const page: Awaited<ReturnType<typeof api<ApiTask[]>>> = await api<ApiTask[]>('GET', path);
          expect(page.status, JSON.stringify(page.body).slice(0, 500)).toBe(200);
          for (const task of page.body) {
            if (task.key !== KEY) continue;
            seen.add(task._id);
            counts[task.state] = (counts[task.state] ?? 0) + 1;
          }
          path = nextLink(page.headers);
        }
        return counts[102] === BATCH && seen.size === BATCH
          ? { done: true, value: counts }
          : { done: false, last: counts };
      },
      20_000,
      1_000,
    );
    expect(states).toEqual({ 102: BATCH });

    // The publisher did it (with the sweep off, nothing else publishes 201 tasks).
    const invocations = offline.output().match(/Batch published/g)?.length ?? 0;
    expect(invocations).toBeGreaterThan(0);
    console.log(
      `batch-10k: register ${BATCH} documents ${Math.round(registerMs)} ms; ` +
        `POST /DANE/task answered in ${Math.round(assignMs)} ms; ` +
        `all ${BATCH} messages queued ${Math.round(publishMs)} ms after the POST ` +
        `(${Math.round((BATCH / publishMs) * 1000)} tasks/s, ${invocations} publishTasks invocations logged)`,
    );
  });
});
