import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.ts';
import { documentId, taskId } from '../../lib/model/ids.ts';
import { attemptOf } from '../support/amqp.ts';
import { type Offline, startOffline, workerCredential } from '../support/offline.ts';
import {
  ensurePythonVenv,
  type PythonWorker,
  startPythonWorker,
  stopAllPythonWorkers,
} from '../support/python-worker.ts';
import { type Api, apiClient, pollUntil } from './offline-api.ts';

/**
 * The compatibility test of issue 4: unmodified Python workers (`dane` 0.4.3 from PyPI) against the server as
 * `npm start` runs it (serverless-offline + the event-source emulator + the worker gateway, through which the
 * workers reach the index), driven only through the HTTP API.
 * Task keys carry a per-run suffix so that concurrent runs (or the harness self-test, which uses ECHO) never
 * share a worker queue.
 */

const config = getConfig();
const run = randomUUID().slice(0, 8);
const RUN = run.toUpperCase();
const creatorId = `compat-${run}`;

let offline: Offline;
let api: Api;
const documents: string[] = [];

beforeAll(async () => {
  // The venv build (cold: ~30 s) and the first bundling of every function overlap.
  [offline] = await Promise.all([
    startOffline({ env: { SWEEP_ENABLED: 'false', LOG_LEVEL: 'info' } }),
    ensurePythonVenv(),
  ]);
  api = apiClient(offline);
});

afterEach(async () => {
  await stopAllPythonWorkers();
});

afterAll(async () => {
  await stopAllPythonWorkers();
  if (api) {
    for (const id of documents) await api('DELETE', `/DANE/document/${id}`).catch(() => undefined);
  }
  await offline?.stop();
});

interface ApiTask {
  _id: string;
  key: string;
  state: number;
  msg: string | null;
  priority: number;
  args: Record<string, unknown>;
  retry: { attempt: number; retries: number; next_try: string | null; last_error: string | null };
}

interface ApiResult {
  _id: string;
  generator: Record<string, unknown>;
  payload: Record<string, unknown>;
  created_at: string | null;
  updated_at: string | null;
  task_id: string;
}

/** Registers a Video document through POST /DANE/document and returns its id. */
async function registerDocument(name: string): Promise<string> {
  const target = { id: `${creatorId}-${name}`, url: `http://example.org/${name} video.mp4`, type: 'Video' };
  const creator = { id: creatorId, type: 'Organization' };
  const response = await api<Record<string, unknown>>('POST', '/DANE/document', { target, creator });
  const id = documentId(target.id, creator.id);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body).toMatchObject({
    _id: id,
    target: { ...target, url: `http://example.org/${name}%20video.mp4` },
    creator,
  });
  documents.push(id);
  return id;
}

