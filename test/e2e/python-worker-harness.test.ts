import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.ts';
import { documentId, taskId } from '../../lib/model/ids.ts';
import { timestamp } from '../../lib/model/time.ts';
import { bootstrapIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient, resetStoreClient } from '../../lib/store/client.ts';
import { startInProcessGateway } from '../support/gateway.ts';
import {
  ensurePythonVenv,
  type PythonWorker,
  startPythonWorker,
  stopAllPythonWorkers,
} from '../support/python-worker.ts';

/**
 * Self-test of the Python worker harness, without the server's task routes: this file plays the server by hand
 * (index layout of spec §2.2, task message of §4.2) and checks that the real `dane` worker library accepts it,
 * reads the index, saves results and replies as spec §4.4 and §5 describe.
 */

const config = getConfig();
const index = config.opensearch.index;
const client = getStoreClient();
const run = randomUUID().slice(0, 8);

let gatewayUrl: string;
let closeGateway: (() => Promise<void>) | undefined;
let connection: ChannelModel;
let publisher: ConfirmChannel;
let consumer: Channel;
let replyQueue: string;
const replies: ConsumeMessage[] = [];
const replyWaiters = new Set<() => void>();
const cleanup: Array<{ id: string; routing?: string }> = [];

beforeAll(async () => {
  // A cold venv takes ~20-30 s to build: do it under the hook timeout, not a test's.
  await ensurePythonVenv();
  await bootstrapIndex(client, index, 0);
  // The workers reach the index only through the worker gateway (their client refuses OpenSearch itself).
  const gateway = await startInProcessGateway();
  gatewayUrl = gateway.url;
  closeGateway = gateway.close;
  connection = await amqp.connect(config.amqp.url);
  publisher = await connection.createConfirmChannel();
  consumer = await connection.createChannel();
  await publisher.assertExchange(config.amqp.exchange, 'topic', { durable: false });
  replyQueue = (await consumer.assertQueue('', { exclusive: true, autoDelete: true })).queue;
  await consumer.consume(
    replyQueue,
    (message) => {
      if (!message) return;
      replies.push(message);
      for (const wake of replyWaiters) wake();
    },
    { noAck: true },
  );
});

afterEach(async () => {
  await stopAllPythonWorkers();
});

afterAll(async () => {
  await stopAllPythonWorkers();
  await closeGateway?.();
  await connection?.close();
  for (const { id, routing } of cleanup) {
    await client.delete({ index, id, routing, refresh: true }).catch(() => undefined);
  }
  await resetStoreClient();
});

interface Seeded {
  docId: string;
  document: Record<string, unknown>;
}

/** A document as the server stores it (spec §2.2) and as it travels in the task message (spec §1.1). */
async function seedDocument(): Promise<Seeded> {
  const target = {
    id: `harness-${run}-${randomUUID().slice(0, 8)}`,
    url: 'http://example.org/a b.mp4',
    type: 'Video',
  };
  const creator = { id: 'compat-harness', type: 'Software', name: 'harness' };
  const docId = documentId(target.id, creator.id);
  const now = timestamp();
  const stored = { ...target, url: 'http://example.org/a%20b.mp4' };
  await client.index({
    index,
    id: docId,
    op_type: 'create',
    refresh: true,
    body: { target: stored, creator, created_at: now, updated_at: now, role: 'document' },
  });
  cleanup.push({ id: docId });
  return {
    docId,
    document: { target: stored, creator, created_at: now, updated_at: now, _id: docId },
  };
}

/** A task stored under its document (routing = document id) and its task-message JSON (spec §1.2). */
async function seedTask(
  docId: string,
  key: string,
  state = 201,
  args: Record<string, unknown> = {},
  priority = 1,
) {
  const id = taskId(docId, key);
  const now = timestamp();
  const msg = state === 200 ? 'Success' : 'Created';
  const task = { key, state, msg, priority, ...(Object.keys(args).length > 0 ? { args } : {}) };
  await client.index({
    index,
    id,
    routing: docId,
    op_type: 'create',
    refresh: true,
    body: { task, role: { name: 'task', parent: docId }, created_at: now, updated_at: now },
  });
  cleanup.push({ id, routing: docId });
  const json: Record<string, unknown> = {
    key,
    _id: id,
    state,
    msg,
    created_at: now,
    updated_at: now,
    priority,
  };
  if (Object.keys(args).length > 0) json.args = args;
  return { id, json };
}

