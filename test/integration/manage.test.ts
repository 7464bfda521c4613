import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as authMe } from '../../functions/http/auth-me.ts';
import { handler as overview } from '../../functions/http/overview.ts';
import { handler as overviewCreators } from '../../functions/http/overview-creators.ts';
import { handler as tasksBulk } from '../../functions/http/tasks-bulk.ts';
import { handler as tasksFind } from '../../functions/http/tasks-find.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import type { CreatorsOverview, Overview } from '../../lib/model/overview.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { creatorCounts, LEGACY_BY_DOCUMENT_LIMIT } from '../../lib/store/task-filters.ts';
import { getTask } from '../../lib/store/tasks.ts';
import { bulkAction } from '../../lib/tasks/bulk.ts';
import { closeAmqp, uniqueKey, type WorkerQueue, workerQueue } from '../support/amqp.ts';
import { call } from '../support/http.ts';
import { type SeededTask, seedTasks } from '../support/seed.ts';

const client = getStoreClient();
const index = getConfig().opensearch.index;
const queues: WorkerQueue[] = [];

beforeAll(async () => {
  await ensureIndex();
});

afterAll(async () => {
  for (const queue of queues) await queue.close();
  await closeAmqp();
  await closeBroker();
});

const stateOf = async (id: string) => (await getTask(id))?.source.task.state;
const idsOf = (tasks: readonly SeededTask[]) => tasks.map((t) => t.id).sort();

describe('GET /DANE/overview and /DANE/overview/creators', () => {
  it('counts every task per key × state and per creator × state, as seeded, in categories', async () => {
    const ka = uniqueKey('OVA');
    const kb = uniqueKey('OVB');
    const creator = `C-${randomUUID()}`;
    const other = `C-${randomUUID()}`;
    await seedTasks([
      ...Array.from({ length: 3 }, () => ({ key: ka, state: 200, creator })),
      { key: ka, state: 102, creator },
      { key: ka, state: 502, creator, due: true },
      { key: ka, state: 502, creator },
      { key: ka, state: 500, creator },
      { key: ka, state: 424, creator },
      { key: ka, state: 412, creator, due: true },
      { key: kb, state: 422, creator: other, due: true },
      { key: kb, state: 201, creator: other, due: true },
    ]);
    const response = await call(overview, 'GET', '/DANE/overview');
    expect(response.status).toBe(200);
    const body = response.body as Overview;
    const a = body.keys.find((k) => k.key === ka);
    expect(a).toMatchObject({
      total: 9,
      states: { '200': 3, '102': 1, '502': 2, '500': 1, '424': 1, '412': 1 },
      // 502 with a due time is in back-off; without one it gave up: failed, with 500 and 424.
      categories: { done: 3, queued: 1, backoff: 1, failed: 3, waiting: 1, new: 0, unroutable: 0 },
    });
    // Seeded tasks were updated long ago: nothing done recently.
    expect(a?.done_per_minute).toBe(0);
    // No queue named after either key: tasks wait for a worker that is not there.
    expect(a?.queue).toBeNull();
    expect(a?.warning).toContain('no worker queue');
    const b = body.keys.find((k) => k.key === kb);
    expect(b?.categories).toMatchObject({ unroutable: 1, new: 1 });
    const byCreator = await call(overviewCreators, 'GET', '/DANE/overview/creators');
    expect(byCreator.status).toBe(200);
    const creators = (byCreator.body as CreatorsOverview).creators;
    expect(creators.find((c) => c.creator === creator)).toMatchObject({
      documents: 9,
      total: 9,
      categories: { done: 3, failed: 3 },
    });
    expect(creators.find((c) => c.creator === other)).toMatchObject({ documents: 2, total: 2 });
    expect(body.queues_error).toBeNull();
  });

  it("counts tasks without dane.creator (the original's, older versions') under their document's creator", async () => {
    const ka = uniqueKey('OVLA');
    const kb = uniqueKey('OVLB');
    const creator = `C-${randomUUID()}`;
    const shared = randomUUID();
    await seedTasks([
      // One document with a task that carries its creator and one that does not.
      { key: ka, state: 200, creator, document: shared },
      { key: kb, state: 500, creator, document: shared, legacy: true },
      { key: ka, state: 502, creator, due: true, legacy: true },
      { key: ka, state: 502, creator, legacy: true },
      { key: ka, state: 200, creator, legacy: true },
      { key: ka, state: 102, creator, due: true },
    ]);
    const expected = {
      creator,
      documents: 5,
      total: 6,
      states: { '200': 2, '500': 1, '502': 2, '102': 1 },
      categories: { done: 2, failed: 2, backoff: 1, queued: 1, new: 0, waiting: 0, unroutable: 0 },
    };
    const response = await call(overviewCreators, 'GET', '/DANE/overview/creators');
    expect(response.status).toBe(200);
    expect((response.body as CreatorsOverview).creators.find((c) => c.creator === creator)).toMatchObject(
      expected,
    );
    // The same counts whichever way the tasks without a creator are counted: by their documents' ids, or (when
    // they are many) through the join.
    for (const legacyByDocumentLimit of [LEGACY_BY_DOCUMENT_LIMIT, 0]) {
      const counts = await creatorCounts({ maxCreators: 10_000, recentMinutes: 10, legacyByDocumentLimit });
      const entry = counts.creators.find((c) => c.creator === creator);
      expect(entry, `limit ${legacyByDocumentLimit}`).toMatchObject({
        documents: 5,
        total: 6,
        doneRecently: 0,
      });
      expect(entry?.states).toEqual([
        { state: 102, count: 1, due: 1 },
        { state: 200, count: 2, due: 0 },
        { state: 500, count: 1, due: 0 },
        { state: 502, count: 2, due: 1 },
      ]);
    }
  });

  it('shows the queue of a key with its consumers, and warns while none is bound', async () => {
    const key = uniqueKey('OVQ');
    const connection = await (await import('amqplib')).default.connect(getConfig().amqp.url);
    const channel = await connection.createChannel();
    try {
      await channel.assertQueue(key, { durable: true });
      await seedTasks([{ key, state: 102, creator: 'C-queue' }]);
      const row = async () =>
        ((await call(overview, 'GET', '/DANE/overview')).body as Overview).keys.find((k) => k.key === key);
      expect((await row())?.queue).toMatchObject({ name: key, consumers: 0 });
      expect((await row())?.warning).toContain('no consumer is bound');
      await channel.consume(key, () => undefined);
      // The management API refreshes its statistics every few seconds: wait until it sees the consumer.
      let seen = await row();
      for (let i = 0; i < 40 && seen?.queue?.consumers !== 1; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        seen = await row();
      }
      expect(seen?.queue?.consumers).toBe(1);
      expect(seen?.warning).toBeNull();
    } finally {
      await channel.deleteQueue(key);
      await connection.close();
    }
  });
});