/** Polls GET /DANE/task/{id} until its state is `state`; fails with the last task seen and the logs. */
function taskReaches(id: string, state: number, timeoutMs = 45_000): Promise<ApiTask> {
  return pollUntil(
    `task ${id} at state ${state}`,
    async () => {
      const response = await api<ApiTask>('GET', `/DANE/task/${id}`);
      if (response.status === 200 && response.body.state === state)
        return { done: true, value: response.body };
      return { done: false, last: { status: response.status, body: response.body } };
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- server output ---\n${offline.output().slice(-6000)}`);
  });
}

const receivedTask = (worker: PythonWorker, id: string) =>
  worker.received.filter((message) => message.task?._id === id);

describe('real Python workers (dane 0.4.3) through the HTTP API of serverless-offline', () => {
  it('runs an assigned task: the worker receives it, saves a result, replies 200, and the API serves it', async () => {
    const KEY = `ECHO_${RUN}`;
    const worker = await startPythonWorker({
      key: KEY,
      saveResult: true,
      gatewayUrl: offline.gatewayUrl,
      credential: workerCredential(offline),
    });
    expect(worker.bindingKeys).toEqual([`#.${KEY}`]);
    const docId = await registerDocument('echo');
    // Field types the shared test index already maps this way (args are dynamically mapped).
    const args = { lang: 'nl', nested: { depth: 2 } };

    // Flat form, lower-case key on purpose: the server upper-cases it, as the original did.
    const created = await api<ApiTask>('POST', '/DANE/task', {
      document_id: docId,
      key: `echo_${run}`,
      priority: 3,
      ...args,
    });
    const id = taskId(docId, KEY);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ _id: id, key: KEY, priority: 3, args });
    // Published before the answer: queued, or already done if the worker was quicker than the re-read.
    expect([102, 200]).toContain(created.body.state);

    const message = await worker.waitForReceived((m) => m.task?._id === id);
    expect(message.routingKey).toBe(`Video.${KEY}`);
    expect(message.exchange).toBe(config.amqp.exchange);
    expect(message.task).toMatchObject({ _id: id, key: KEY, state: 201, msg: 'Created', priority: 3, args });
    expect(message.document).toMatchObject({
      _id: docId,
      target: { id: `${creatorId}-echo`, type: 'Video' },
      creator: { id: creatorId },
    });
    expect(message.properties).toMatchObject({
      reply_to: config.amqp.responseQueue,
      priority: 3,
      delivery_mode: 2,
    });
    // The worker copies the correlation id (`<task id>#<attempt>.<claim token>`) into its reply verbatim.
    expect(message.properties.correlation_id).toMatch(attemptOf(id, 1));

    const reply = await worker.waitForReply(message.properties.correlation_id as string);
    expect(reply.reply).toEqual({ state: 200, message: 'Success' });
    expect(reply.replyTo).toBe(config.amqp.responseQueue);

    const done = await taskReaches(id, 200);
    expect(done).toMatchObject({ _id: id, key: KEY, msg: 'Success', args });
    expect(done.retry).toMatchObject({ attempt: 1, last_error: null, next_try: null });

    // The result the library indexed itself (routed by task id), served by both routes.
    expect(worker.results).toHaveLength(1);
    const [saved] = worker.results;
    expect(saved?.taskId).toBe(id);
    const resultId = saved?.resultId as string;
    const expectedPayload = { echo: args, document_id: docId, task_id: id, key: KEY };
    expect(saved?.payload).toEqual(expectedPayload);

    const results = await api<ApiResult[]>('GET', `/DANE/task/${id}/results`);
    expect(results.status, JSON.stringify(results.body)).toBe(200);
    expect(results.headers.get('x-total-count')).toBe('1');
    expect(results.body).toEqual([
      {
        _id: resultId,
        generator: worker.generator,
        payload: expectedPayload,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
        task_id: id,
      },
    ]);
    expect(worker.generator).toMatchObject({ type: 'Software', name: KEY });

    const result = await api<ApiResult>('GET', `/DANE/result/${resultId}`);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toEqual(results.body[0]);

    // One message, one reply: nothing was published twice.
    expect(receivedTask(worker, id)).toHaveLength(1);
    expect(worker.replies).toHaveLength(1);
  });

  it('runs a dependency chain: 412 → the server creates and runs the dependency → its 200 re-runs the dependant', async () => {
    const NEEDS = `NEEDSDL_${RUN}`;
    const DOWNLOAD = `DOWNLOAD_${RUN}`;
    const [needs, download] = await Promise.all([
      startPythonWorker({
        key: NEEDS,
        dependsOn: [DOWNLOAD],
        gatewayUrl: offline.gatewayUrl,
        credential: workerCredential(offline),
      }),
      startPythonWorker({
        key: DOWNLOAD,
        gatewayUrl: offline.gatewayUrl,
        credential: workerCredential(offline),
      }),
    ]);
    const docId = await registerDocument('chain');
    const needsId = taskId(docId, NEEDS);
    const downloadId = taskId(docId, DOWNLOAD);

    // Only the dependant is assigned.
    const created = await api<ApiTask>('POST', '/DANE/task', { document_id: docId, key: NEEDS });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body._id).toBe(needsId);

    const first = await needs.waitForReceived((m) => m.task?._id === needsId);
    expect(first.task).toMatchObject({ key: NEEDS, state: 201 });
    const refusal = await needs.waitForReply(first.properties.correlation_id as string);
    expect(refusal.reply).toEqual({
      state: 412,
      message: 'Unfinished dependencies',
      dependencies: [DOWNLOAD],
    });

    // The server created the dependency on the same document and published it.
    const dependency = await download.waitForReceived((m) => m.task?._id === downloadId);
    expect(dependency.routingKey).toBe(`Video.${DOWNLOAD}`);
    expect(dependency.task).toMatchObject({ key: DOWNLOAD, state: 201, msg: 'Created' });
    expect(dependency.document).toMatchObject({ _id: docId });
    expect((await download.waitForReply(dependency.properties.correlation_id as string)).reply).toEqual({
      state: 200,
      message: 'Success',
    });

    // Its success re-ran the dependant, which found its dependency done this time.
    const second = await needs.waitForReceived(
      (m) => m.task?._id === needsId && m.properties.correlation_id !== first.properties.correlation_id,
    );
    expect(second.task).toMatchObject({ key: NEEDS, state: 412 });
    expect((await needs.waitForReply(second.properties.correlation_id as string)).reply).toEqual({
      state: 200,
      message: 'Success',
    });

    const [needsDone, downloadDone] = await Promise.all([
      taskReaches(needsId, 200),
      taskReaches(downloadId, 200),
    ]);
    expect(needsDone).toMatchObject({ key: NEEDS, msg: 'Success', retry: { attempt: 2 } });
    expect(downloadDone).toMatchObject({ key: DOWNLOAD, msg: 'Success', retry: { attempt: 1 } });

    // The document's task listing is a search: it catches up with the realtime gets within a refresh.
    const listed = await pollUntil(
      'both tasks at 200 in the document listing',
      async () => {
        const tasks = await api<ApiTask[]>('GET', `/DANE/document/${docId}/tasks`);
        if (tasks.status !== 200) return { done: false, last: tasks };
        const states = tasks.body.map((t): [string, number] => [t.key, t.state]).sort();
        return states.length === 2 && states.every(([, state]) => state === 200)
          ? { done: true, value: states }
          : { done: false, last: states };
      },
      10_000,
    );
    expect(listed).toEqual([
      [DOWNLOAD, 200],
      [NEEDS, 200],
    ]);

    // Give a stray republish a moment to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receivedTask(needs, needsId)).toHaveLength(2);
    expect(receivedTask(download, downloadId)).toHaveLength(1);
  });

  it('accepts a double-encoded reply from a worker whose callback returns a JSON string', async () => {
    const KEY = `ASSTRING_${RUN}`;
    const worker = await startPythonWorker({
      key: KEY,
      replyAsString: true,
      gatewayUrl: offline.gatewayUrl,
      credential: workerCredential(offline),
    });
    const docId = await registerDocument('as-string');
    const id = taskId(docId, KEY);

    const created = await api<ApiTask>('POST', '/DANE/task', { document_id: docId, key: KEY.toLowerCase() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    const message = await worker.waitForReceived((m) => m.task?._id === id);
    const reply = await worker.waitForReply(message.properties.correlation_id as string);
    // What the library published is a JSON string holding the JSON reply (spec §4.4).
    expect(typeof reply.reply).toBe('string');
    expect(JSON.parse(reply.reply as string)).toEqual({ state: 200, message: 'Success' });

    const done = await taskReaches(id, 200);
    expect(done).toMatchObject({ _id: id, key: KEY, msg: 'Success', retry: { last_error: null } });
  });
});