/** Publishes a task message exactly as the server must (spec §4.2), replies coming back to our own queue. */
async function publishTask(
  routingKey: string,
  task: Record<string, unknown>,
  document: Record<string, unknown>,
) {
  let returned = false;
  const onReturn = () => {
    returned = true;
  };
  publisher.once('return', onReturn);
  publisher.publish(config.amqp.exchange, routingKey, Buffer.from(JSON.stringify({ task, document })), {
    mandatory: true,
    replyTo: replyQueue,
    correlationId: task._id as string,
    priority: task.priority as number,
    persistent: true,
  });
  await publisher.waitForConfirms();
  publisher.off('return', onReturn);
  expect(returned, `no queue is bound to ${routingKey}`).toBe(false);
}

function replyFor(correlationId: string, timeoutMs = 30_000): Promise<ConsumeMessage> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = replies.find((message) => message.properties.correlationId === correlationId);
      if (!found) return;
      replyWaiters.delete(check);
      clearTimeout(timer);
      resolve(found);
    };
    const timer = setTimeout(() => {
      replyWaiters.delete(check);
      reject(new Error(`no reply for ${correlationId} within ${timeoutMs} ms`));
    }, timeoutMs);
    replyWaiters.add(check);
    check();
  });
}

const decode = (message: ConsumeMessage) => JSON.parse(message.content.toString('utf8')) as unknown;