describe('GET /DANE/tasks', () => {
  it('selects by key, states and creator, exactly, a page at a time', async () => {
    const key = uniqueKey('FIND');
    const creator = `C-${randomUUID()}`;
    const seeded = await seedTasks([
      { key, state: 500, creator },
      { key, state: 500, creator },
      { key, state: 503, creator },
      { key, state: 200, creator },
      { key, state: 500, creator: `C-${randomUUID()}` },
    ]);
    const wanted = seeded.filter((t) => t.creator === creator && t.state !== 200);
    const first = await call(tasksFind, 'GET', '/DANE/tasks', {
      query: `key=${key}&state=500,503&creator=${creator}&limit=2`,
    });
    expect(first.status).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    const link = first.headers.link as string;
    const cursor = new URL(/<([^>]+)>/.exec(link)?.[1] ?? '', 'http://x').searchParams.get('cursor');
    const second = await call(tasksFind, 'GET', '/DANE/tasks', {
      query: `key=${key}&state=500&state=503&creator=${creator}&limit=2&cursor=${cursor}`,
    });
    expect(second.headers.link).toBeUndefined();
    const found = [...(first.body as { _id: string }[]), ...(second.body as { _id: string }[])];
    expect(found.map((t) => t._id).sort()).toEqual(idsOf(wanted));
  });

  it('answers 400 naming a malformed state', async () => {
    const response = await call(tasksFind, 'GET', '/DANE/tasks', { query: 'state=abc' });
    expect(response.status).toBe(400);
    expect((response.body as { message: string }).message).toContain('state');
  });
});

