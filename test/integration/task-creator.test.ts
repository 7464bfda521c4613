import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as overviewCreators } from '../../functions/http/overview-creators.ts';
import { handler as taskAction } from '../../functions/http/task-action.ts';
import { handler as taskCreate } from '../../functions/http/task-create.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { taskId } from '../../lib/model/ids.ts';
import type { CreatorsOverview } from '../../lib/model/overview.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { getTask } from '../../lib/store/tasks.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';
import { closeAmqp, uniqueKey, type WorkerQueue, workerQueue } from '../support/amqp.ts';
import { indexTestDocument } from '../support/documents.ts';
import { call } from '../support/http.ts';

/**
 * Every task we create carries its document's creator in our bookkeeping (`dane.creator`), which the per-creator
 * counts aggregate on without a join; tasks of the original server learn it when they are claimed.
 */

const client = getStoreClient();
const index = getConfig().opensearch.index;
const queues: WorkerQueue[] = [];

async function queueFor(prefix: string): Promise<WorkerQueue> {
  const queue = await workerQueue(uniqueKey(prefix));
  queues.push(queue);
  return queue;
}

const creatorOf = async (id: string) => (await getTask(id))?.source.dane?.creator;

/** A task as the original server wrote it: no bookkeeping at all. */
async function originalTask(documentId: string, key: string, state: number): Promise<string> {
  const id = taskId(documentId, key);
  await client.index({
    index,
    id,
    routing: documentId,
    body: {
      task: { key, state, msg: `state ${state}`, priority: 1, args: {} },
      role: { name: 'task', parent: documentId },
      created_at: '2023-01-01T00:00:00',
      updated_at: '2023-01-01T00:00:00',
    },
    refresh: 'wait_for',
  });
  return id;
}

beforeAll(async () => {
  await ensureIndex();
});

afterAll(async () => {
  for (const queue of queues) await queue.close();
  await closeAmqp();
  await closeBroker();
});

describe('dane.creator on the tasks we create', () => {
  it('single assign, batch assign and a 412 dependency carry the creator of their document', async () => {
    const creator = `CR-${randomUUID()}`;
    const worker = await queueFor('CRSINGLE');
    const single = await indexTestDocument({ creator });
    const created = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: single, key: worker.key },
    });
    expect(created.status).toBe(201);
    const singleId = taskId(single, worker.key);
    expect(await creatorOf(singleId)).toBe(creator);

    const batch = await queueFor('CRBATCH');
    const other = `CR-${randomUUID()}`;
    const a = await indexTestDocument({ creator });
    const b = await indexTestDocument({ creator: other });
    const assigned = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: [a, b], key: batch.key },
    });
    expect(assigned.status).toBe(200);
    expect(await creatorOf(taskId(a, batch.key))).toBe(creator);
    expect(await creatorOf(taskId(b, batch.key))).toBe(other);

    await worker.drain(200);
    const dependency = await queueFor('CRDEP');
    await handleReplies([
      {
        correlationId: `${singleId}#1`,
        body: JSON.stringify({
          state: 412,
          message: 'Unfinished dependencies',
          dependencies: [dependency.key],
        }),
      },
    ]);
    expect((await getTask(singleId))?.source.task.state).toBe(412);
    const dependencyId = taskId(single, dependency.key);
    expect(await dependency.next()).toBeDefined();
    expect(await creatorOf(dependencyId)).toBe(creator);

    // And they are counted under it (single writes wait for no refresh: the search sees them after one).
    await client.indices.refresh({ index });
    const body = (await call(overviewCreators, 'GET', '/DANE/overview/creators')).body as CreatorsOverview;
    expect(body.creators.find((c) => c.creator === creator)).toMatchObject({ documents: 2, total: 3 });
    expect(body.creators.find((c) => c.creator === other)).toMatchObject({ documents: 1, total: 1 });
  });

  it('a creator id that is a number is stored as the keyword field indexes it', async () => {
    const worker = await queueFor('CRNUM');
    const numeric = Math.floor(Math.random() * 1e12);
    const documentId = randomUUID().replace(/-/g, '').padEnd(40, '0').slice(0, 40);
    await client.index({
      index,
      id: documentId,
      body: {
        target: { id: 'T-num', url: 'http://example.org/v.mp4', type: 'Video' },
        creator: { id: numeric, type: 'Organization' },
        created_at: '2026-01-01T00:00:00',
        updated_at: '2026-01-01T00:00:00',
        role: 'document',
      },
      refresh: 'wait_for',
    });
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key: worker.key } });
    expect(await creatorOf(taskId(documentId, worker.key))).toBe(String(numeric));
    await client.indices.refresh({ index });
    const body = (await call(overviewCreators, 'GET', '/DANE/overview/creators')).body as CreatorsOverview;
    expect(body.creators.find((c) => c.creator === String(numeric))).toMatchObject({
      documents: 1,
      total: 1,
    });
  });

  it('a task of the original learns its creator when claimed; a 412 of one takes it from the document', async () => {
    const creator = `CR-${randomUUID()}`;
    const worker = await queueFor('CRLEGACY');
    const documentId = await indexTestDocument({ creator });
    const failed = await originalTask(documentId, worker.key, 500);
    expect(await creatorOf(failed)).toBeUndefined();
    const retried = await call(taskAction, 'POST', `/DANE/task/${failed}/retry`, {
      pathParameters: { task_id: failed, action: 'retry' },
    });
    expect(retried.body).toMatchObject({ state: 102 });
    expect(await creatorOf(failed)).toBe(creator);

    // Published by the original server: queued, no bookkeeping, its reply correlated by the bare task id.
    const asr = await queueFor('CRORIG');
    const queued = await originalTask(documentId, asr.key, 102);
    const dependency = await queueFor('CRORIGDEP');
    await handleReplies([
      {
        correlationId: queued,
        body: JSON.stringify({
          state: 412,
          message: 'Unfinished dependencies',
          dependencies: [dependency.key],
        }),
      },
    ]);
    expect(await dependency.next()).toBeDefined();
    expect(await creatorOf(taskId(documentId, dependency.key))).toBe(creator);
  });
});
