import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as taskAction } from '../../functions/http/task-action.ts';
import { handler as taskCreate } from '../../functions/http/task-create.ts';
import { handler as taskDelete } from '../../functions/http/task-delete.ts';
import { handler as taskDocument } from '../../functions/http/task-document.ts';
import { handler as taskGet } from '../../functions/http/task-get.ts';
import { handler as taskList } from '../../functions/http/task-list.ts';
import { handler as taskResults } from '../../functions/http/task-results.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { taskId } from '../../lib/model/ids.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { bulkChunks } from '../../lib/store/items.ts';
import {
  createTasks,
  getTask,
  getTasks,
  replaceTasksIfUnchanged,
  type TaskHit,
  updateTasksIfUnchanged,
} from '../../lib/store/tasks.ts';
import { newTaskSource } from '../../lib/tasks/assign.ts';
import { defaultPorts, type TaskPorts } from '../../lib/tasks/ports.ts';
import { createAndPublish, publishTasksById } from '../../lib/tasks/publish.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';
import { attemptOf, closeAmqp, uniqueKey, type WorkerQueue, workerQueue } from '../support/amqp.ts';
import { indexTestDocument } from '../support/documents.ts';
import { call } from '../support/http.ts';

const client = getStoreClient();
const index = getConfig().opensearch.index;
const queues: WorkerQueue[] = [];

async function queueFor(prefix: string): Promise<WorkerQueue> {
  const queue = await workerQueue(uniqueKey(prefix));
  queues.push(queue);
  return queue;
}

const reply = (id: string, attempt: number, body: unknown) => ({
  correlationId: `${id}#${attempt}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

async function stateOf(id: string) {
  const hit = await getTask(id);
  return { state: hit?.source.task.state, msg: hit?.source.task.msg, attempt: hit?.source.dane?.attempt };
}

beforeAll(async () => {
  await ensureIndex();
});

afterAll(async () => {
  for (const queue of queues) await queue.close();
  await closeAmqp();
  await closeBroker();
});

describe('POST /DANE/task (single)', () => {
  it('registers, publishes with the original message shape and properties, and answers 201', async () => {
    const worker = await queueFor('ASR');
    const documentId = await indexTestDocument({ type: 'Sound' });
    const response = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: documentId, key: worker.key.toLowerCase(), priority: 3, lang: 'nl' },
    });
    expect(response.status).toBe(201);
    const id = taskId(documentId, worker.key);
    expect(response.body).toMatchObject({ _id: id, key: worker.key, state: 102, msg: 'Queued', priority: 3 });
    expect((response.body as { args: unknown }).args).toEqual({ lang: 'nl' });

    const message = await worker.next();
    expect(message).toBeDefined();
    expect(message?.fields.routingKey).toBe(`Sound.${worker.key}`);
    expect(message?.fields.exchange).toBe('DANE-exchange');
    expect(message?.properties).toMatchObject({
      replyTo: 'DANE-response-queue',
      correlationId: expect.stringMatching(attemptOf(id, 1)),
      priority: 3,
      deliveryMode: 2,
    });
    expect(message?.properties.contentType).toBeUndefined();
    expect(message?.properties.messageId).toBeUndefined();
    const body = JSON.parse(message?.content.toString() ?? '{}');
    expect(Object.keys(body)).toEqual(['task', 'document']);
    expect(body.task).toEqual({
      key: worker.key,
      _id: id,
      state: 201,
      msg: 'Created',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      priority: 3,
      args: { lang: 'nl' },
    });
    expect(Object.keys(body.document)).toEqual(['target', 'creator', 'created_at', 'updated_at', '_id']);
    expect(body.document._id).toBe(documentId);

    const stored = await client.get({ index, id, routing: documentId });
    expect(stored.body._routing).toBe(documentId);
    expect((stored.body._source as { role: unknown }).role).toEqual({ name: 'task', parent: documentId });
  });

  it('folds the nested form, clamps priority and takes a lone "args" key as the args', async () => {
    const worker = await queueFor('NESTED');
    const documentId = await indexTestDocument();
    const response = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: documentId, task: { key: worker.key, priority: 42, args: { model: 'large' } } },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ priority: 10, args: { model: 'large' } });
    expect((await worker.next())?.properties.priority).toBe(10);
  });

  it.each([
    [{}, 'document_id'],
    [{ document_id: 'x' }, 'key'],
    [{ document_id: 'x', key: '' }, 'key'],
    [{ document_id: 'x', key: 'A', priority: 'high' }, 'priority'],
    [{ document_id: 'x', key: 'A', _id: 'mine' }, '_id'],
    [{ document_id: 42, key: 'A' }, 'document_id'],
    [{ document_id: 'x', task: 'ASR' }, 'task'],
    [[1, 2], 'body'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const response = await call(taskCreate, 'POST', '/DANE/task', { body });
    expect(response.status).toBe(400);
    expect((response.body as { message: string }).message).toContain(field);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await call(taskCreate, 'POST', '/DANE/task', { rawBody: '{"document_id": ' });
    expect(response.status).toBe(400);
  });

  it('answers 404 for a missing document and 409 for a task already assigned', async () => {
    const missing = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: 'nope', key: 'ASR' },
    });
    expect(missing.status).toBe(404);
    const worker = await queueFor('DUP');
    const documentId = await indexTestDocument();
    expect(
      (await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key: worker.key } }))
        .status,
    ).toBe(201);
    const again = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: documentId, key: worker.key },
    });
    expect(again.status).toBe(409);
    expect((again.body as { message: string }).message).toBe(
      `Task \`${worker.key}\` already assigned to document \`${documentId}\``,
    );
  });

  it('marks a task nobody is bound to as 422 "Unroutable task"', async () => {
    const documentId = await indexTestDocument();
    const key = uniqueKey('NOBODY');
    const response = await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      state: 422,
      msg: 'Unroutable task',
      retry: { attempt: 1, retries: 1 },
    });
    // A person's retry starts the automatic retries afresh.
    const id = (response.body as { _id: string })._id;
    const retried = await call(taskAction, 'POST', `/DANE/task/${id}/retry`, {
      pathParameters: { task_id: id, action: 'retry' },
    });
    expect(retried.body).toMatchObject({ state: 422, retry: { attempt: 2, retries: 1 } });
  });
});