describe('the real Python DANE worker (dane 0.4.3) against a hand-made server', () => {
  it('receives the task message as published, saves a result, and replies 200', async () => {
    const worker: PythonWorker = await startPythonWorker({ gatewayUrl, key: 'ECHO', saveResult: true });
    expect(worker.bindingKeys).toEqual(['#.ECHO']);
    expect(worker.generator).toMatchObject({ type: 'Software', name: 'ECHO' });

    const { docId, document } = await seedDocument();
    const args = { lang: 'nl', nested: { depth: 2 } };
    const { id, json: task } = await seedTask(docId, 'ECHO', 201, args, 7);
    await publishTask('Video.ECHO', task, document);

    const reply = await replyFor(id);
    expect(decode(reply)).toEqual({ state: 200, message: 'Success' });
    expect(reply.properties.correlationId).toBe(id);
    expect(reply.properties.deliveryMode).toBe(2);
    expect(reply.fields.exchange).toBe('');
    expect(reply.fields.routingKey).toBe(replyQueue);
    expect(await worker.waitForReply(id)).toEqual({
      correlationId: id,
      replyTo: replyQueue,
      reply: { state: 200, message: 'Success' },
    });

    const received = await worker.waitForReceived((message) => message.properties.correlation_id === id);
    expect(received).toMatchObject({
      routingKey: 'Video.ECHO',
      exchange: config.amqp.exchange,
      task,
      document,
    });
    expect(received.properties).toEqual({
      correlation_id: id,
      reply_to: replyQueue,
      priority: 7,
      delivery_mode: 2,
      content_type: null,
      // amqplib always sends a headers table, empty here; pika sent none. The library ignores both.
      headers: expect.toSatisfy((headers) => headers === null || Object.keys(headers as object).length === 0),
      message_id: null,
      timestamp: null,
      expiration: null,
    });

    // The library indexed the result itself: routed by task id, child of the task (spec §2.2, §5).
    const [saved] = worker.results;
    for (const result of worker.results) cleanup.push({ id: result.resultId, routing: result.taskId });
    expect(saved?.taskId).toBe(id);
    const hits = await client.search({
      index,
      body: { query: { parent_id: { type: 'result', id } } },
    });
    const [hit] = hits.body.hits.hits;
    expect(hits.body.hits.hits).toHaveLength(1);
    expect(hit?._id).toBe(saved?.resultId);
    expect(hit?._routing).toBe(id);
    const source = hit?._source as Record<string, unknown>;
    expect(source).toEqual({
      result: {
        generator: {
          id: expect.stringMatching(/^[0-9a-f]{7,}$/),
          type: 'Software',
          name: 'ECHO',
          homepage: 'https://example.org/dane-compat/echo-worker.git',
        },
        payload: { echo: args, document_id: docId, task_id: id, key: 'ECHO' },
      },
      role: { name: 'result', parent: id },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      updated_at: source.created_at,
    });
  });

  it('replies 412 with the missing dependency, then with none while it is unfinished, then runs', async () => {
    const worker = await startPythonWorker({ gatewayUrl, key: 'NEEDSDOWNLOAD', dependsOn: ['DOWNLOAD'] });
    const { docId, document } = await seedDocument();
    const { id, json: task } = await seedTask(docId, 'NEEDSDOWNLOAD');

    // Not assigned at all: the worker names it, for the server to create.
    await publishTask('Video.NEEDSDOWNLOAD', task, document);
    expect(decode(await replyFor(id))).toEqual({
      state: 412,
      message: 'Unfinished dependencies',
      dependencies: ['DOWNLOAD'],
    });

    // Assigned but not done: still 412, with nothing left to create. The worker read our task _source.
    replies.length = 0;
    const download = await seedTask(docId, 'DOWNLOAD', 102);
    await publishTask('Video.NEEDSDOWNLOAD', task, document);
    expect(decode(await replyFor(id))).toEqual({
      state: 412,
      message: 'Unfinished dependencies',
      dependencies: [],
    });

    // Done: the callback runs.
    replies.length = 0;
    await client.update({
      index,
      id: download.id,
      routing: docId,
      refresh: true,
      body: { doc: { task: { state: 200, msg: 'Success' } } },
    });
    await publishTask('Video.NEEDSDOWNLOAD', task, document);
    expect(decode(await replyFor(id))).toEqual({ state: 200, message: 'Success' });
    expect(worker.received.map((message) => message.task?._id)).toEqual([id, id, id]);
  });

  it('answers a task it cannot parse with 400 and a non-JSON body with 500, as the library does', async () => {
    const worker = await startPythonWorker({ gatewayUrl, key: 'ECHO' });
    const { document } = await seedDocument();
    const bad = { key: 'ECHO', _id: `bad-${run}`, priority: 1 };
    // An unknown document key is a TypeError in the library's constructor.
    await publishTask('Video.ECHO', bad, { ...document, extra: 1 });
    expect(decode(await replyFor(bad._id))).toEqual({
      state: 400,
      message: 'Invalid format, unable to proceed',
    });

    const raw = `raw-${run}`;
    publisher.publish(config.amqp.exchange, 'Text.ECHO', Buffer.from('not json'), {
      mandatory: true,
      replyTo: replyQueue,
      correlationId: raw,
      persistent: true,
    });
    await publisher.waitForConfirms();
    expect(decode(await replyFor(raw))).toEqual({
      state: 500,
      message:
        "Unhandled error: 'Incompleted task specification, require both `task` and `document` information'",
    });
    expect(worker.received.at(-1)?.body).toBe('not json');
  });

  it('double-encodes a reply the callback returns as a JSON string (spec §4.4)', async () => {
    await startPythonWorker({
      gatewayUrl,
      key: 'ECHO',
      replyAsString: true,
      replyState: 503,
      replyMessage: 'upstream down',
    });
    const { docId, document } = await seedDocument();
    const { id, json: task } = await seedTask(docId, 'ECHO');
    await publishTask('Video.ECHO', task, document);
    const body = decode(await replyFor(id));
    expect(typeof body).toBe('string');
    expect(JSON.parse(body as string)).toEqual({ state: 503, message: 'upstream down' });
  });
});

describe('the Python worker outside a git checkout', () => {
  it('has no generator, so saving a result fails and the library replies 500', async () => {
    const worker = await startPythonWorker({ gatewayUrl, key: 'ECHO', saveResult: true, noGenerator: true });
    expect(worker.generator).toBeNull();
    const { docId, document } = await seedDocument();
    const { id, json: task } = await seedTask(docId, 'ECHO');
    await publishTask('Video.ECHO', task, document);
    expect(decode(await replyFor(id))).toEqual({
      state: 500,
      message: "Unhandled worker error: 'NoneType' object has no attribute 'keys'",
    });
  });
});
