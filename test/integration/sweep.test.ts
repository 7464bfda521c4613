import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as taskGet } from '../../functions/http/task-get.ts';
import { handler as workersReset } from '../../functions/http/workers-reset.ts';
import { closeBroker, getBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { taskId } from '../../lib/model/ids.ts';
import { TaskSpecSchema } from '../../lib/model/task.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { createTasks, getTask, updateTasksIfUnchanged } from '../../lib/store/tasks.ts';
import { assignTask, newTaskSource } from '../../lib/tasks/assign.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';
import { defaultSweepDeps, type SweepDeps, sweep } from '../../lib/tasks/sweep.ts';
import { attemptOf, closeAmqp, uniqueKey, type WorkerQueue, workerQueue } from '../support/amqp.ts';
import { indexTestDocument } from '../support/documents.ts';
import { call } from '../support/http.ts';

// An index of this file's own, so the sweep sees only the tasks these tests made, and a short attempt limit.
// Hoisted above the imports: the function wrappers read the configuration when they are loaded (cold start).
vi.hoisted(() => {
  process.env.DANE_INDEX = `dane-test-sweep-${crypto.randomUUID().slice(0, 8)}`;
  // A response queue of its own: replies other tests left in the shared one would hold every lease open.
  process.env.DANE_RESPONSE_QUEUE = `dane-test-sweep-replies-${crypto.randomUUID().slice(0, 8)}`;
  process.env.RETRY_MAX_ATTEMPTS = '2';
});

const client = getStoreClient();
const queues: WorkerQueue[] = [];
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const at = (offsetMs: number) => new Date(T0 + offsetMs);
const SECOND = 1_000;
const HOUR = 3_600_000;

let deps: SweepDeps;
const index = () => getConfig().opensearch.index;
const refresh = () => client.indices.refresh({ index: index() });
const runSweep = async (now: Date) => {
  await refresh();
  return sweep(now, deps);
};

async function queueFor(prefix: string) {
  const queue = await workerQueue(uniqueKey(prefix));
  queues.push(queue);
  return queue;
}

const reply = (id: string, attempt: number, state: number, message = 'x', extra: object = {}) => ({
  correlationId: `${id}#${attempt}`,
  body: JSON.stringify({ state, message, ...extra }),
});

async function task(id: string) {
  const hit = await getTask(id);
  return {
    state: hit?.source.task.state,
    attempt: hit?.source.dane?.attempt,
    retries: hit?.source.dane?.retries,
    due: hit?.source.dane?.due_at,
  };
}

beforeAll(async () => {
  await ensureIndex();
  deps = defaultSweepDeps(() => 60_000);
});

afterAll(async () => {
  for (const queue of queues) await queue.close();
  await (await getBroker()).channel.deleteQueue(getConfig().amqp.responseQueue);
  await client.indices.delete({ index: `${index()}-queues`, ignore_unavailable: true });
  await client.indices.delete({ index: index(), ignore_unavailable: true });
  await closeAmqp();
  await closeBroker();
});

describe('the sweep (fixed clock, real OpenSearch and RabbitMQ)', () => {
  it('publishes a 201 task that nobody published, once its grace period is over', async () => {
    const worker = await queueFor('LEFT');
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const spec = TaskSpecSchema.parse({ key: worker.key });
    const id = taskId(documentId, worker.key);
    await createTasks([{ id, documentId, source: newTaskSource(spec, documentId, at(0)) }]);

    expect((await runSweep(at(60 * SECOND))).published).toBe(0);
    expect(await worker.drain(200)).toHaveLength(0);
    const report = await runSweep(at(121 * SECOND));
    expect(report.published).toBe(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 1));
    expect(await task(id)).toMatchObject({ state: 102, attempt: 1 });
  });

  it('retries 502/503 with exponential back-off up to the attempt limit, then leaves it visible', async () => {
    const worker = await queueFor('FLAKY');
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const api = await assignTask(documentId, TaskSpecSchema.parse({ key: worker.key }), at(0));
    const id = api._id;
    await worker.drain(200);

    await handleReplies([reply(id, 1, 503, 'upstream down')], at(0));
    const first = await task(id);
    expect(first).toMatchObject({ state: 503, retries: 1 });
    // First retry: between half and all of the 60 s base delay.
    expect(first.due).toBeGreaterThanOrEqual(T0 + 30 * SECOND);
    expect(first.due).toBeLessThanOrEqual(T0 + 60 * SECOND);
    expect((await runSweep(at(29 * SECOND))).published).toBe(0);
    expect((await runSweep(at(61 * SECOND))).published).toBe(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 2));

    await handleReplies([reply(id, 2, 502, 'bad input again')], at(61 * SECOND));
    const second = await task(id);
    expect(second).toMatchObject({ state: 502, retries: 2 });
    // Second retry: between half and all of 120 s.
    expect(second.due).toBeGreaterThanOrEqual(T0 + 61 * SECOND + 60 * SECOND);
    expect(second.due).toBeLessThanOrEqual(T0 + 61 * SECOND + 120 * SECOND);
    expect((await runSweep(at(200 * SECOND))).published).toBe(1);
    await worker.drain(200);

    // The limit (2) is used up: the task stays in its error state, not due, and says so.
    await handleReplies([reply(id, 3, 503, 'still down')], at(300 * SECOND));
    expect(await task(id)).toMatchObject({ state: 503, retries: 2, due: null });
    await runSweep(at(1_000 * HOUR));
    expect(await worker.drain(300)).toHaveLength(0);
    const shown = await call(taskGet, 'GET', `/DANE/task/${id}`, { pathParameters: { task_id: id } });
    expect(shown.body).toMatchObject({
      state: 503,
      retry: { attempt: 3, retries: 2, next_try: null, last_error: 'still down' },
    });
  });

  it('publishes an unroutable (422) task once a queue is bound for its routing key', async () => {
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const key = uniqueKey('LATE');
    const api = await assignTask(documentId, TaskSpecSchema.parse({ key }), at(0));
    expect(api).toMatchObject({ state: 422, msg: 'Unroutable task' });
    expect(api.retry.next_try).not.toBeNull();

    const stillNobody = await runSweep(at(2 * HOUR));
    expect(stillNobody.unroutable).toBe(1);
    expect(await task(api._id)).toMatchObject({ state: 422, retries: 2 });
    // The attempts (2) are used up, yet an unroutable task is never given up: a worker may come any time.
    expect((await runSweep(at(3 * HOUR))).unroutable).toBe(1);
    const waiting = await task(api._id);
    expect(waiting).toMatchObject({ state: 422, retries: 2 });
    expect(waiting.due).not.toBeNull();

    const worker = await workerQueue(key);
    queues.push(worker);
    const report = await runSweep(at(4 * HOUR));
    expect(report.published).toBe(1);
    expect((await worker.next())?.fields.routingKey).toBe(`Video.${key}`);
    expect(await task(api._id)).toMatchObject({ state: 102 });
  });

  it("republishes a task whose lease expired as a new attempt; the old attempt's reply is then ignored", async () => {
    const worker = await queueFor('LEASE');
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const { _id: id } = await assignTask(documentId, TaskSpecSchema.parse({ key: worker.key }), at(0));
    await worker.drain(200);

    expect((await runSweep(at(1 * HOUR))).published).toBe(0);
    expect((await runSweep(at(6 * HOUR + SECOND))).published).toBe(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 2));
    const late = await handleReplies([reply(id, 1, 200, 'from the lost attempt')], at(6 * HOUR + 2 * SECOND));
    expect(late.outcomes).toEqual(['stale']);
    expect(await task(id)).toMatchObject({ state: 102, attempt: 2, retries: 1 });

    // Expiries count: past the attempt limit (2) the task is given up, visibly, instead of cycling for ever.
    expect((await runSweep(at(12 * HOUR + 3 * SECOND))).published).toBe(1);
    await worker.drain(200);
    const gaveUp = await runSweep(at(18 * HOUR + 4 * SECOND));
    expect(gaveUp).toMatchObject({ published: 0, gaveUp: 1 });
    expect(await task(id)).toMatchObject({ state: 500, due: null });
    expect((await getTask(id))?.source.task.msg).toBe(
      `No reply within the lease after 2 attempts (no queue named ${worker.key})`,
    );
    expect(await worker.drain(200)).toHaveLength(0);
  });

  it('keeps a lease open while the queue named after the key holds a backlog, and counts it from then', async () => {
    const key = uniqueKey('BACKLOG');
    const worker = await workerQueue(key, key);
    queues.push(worker);
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const { _id: id } = await assignTask(documentId, TaskSpecSchema.parse({ key }), at(0));
    // Its message waits in the queue, unconsumed: a backlog, not a loss.
    expect(await worker.count()).toBe(1);
    expect(await runSweep(at(6 * HOUR + SECOND))).toMatchObject({ published: 0, rescheduled: 1 });
    expect(await task(id)).toMatchObject({
      state: 102,
      attempt: 1,
      retries: 0,
      due: T0 + 12 * HOUR + SECOND,
    });
    expect(await worker.count()).toBe(1);
    // A worker takes it at 7 h; the lease now counts from the last run that saw the backlog (6 h).
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 1));
    expect((await runSweep(at(7 * HOUR))).published).toBe(0);
    expect((await runSweep(at(12 * HOUR + 2 * SECOND))).published).toBe(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 2));
  });

  it('picks up tasks the original server left (no bookkeeping) in a runnable state', async () => {
    const worker = await queueFor('LEGACY');
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const id = taskId(documentId, worker.key);
    await client.index({
      index: index(),
      id,
      routing: documentId,
      body: {
        task: { key: worker.key, state: 205, msg: 'Manual reset', priority: 1 },
        role: { name: 'task', parent: documentId },
        created_at: '2023-06-16T15:13:01',
        updated_at: '2023-06-16T15:13:01',
      },
    });
    const report = await runSweep(at(7 * HOUR));
    expect(report.published).toBe(1);
    const message = await worker.next();
    expect(message?.properties.correlationId).toMatch(attemptOf(id, 1));
    expect(JSON.parse(message?.content.toString() ?? '{}').task).toMatchObject({
      state: 205,
      msg: 'Manual reset',
    });
  });

  it('publishes a 412 task once its dependencies are done, even if the fan-out was lost', async () => {
    const worker = await queueFor('WAITS');
    const dependency = await queueFor('NEEDED');
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const { _id: id } = await assignTask(documentId, TaskSpecSchema.parse({ key: worker.key }), at(0));
    await worker.drain(200);
    await handleReplies(
      [reply(id, 1, 412, 'Unfinished dependencies', { dependencies: [dependency.key] })],
      at(0),
    );
    const depId = taskId(documentId, dependency.key);
    await dependency.drain(200);

    // The dependency finishes without its reply going through us (as if the fan-out had been lost).
    const dep = await getTask(depId);
    if (!dep) throw new Error('dependency not created');
    await updateTasksIfUnchanged([
      { hit: dep, doc: { task: { state: 200, msg: 'Success' }, dane: { due_at: null } } },
    ]);

    // The 412 backs off like an automatic retry (between 30 and 60 s the first time), then the sweep checks.
    expect((await runSweep(at(29 * SECOND))).published).toBe(0);
    const report = await runSweep(at(61 * SECOND));
    expect(report.published).toBe(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 2));
  });

  it('runs a 412 task again when the dependency it waits on does not exist, so the worker names it anew', async () => {
    const worker = await queueFor('ORPHANED');
    const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
    const { _id: id } = await assignTask(documentId, TaskSpecSchema.parse({ key: worker.key }), at(HOUR));
    await worker.drain(200);
    const ghost = uniqueKey('GHOST');
    await handleReplies([reply(id, 1, 412, 'Unfinished dependencies', { dependencies: [ghost] })], at(HOUR));
    // The dependency disappears (deleted by someone, or its creation had failed).
    await client.delete({
      index: index(),
      id: taskId(documentId, ghost),
      routing: documentId,
      refresh: 'wait_for',
    });

    const report = await runSweep(at(HOUR + 61 * SECOND));
    expect(report.published).toBe(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(id, 2));
  });

  it('two sweeps at once publish each due task exactly once', async () => {
    const worker = await queueFor('TWICE');
    const spec = TaskSpecSchema.parse({ key: worker.key });
    const tasks = [];
    for (let i = 0; i < 30; i += 1) {
      const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
      tasks.push({
        id: taskId(documentId, worker.key),
        documentId,
        source: newTaskSource(spec, documentId, at(0)),
      });
    }
    await createTasks(tasks);
    await refresh();
    const [a, b] = await Promise.all([sweep(at(HOUR), deps), sweep(at(HOUR), deps)]);
    expect((a?.published ?? 0) + (b?.published ?? 0)).toBe(30);
    expect(await worker.drain(1_000)).toHaveLength(30);
  });

  it('stops taking pages when its time budget runs low, and the next run carries on', async () => {
    const worker = await queueFor('BUDGET');
    const spec = TaskSpecSchema.parse({ key: worker.key });
    const tasks = [];
    for (let i = 0; i < 5; i += 1) {
      const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
      tasks.push({
        id: taskId(documentId, worker.key),
        documentId,
        source: newTaskSource(spec, documentId, at(HOUR)),
      });
    }
    await createTasks(tasks);
    await refresh();
    // Budget for exactly one page of two.
    let calls = 0;
    const tight = { ...deps, pageSize: 2, remainingMs: () => (calls++ === 0 ? 60_000 : 1_000) };
    const first = await sweep(at(HOUR + 3 * 60 * SECOND), tight);
    expect(first).toMatchObject({ pages: 1, read: 2, published: 2, complete: false });
    const rest = await runSweep(at(HOUR + 3 * 60 * SECOND));
    expect(rest).toMatchObject({ published: 3, complete: true });
    expect(await worker.drain(500)).toHaveLength(5);
  });

  it('reads only the due tasks, however many finished ones the index holds', async () => {
    const worker = await queueFor('FEW');
    const spec = TaskSpecSchema.parse({ key: worker.key });
    const finished = [];
    for (let i = 0; i < 300; i += 1) {
      const documentId = `done-${randomUUID()}`;
      const source = newTaskSource(spec, documentId, at(0));
      source.task.state = 200;
      source.dane = { ...source.dane, due_at: null };
      finished.push({ id: taskId(documentId, worker.key), documentId, source });
    }
    await createTasks(finished);
    const due = [];
    for (let i = 0; i < 3; i += 1) {
      const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
      due.push({
        id: taskId(documentId, worker.key),
        documentId,
        source: newTaskSource(spec, documentId, at(0)),
      });
    }
    await createTasks(due);
    // Everything earlier tests left due has been handled by the sweeps above at later times.
    const report = await runSweep(at(2 * HOUR));
    expect(report.read).toBe(3);
    expect(report.published).toBe(3);
  });

  it('mass reset makes the errored tasks of a key 205 and the next sweep publishes them', async () => {
    const worker = await queueFor('MASS');
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const documentId = await indexTestDocument({ creator: 'SWEEP', refresh: false });
      const { _id } = await assignTask(documentId, TaskSpecSchema.parse({ key: worker.key }), at(0));
      ids.push(_id);
    }
    await worker.drain(300);
    await handleReplies(
      ids.map((id, i) => reply(id, 1, i < 3 ? 500 : 404, 'failed')),
      at(0),
    );

    const bad = await call(workersReset, 'POST', `/DANE/workers/${worker.key}/reset/abc`, {
      pathParameters: { task_key: worker.key, state: 'abc' },
    });
    expect(bad.status).toBe(400);
    const none = await call(workersReset, 'GET', `/DANE/workers/${worker.key}/reset/403`, {
      pathParameters: { task_key: worker.key, state: '403' },
    });
    expect(none.body).toEqual({ total: 0, error: 'No tasks affected' });

    const reset = await call(workersReset, 'POST', `/DANE/workers/${worker.key}/reset`, {
      pathParameters: { task_key: worker.key },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ total: 3, error: '' });
    expect((await getTask(ids[0] as string))?.source.task).toMatchObject({ state: 205, msg: 'Manual reset' });
    expect((await getTask(ids[3] as string))?.source.task.state).toBe(404);
    // One reset rule: the bookkeeping is cleared as by a single reset (the mass reset used to keep last_error,
    // waiting_on and unconfirmed).
    expect((await getTask(ids[0] as string))?.source.dane).toMatchObject({
      retries: 0,
      last_error: null,
      waiting_on: null,
      unconfirmed: null,
    });

    // The reset tasks are due now (wall clock), so a sweep at any later time publishes exactly those three.
    const report = await runSweep(new Date(Date.now() + SECOND));
    expect(report.published).toBe(3);
    expect(await worker.drain(500)).toHaveLength(3);
  });
});