describe('POST /DANE/task (batch)', () => {
  it('accounts for every document id in success or failed', async () => {
    const worker = await queueFor('BATCH');
    const a = await indexTestDocument();
    const b = await indexTestDocument();
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: a, key: worker.key } });
    await worker.drain(200);
    const response = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: [a, b, 'missing-doc'], task: { key: worker.key } },
    });
    expect(response.status).toBe(200);
    const body = response.body as { success: Array<{ _id: string; state: number }>; failed: unknown[] };
    expect(body.success.map((t) => t._id)).toEqual([taskId(b, worker.key)]);
    expect(body.success[0]?.state).toBe(201);
    expect(body.failed).toEqual([
      { document_id: 'missing-doc', error: "[404] 'No document with id `missing-doc` found'" },
      { document_id: a, error: `Task \`${worker.key}\` already assigned to document \`${a}\`` },
    ]);
    const messages = await worker.drain();
    expect(messages).toHaveLength(1);
  });
});

describe('large batches (concurrent bulk requests, concurrent publisher chunks)', () => {
  it('creates every task once and in order across the requests, publishes each exactly once, applies every reply', async () => {
    const worker = await queueFor('LARGE');
    const n = 2_500;
    expect(bulkChunks(n, true).length).toBeGreaterThan(1);
    const documentIds = Array.from({ length: n }, (_, i) =>
      createHash('sha1').update(`large-${worker.key}-${i}`).digest('hex'),
    );
    const lines = documentIds.flatMap((id) => [
      { create: { _index: index, _id: id } },
      {
        target: { id, url: 'http://example.org/v.mp4', type: 'Video' },
        creator: { id: 'TESTS', type: 'Organization' },
        created_at: '2026-01-01T00:00:00',
        updated_at: '2026-01-01T00:00:00',
        role: 'document',
      },
    ]);
    expect((await client.bulk({ body: lines })).body.errors).toBe(false);
    // One task exists already, in the second request's half: its create alone must come back as a conflict.
    const taken = documentIds[2_000] as string;
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: taken, key: worker.key } });
    expect(await worker.drain(200)).toHaveLength(1);

    const spec = { key: worker.key, priority: 1, args: {} };
    const now = new Date();
    const tasks = documentIds.map((documentId) => ({
      id: taskId(documentId, worker.key),
      documentId,
      source: newTaskSource(spec, documentId, now),
    }));
    const created = await createTasks(tasks, true);
    expect(created).toHaveLength(n);
    created.forEach((outcome, i) => {
      expect(outcome.status).toBe(i === 2_000 ? 'conflict' : 'ok');
    });
    const published = await publishTasksById(
      tasks.filter((_, i) => i !== 2_000).map((task) => task.id),
      now,
    );
    expect(published).toBe(n - 1);
    const messages = await worker.drain();
    const ids = messages.map((m) => JSON.parse(m.content.toString()).task._id as string);
    expect(ids).toHaveLength(n - 1);
    expect(new Set(ids).size).toBe(n - 1);
    expect((await stateOf(tasks[1_234]?.id as string)).state).toBe(102);

    // Conditional replacements of that many go in concurrent requests too: outcomes in order, and a task changed
    // after the read (in the second request's half) comes back alone as a conflict.
    const inQueue = tasks.filter((_, i) => i !== 2_000).map((task) => task.id);
    expect(bulkChunks(inQueue.length, true).length).toBeGreaterThan(1);
    const hits = await getTasks(inQueue);
    const changed = inQueue[2_100] as string;
    const changedHit = hits.get(changed) as TaskHit;
    expect(
      (await updateTasksIfUnchanged([{ hit: changedHit, doc: { task: { msg: 'changed meanwhile' } } }]))[0]
        ?.status,
    ).toBe('ok');
    const replaced = await replaceTasksIfUnchanged(
      inQueue.map((id) => {
        const hit = hits.get(id) as TaskHit;
        return { hit, source: { ...hit.source, task: { ...hit.source.task, msg: 'replaced' } } };
      }),
    );
    expect(replaced).toHaveLength(inQueue.length);
    replaced.forEach((outcome, i) => {
      expect(outcome.status).toBe(i === 2_100 ? 'conflict' : 'ok');
    });
    expect((await getTask(changed))?.source.task.msg).toBe('changed meanwhile');
    expect((await getTask(inQueue[2_200] as string))?.source.task.msg).toBe('replaced');

    // Their replies in one batch, written in concurrent requests as well: every one applied.
    const report = await handleReplies(
      messages.map((m) => ({
        correlationId: m.properties.correlationId as string,
        body: JSON.stringify({ state: 200, message: 'Success' }),
      })),
    );
    expect(report.counts.applied).toBe(n - 1);
    expect((await stateOf(changed)).state).toBe(200);
    expect((await stateOf(inQueue.at(-1) as string)).state).toBe(200);
  });
});