describe('POST /DANE/tasks/{action}', () => {
  const bulk = (action: string, body: unknown) =>
    call(tasksBulk, 'POST', `/DANE/tasks/${action}`, { pathParameters: { action }, body });

  it('dry run: counts what the lifecycle would change, and changes nothing', async () => {
    const key = uniqueKey('DRY');
    const seeded = await seedTasks([
      { key, state: 500, creator: 'C-dry' },
      { key, state: 102, creator: 'C-dry' },
      { key, state: 200, creator: 'C-dry' },
      { key, state: 422, creator: 'C-dry', due: true },
    ]);
    const retry = await bulk('retry', { key, dry_run: true });
    expect(retry.status).toBe(200);
    // retry leaves queued and done tasks alone; forceretry, reset and delete take all.
    expect(retry.body).toEqual({
      action: 'retry',
      dry_run: true,
      matched: 4,
      affected: 2,
      skipped: 2,
      next: null,
    });
    expect((await bulk('forceretry', { key, dry_run: true })).body).toMatchObject({ affected: 4 });
    expect((await bulk('delete', { key, dry_run: true })).body).toMatchObject({ affected: 4 });
    for (const task of seeded) expect(await stateOf(task.id)).toBe(task.state);
  });

  it('reset by filter changes exactly the matching tasks, as the single reset does', async () => {
    const key = uniqueKey('RST');
    const creator = `C-${randomUUID()}`;
    const seeded = await seedTasks([
      { key, state: 500, creator, lastError: 'boom' },
      { key, state: 500, creator },
      { key, state: 503, creator },
      { key, state: 500, creator: `C-${randomUUID()}` },
    ]);
    const response = await bulk('reset', { key, state: 500, creator });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ matched: 2, affected: 2, skipped: 0, next: null });
    for (const task of seeded) {
      const hit = await getTask(task.id);
      const matches = task.creator === creator && task.state === 500;
      expect(hit?.source.task.state, task.id).toBe(matches ? 201 : task.state);
      if (matches) {
        expect(hit?.source.task.msg).toBe('Reset');
        expect(hit?.source.dane).toMatchObject({ retries: 0, last_error: null });
        expect(hit?.source.dane?.due_at).toBeTypeOf('number');
      }
    }
  });

  it('retry by ids claims and publishes each task once; a queued one is skipped', async () => {
    const worker = await workerQueue(uniqueKey('BRT'));
    queues.push(worker);
    const seeded = await seedTasks([
      { key: worker.key, state: 500, creator: 'C-ids' },
      { key: worker.key, state: 502, creator: 'C-ids' },
      { key: worker.key, state: 102, creator: 'C-ids' },
    ]);
    const response = await bulk('retry', { ids: seeded.map((t) => t.id) });
    expect(response.body).toMatchObject({ matched: 3, affected: 2, skipped: 1 });
    const messages = await worker.drain();
    const published = messages.map((m) => m.properties.correlationId.split('#')[0]).sort();
    expect(published).toEqual(idsOf(seeded.filter((t) => t.state !== 102)));
    for (const task of seeded.filter((t) => t.state !== 102)) {
      const hit = await getTask(task.id);
      expect(hit?.source.task.state).toBe(102);
      expect(hit?.source.dane?.attempt).toBe(2);
    }
  });

  it('delete by filter removes the tasks and their results, and nothing else', async () => {
    const key = uniqueKey('DEL');
    const seeded = await seedTasks([
      { key, state: 500, creator: 'C-del' },
      { key, state: 200, creator: 'C-del' },
    ]);
    const [failed, done] = seeded as [SeededTask, SeededTask];
    await client.index({
      index,
      routing: failed.documentId,
      body: {
        role: { name: 'result', parent: failed.id },
        result: { generator: { id: 'g', name: 'G', type: 'Software', homepage: 'h' }, payload: { a: 1 } },
      },
      refresh: 'wait_for',
    });
    const response = await bulk('delete', { key, state: [500] });
    expect(response.body).toMatchObject({ matched: 1, affected: 1 });
    expect(await getTask(failed.id)).toBeUndefined();
    expect(await stateOf(done.id)).toBe(200);
    await client.indices.refresh({ index });
    const results = await client.count({
      index,
      body: { query: { parent_id: { type: 'result', id: failed.id } } },
    });
    expect((results.body as { count: number }).count).toBe(0);
  });

  it('goes on from `next` when its time budget runs out, until every task is done', async () => {
    const key = uniqueKey('PAGE');
    const seeded = await seedTasks(Array.from({ length: 5 }, () => ({ key, state: 500, creator: 'C-page' })));
    let result = await bulkAction('reset', { key }, { pageSize: 2, budgetMs: 0 });
    let affected = result.affected;
    let calls = 1;
    expect(result.next).toBeDefined();
    while (result.next) {
      result = await bulkAction('reset', { key }, { pageSize: 2, budgetMs: 0, cursor: result.next });
      affected += result.affected;
      calls += 1;
    }
    expect(calls).toBe(3);
    expect(affected).toBe(5);
    for (const task of seeded) expect(await stateOf(task.id)).toBe(201);
  });

  it('answers 400 without a selection, for an unknown action, and for a bad state', async () => {
    const none = await bulk('retry', { dry_run: true });
    expect(none.status).toBe(400);
    expect((none.body as { message: string }).message).toContain('at least one of key, state, creator, ids');
    const unknown = await bulk('explode', { key: 'X' });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { message: string }).message).toContain('action');
    const state = await bulk('reset', { state: 'failed' });
    expect(state.status).toBe(400);
    expect((state.body as { message: string }).message).toContain('state');
  });
});

describe('GET /DANE/auth/me', () => {
  it('without an authorizer: anonymous with every scope, mode none', async () => {
    const response = await call(authMe, 'GET', '/DANE/auth/me');
    expect(response.body).toEqual({ name: 'anonymous', scopes: ['read', 'write', 'admin'], mode: 'none' });
  });
});