describe('batches published inline (POST /DANE/task up to INLINE_PUBLISH_LIMIT)', () => {
  async function documents(prefix: string, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, i) =>
      createHash('sha1').update(`${prefix}-${i}`).digest('hex'),
    );
    const lines = ids.flatMap((id) => [
      { create: { _index: index, _id: id } },
      {
        target: { id, url: 'http://example.org/v.mp4', type: 'Video' },
        creator: { id: 'TESTS', type: 'Organization' },
        created_at: '2026-01-01T00:00:00',
        updated_at: '2026-01-01T00:00:00',
        role: 'document',
      },
    ]);
    expect((await client.bulk({ body: lines, refresh: true })).body.errors).toBe(false);
    return ids;
  }

  it('publishes a batch of several chunks before answering: each task once, claimed by its create, searchable', async () => {
    expect(getConfig().publishing.inlineLimit).toBeGreaterThanOrEqual(2_500);
    const worker = await queueFor('INLINE');
    const n = 2_500;
    const documentIds = await documents(`inline-${worker.key}`, n);
    // One task exists already, in the third chunk: it alone must be answered as failed, and not sent again.
    const taken = documentIds[2_100] as string;
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: taken, key: worker.key } });
    expect(await worker.drain(200)).toHaveLength(1);

    const response = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: documentIds, key: worker.key },
    });
    expect(response.status).toBe(200);
    const body = response.body as { success: Array<{ _id: string; state: number }>; failed: unknown[] };
    expect(body.success).toHaveLength(n - 1);
    expect(body.success.map((t) => t._id)).toEqual(
      documentIds.filter((id) => id !== taken).map((id) => taskId(id, worker.key)),
    );
    // Answered as registered, as the original did.
    expect(new Set(body.success.map((t) => t.state))).toEqual(new Set([201]));
    expect(body.failed).toEqual([
      { document_id: taken, error: `Task \`${worker.key}\` already assigned to document \`${taken}\`` },
    ]);
    // Every message is in the queue when the answer comes: no waiting for a publisher.
    const messages = await worker.drain();
    const ids = messages.map((m) => JSON.parse(m.content.toString()).task._id as string);
    expect(ids).toHaveLength(n - 1);
    expect(new Set(ids).size).toBe(n - 1);
    // The message shows the task as registered; the store has it queued with its publish confirmed (due at the
    // end of the lease, not after the publish grace), at attempt 1.
    expect(JSON.parse(messages[0]?.content.toString() ?? '{}').task.state).toBe(201);
    const sample = await getTask(taskId(documentIds[1_500] as string, worker.key));
    expect(sample?.source.task.state).toBe(102);
    expect(sample?.source.dane?.attempt).toBe(1);
    expect(sample?.source.dane?.due_at).toBeGreaterThan(Date.now() + 60 * 60_000);
    // dane-workflows searches for the tasks of its batch right after the answer.
    const found = await client.count({
      index,
      body: { query: { bool: { filter: [{ term: { 'task.key': worker.key } }] } } },
    });
    expect(found.body.count).toBe(n);
  });

  it('creates what it cannot publish within its time budget as registered, for the publisher', async () => {
    const worker = await queueFor('DEFERRED');
    const n = 1_500;
    const documentIds = await documents(`deferred-${worker.key}`, n);
    const spec = { key: worker.key, priority: 1, args: {} };
    const now = new Date();
    const tasks = documentIds.map((documentId) => ({
      id: taskId(documentId, worker.key),
      documentId,
      source: newTaskSource(spec, documentId, now),
    }));
    const { getDocuments } = await import('../../lib/store/documents.ts');
    const { created, outcomes } = await createAndPublish(
      tasks,
      await getDocuments(documentIds),
      now,
      undefined,
      {
        budgetMs: 0,
      },
    );
    expect(created.filter((c) => c.status === 'ok')).toHaveLength(n);
    expect(new Set(outcomes.values())).toEqual(new Set(['deferred']));
    expect(outcomes.size).toBe(n);
    // Nothing was claimed or sent (a publish it made would have been confirmed, so in the queue, before it
    // returned; the 300 ms only let a stray delivery arrive): the tasks wait at 201 for the publisher or the sweep.
    expect(await worker.drain(300)).toHaveLength(0);
    expect(await stateOf(tasks[1_200]?.id as string)).toMatchObject({ state: 201, attempt: 0 });
    expect(
      await publishTasksById(
        tasks.map((t) => t.id),
        now,
      ),
    ).toBe(n);
    expect(await worker.drain()).toHaveLength(n);
  });
});

describe('task routes', () => {
  it('GET task, its document, its results; DELETE removes task and results', async () => {
    const worker = await queueFor('READ');
    const documentId = await indexTestDocument();
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key: worker.key } });
    const id = taskId(documentId, worker.key);

    const got = await call(taskGet, 'GET', `/DANE/task/${id}`, { pathParameters: { task_id: id } });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ _id: id, key: worker.key, state: 102 });

    const doc = await call(taskDocument, 'GET', `/DANE/task/${id}/document`, {
      pathParameters: { task_id: id },
    });
    expect(doc.status).toBe(200);
    expect((doc.body as { _id: string })._id).toBe(documentId);

    // A result written the way Python workers write it: routed by the task id.
    await client.index({
      index,
      routing: id,
      body: {
        result: {
          generator: { id: 'r1', name: 'READ', type: 'Software', homepage: 'x' },
          payload: { a: null, b: 1 },
        },
        role: { name: 'result', parent: id },
        created_at: '2026-01-01T00:00:00',
        updated_at: '2026-01-01T00:00:00',
      },
      refresh: 'wait_for',
    });
    const results = await call(taskResults, 'GET', `/DANE/task/${id}/results`, {
      pathParameters: { task_id: id },
    });
    expect(results.status).toBe(200);
    expect(results.headers['x-total-count']).toBe('1');
    expect(results.body).toEqual([
      expect.objectContaining({ payload: { a: null, b: 1 }, task_id: id, created_at: '2026-01-01T00:00:00' }),
    ]);

    const deleted = await call(taskDelete, 'DELETE', `/DANE/task/${id}`, { pathParameters: { task_id: id } });
    expect(deleted.status).toBe(200);
    expect((await call(taskGet, 'GET', `/DANE/task/${id}`, { pathParameters: { task_id: id } })).status).toBe(
      404,
    );
    await client.indices.refresh({ index });
    const left = await client.count({ index, body: { query: { parent_id: { type: 'result', id } } } });
    expect(left.body.count).toBe(0);
  });

  it('404 for unknown task ids on every route', async () => {
    for (const handler of [taskGet, taskDocument, taskResults, taskDelete]) {
      const response = await call(handler, 'GET', '/DANE/task/nope', { pathParameters: { task_id: 'nope' } });
      expect(response.status).toBe(404);
    }
  });

  it('GET /DANE/task pages through all unfinished tasks with a cursor', async () => {
    const documentId = await indexTestDocument();
    for (let i = 0; i < 3; i += 1) {
      await call(taskCreate, 'POST', '/DANE/task', {
        body: { document_id: documentId, key: uniqueKey('LIST') },
      });
    }
    await client.indices.refresh({ index });
    // Every unfinished task of the index is listed, and the tests before this one leave thousands claimed: a page
    // size for some 20 pages keeps the walk short, and the 3 above make it at least 2 pages.
    const first = await call(taskList, 'GET', '/DANE/task', { query: 'limit=1' });
    const unfinished = Number(first.headers['x-total-count']);
    expect(unfinished).toBeGreaterThanOrEqual(3);
    const seen = new Set<string>();
    let query = `limit=${Math.max(2, Math.ceil(unfinished / 20))}`;
    let total = 0;
    let pagesWalked = 0;
    while (pagesWalked < 10_000) {
      const response = await call(taskList, 'GET', '/DANE/task', { query });
      expect(response.status).toBe(200);
      total = Number(response.headers['x-total-count']);
      for (const task of response.body as Array<{ _id: string; state: number }>) {
        expect([200, 412]).not.toContain(task.state);
        seen.add(task._id);
      }
      pagesWalked += 1;
      const link = response.headers.link;
      if (!link) break;
      query = /\?([^>]+)>/.exec(String(link))?.[1] ?? '';
    }
    expect(pagesWalked).toBeGreaterThanOrEqual(2);
    expect(seen.size).toBe(total);
    for (const id of [...seen].slice(0, 1)) expect(id).toMatch(/^[0-9a-f]{40}$/);
  });

  it('rejects an unknown action with 400 and a malformed limit with 400', async () => {
    const action = await call(taskAction, 'POST', '/DANE/task/x/explode', {
      pathParameters: { task_id: 'x', action: 'explode' },
    });
    expect(action.status).toBe(400);
    expect((action.body as { message: string }).message).toContain('action');
    expect((await call(taskList, 'GET', '/DANE/task', { query: 'limit=many' })).status).toBe(400);
  });
});

describe('worker replies', () => {
  async function queuedTask(prefix: string) {
    const worker = await queueFor(prefix);
    const documentId = await indexTestDocument();
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key: worker.key } });
    await worker.drain(200);
    return { worker, documentId, id: taskId(documentId, worker.key) };
  }

  it('leaves no task that is not settled without a due time: a worker 102 keeps the lease, a 201 is due after the grace', async () => {
    const { id } = await queuedTask('DUE');
    const leaseEnd = (await getTask(id))?.source.dane?.due_at;
    expect(leaseEnd).toBeGreaterThan(Date.now());
    const now = new Date();
    await handleReplies([reply(id, 1, { state: 102, message: 'Queued by the worker' })], now);
    expect((await getTask(id))?.source).toMatchObject({ task: { state: 102 }, dane: { due_at: leaseEnd } });

    const other = await queuedTask('DUE201');
    await handleReplies([reply(other.id, 1, { state: 201, message: 'Created' })], now);
    const got = await call(taskGet, 'GET', `/DANE/task/${other.id}`, {
      pathParameters: { task_id: other.id },
    });
    expect(got.body).toMatchObject({
      state: 201,
      retry: { next_try: new Date(now.getTime() + getConfig().tasks.createdGraceMs).toISOString() },
    });
  });

  it('stores state and message; a duplicate changes nothing', async () => {
    const { id } = await queuedTask('REPLY');
    const first = await handleReplies([reply(id, 1, { state: 200, message: 'Success', extra: 'ignored' })]);
    expect(first.outcomes).toEqual(['applied']);
    expect(await stateOf(id)).toMatchObject({ state: 200, msg: 'Success' });
    const again = await handleReplies([reply(id, 1, { state: 500, message: 'late duplicate' })]);
    expect(again.outcomes).toEqual(['duplicate']);
    expect(await stateOf(id)).toMatchObject({ state: 200, msg: 'Success' });
  });

  it('accepts any message value, as the original stored it, and ignores unusable dependency entries', async () => {
    const { id } = await queuedTask('ODDMSG');
    const report = await handleReplies([reply(id, 1, { state: 500, message: null })]);
    expect(report.outcomes).toEqual(['applied']);
    expect(await stateOf(id)).toMatchObject({ state: 500, msg: 'None' });
  });

  it('a reply from an older attempt never overwrites a retried task', async () => {
    const { id, worker } = await queuedTask('STALE');
    const retried = await call(taskAction, 'POST', `/DANE/task/${id}/forceretry`, {
      pathParameters: { task_id: id, action: 'forceretry' },
    });
    expect(retried.body).toMatchObject({ state: 102 });
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 2));
    const stale = await handleReplies([reply(id, 1, { state: 500, message: 'from the first attempt' })]);
    expect(stale.outcomes).toEqual(['stale']);
    expect(await stateOf(id)).toMatchObject({ state: 102, attempt: 2 });
    await handleReplies([reply(id, 2, { state: '200', message: 'ok' })]);
    expect(await stateOf(id)).toMatchObject({ state: 200 });
  });

  it('a reply to the message of a deleted task does not pass for the reply to the same key assigned again', async () => {
    const worker = await queueFor('AGAIN');
    const documentId = await indexTestDocument();
    const id = taskId(documentId, worker.key);
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key: worker.key } });
    const old = (await worker.next())?.properties.correlationId as string;
    await call(taskDelete, 'DELETE', `/DANE/task/${id}`, { pathParameters: { task_id: id } });
    await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key: worker.key } });
    const fresh = (await worker.next())?.properties.correlationId as string;
    expect(old).toMatch(attemptOf(id, 1));
    expect(fresh).toMatch(attemptOf(id, 1));
    expect(fresh).not.toBe(old);

    const late = await handleReplies([
      { correlationId: old, body: JSON.stringify({ state: 500, message: 'old' }) },
    ]);
    expect(late.outcomes).toEqual(['stale']);
    const current = await handleReplies([
      { correlationId: fresh, body: JSON.stringify({ state: 200, message: 'ok' }) },
    ]);
    expect(current.outcomes).toEqual(['applied']);
    expect(await stateOf(id)).toMatchObject({ state: 200, msg: 'ok' });
  });

  it('takes the reply to an attempt whose publish was not confirmed, since the message may have arrived', async () => {
    const { id } = await queuedTask('UNCONFIRMED');
    const hit = await getTask(id);
    if (!hit) throw new Error('task missing');
    // What claimAndPublish records when the broker did not confirm attempt 1.
    await updateTasksIfUnchanged([
      {
        hit,
        doc: {
          task: { state: 503, msg: 'Publishing to the message queue failed: timeout' },
          dane: { unconfirmed: 1 },
        },
      },
    ]);
    const report = await handleReplies([reply(id, 1, { state: 200, message: 'done anyway' })]);
    expect(report.outcomes).toEqual(['applied']);
    expect(await stateOf(id)).toMatchObject({ state: 200, msg: 'done anyway' });
  });

  it('records and drops poison replies without failing the good ones in the batch', async () => {
    const { id } = await queuedTask('POISON');
    const good = await queuedTask('GOOD');
    const report = await handleReplies([
      { correlationId: `${id}#1`, body: 'not json' },
      { correlationId: `${id}#1`, body: JSON.stringify({ message: 'no state' }) },
      { correlationId: undefined, body: JSON.stringify({ state: 200, message: 'no correlation' }) },
      reply('0'.repeat(40), 1, { state: 200, message: 'unknown task' }),
      // Double-encoded, as lib >= 0.3.6 sends what a callback returned as a string.
      reply(good.id, 1, JSON.stringify(JSON.stringify({ state: 200, message: 'double' }))),
    ]);
    expect(report.outcomes).toEqual(['poison', 'poison', 'poison', 'unknown-task', 'applied']);
    expect(await stateOf(good.id)).toMatchObject({ state: 200, msg: 'double' });
    expect(await stateOf(id)).toMatchObject({ state: 102 });
  });

  it('20 concurrent retries of an errored task publish exactly one message', async () => {
    const { id, worker } = await queuedTask('RACE');
    await handleReplies([reply(id, 1, { state: 500, message: 'boom' })]);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(taskAction, 'POST', `/DANE/task/${id}/retry`, {
          pathParameters: { task_id: id, action: 'retry' },
        }),
      ),
    );
    for (const response of responses) expect(response.status).toBe(200);
    const messages = await worker.drain(1_000);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.properties.correlationId).toMatch(attemptOf(id, 2));
  });

  it('reset puts the task back to 201 "Reset" without publishing', async () => {
    const { id, worker } = await queuedTask('RESET');
    const response = await call(taskAction, 'GET', `/DANE/task/${id}/ReSeT`, {
      pathParameters: { task_id: id, action: 'ReSeT' },
    });
    expect(response.body).toMatchObject({ state: 201, msg: 'Reset' });
    expect(await worker.drain(300)).toHaveLength(0);
  });

  it('412 creates and publishes the dependency; its success re-runs the dependant', async () => {
    const { id, documentId, worker } = await queuedTask('DEPENDANT');
    const dependency = await queueFor('DEPENDENCY');
    await handleReplies([
      reply(id, 1, {
        state: 412,
        message: 'Unfinished dependencies',
        dependencies: [dependency.key.toLowerCase()],
      }),
    ]);
    expect(await stateOf(id)).toMatchObject({ state: 412 });
    // A 412 counts like an automatic retry, so a worker that keeps replying 412 is slowed down by the back-off.
    expect((await getTask(id))?.source.dane).toMatchObject({ retries: 1, waiting_on: [dependency.key] });
    const depId = taskId(documentId, dependency.key);
    const depMessage = await dependency.next();
    expect(depMessage?.properties.correlationId).toMatch(attemptOf(depId, 1));

    await handleReplies([reply(depId, 1, { state: 200, message: 'Success' })]);
    const rerun = await worker.next();
    expect(rerun?.properties.correlationId).toMatch(attemptOf(id, 2));
    expect(JSON.parse(rerun?.content.toString() ?? '{}').task.state).toBe(412);
    await handleReplies([reply(id, 2, { state: 200, message: 'Success' })]);
    expect(await stateOf(id)).toMatchObject({ state: 200 });
  });

  // The replies function's cost per batch must not grow with the documents in it (issue 9): every store call goes
  // through the ports, so counting them there counts the OpenSearch requests (one each; none pages here).
  it('follows up a whole batch with the same number of store requests for 3 documents as for 30', async () => {
    const waiter = await queueFor('WAITS');
    const dependency = await queueFor('NEEDED');
    const calls = new Map<string, number>();
    const base = defaultPorts();
    const counted: TaskPorts = {
      ...base,
      store: Object.fromEntries(
        Object.entries(base.store).map(([name, fn]) => [
          name,
          (...args: unknown[]) => {
            calls.set(name, (calls.get(name) ?? 0) + 1);
            return (fn as (...a: unknown[]) => unknown)(...args);
          },
        ]),
      ) as unknown as TaskPorts['store'],
    };
    const requestsFor = async (n: number) => {
      const documents = await Promise.all(Array.from({ length: n }, () => indexTestDocument()));
      const batch = await call(taskCreate, 'POST', '/DANE/task', {
        body: { document_id: documents, key: waiter.key },
      });
      expect(batch.status).toBe(200);
      expect(await waiter.drain(200)).toHaveLength(n);
      const waiting = documents.map((d) => taskId(d, waiter.key));
      const needed = documents.map((d) => taskId(d, dependency.key));

      calls.clear();
      await handleReplies(
        waiting.map((id) =>
          reply(id, 1, { state: 412, message: 'Unfinished dependencies', dependencies: [dependency.key] }),
        ),
        new Date(),
        counted,
      );
      const for412 = Object.fromEntries(calls);
      // Every named dependency was created and published, every dependant waits on it.
      expect(await dependency.drain(200)).toHaveLength(n);
      for (const id of waiting)
        expect((await getTask(id))?.source.dane?.waiting_on).toEqual([dependency.key]);

      calls.clear();
      await handleReplies(
        needed.map((id) => reply(id, 1, { state: 200, message: 'Success' })),
        new Date(),
        counted,
      );
      const for200 = Object.fromEntries(calls);
      // Each dependency's success ran its own dependant again, and only that one.
      const reruns = await waiter.drain(200);
      expect(reruns.map((m) => JSON.parse(m.content.toString()).task._id).sort()).toEqual(
        [...waiting].sort(),
      );
      return { for412, for200 };
    };
    const few = await requestsFor(3);
    const many = await requestsFor(30);
    expect(many).toEqual(few);
    // Read the replies' tasks, store the states, find the waiting siblings, refresh before they run, read their
    // documents, claim, record the publish outcome (and an empty orphan write that sends nothing).
    expect(Object.values(few.for200).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(9);
  });

  it('a dependency that fails for good releases its dependants with a clear state', async () => {
    const { id, documentId } = await queuedTask('WAITER');
    const dependency = await queueFor('FAILS');
    await handleReplies([
      reply(id, 1, { state: 412, message: 'Unfinished dependencies', dependencies: [dependency.key] }),
    ]);
    const depId = taskId(documentId, dependency.key);
    await dependency.next();
    await handleReplies([reply(depId, 1, { state: 404, message: 'Source not found' })]);
    expect(await stateOf(id)).toMatchObject({
      state: 424,
      msg: `Dependency \`${dependency.key}\` failed: Source not found`,
    });
  });
});
