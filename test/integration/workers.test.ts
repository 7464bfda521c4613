import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as workersList } from '../../functions/http/workers-list.ts';
import { handler as workersTasks } from '../../functions/http/workers-tasks.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { TaskSpecSchema } from '../../lib/model/task.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { assignTask } from '../../lib/tasks/assign.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';
import { uniqueKey } from '../support/amqp.ts';
import { indexTestDocument } from '../support/documents.ts';
import { call } from '../support/http.ts';

const client = getStoreClient();
const connection = await amqp.connect(getConfig().amqp.url);
const channel = await connection.createChannel();
const idle = uniqueKey('IDLE');
const busy = uniqueKey('BUSY');

beforeAll(async () => {
  await ensureIndex();
  // Queues named after their task key, as workers name them: one with a consumer, one with a backlog.
  for (const name of [idle, busy])
    await channel.assertQueue(name, { durable: true, arguments: { 'x-max-priority': 10 } });
  await channel.consume(idle, () => undefined);
  for (let i = 0; i < 3; i += 1) channel.sendToQueue(busy, Buffer.from('{}'));
});

afterAll(async () => {
  await channel.deleteQueue(idle);
  await channel.deleteQueue(busy);
  await connection.close();
  await closeBroker();
});

type Worker = { name: string; active_workers: number; in_queue: number };

describe('GET /DANE/workers', () => {
  it('lists worker queues with the numbers the broker has, without the response queue', async () => {
    // The management API publishes queue statistics every few seconds: wait until it has caught up.
    let workers: Worker[] = [];
    for (let tries = 0; tries < 40; tries += 1) {
      const response = await call(workersList, 'GET', '/DANE/workers');
      expect(response.status).toBe(200);
      workers = response.body as Worker[];
      const b = workers.find((w) => w.name === busy);
      const i = workers.find((w) => w.name === idle);
      if (b?.in_queue === 3 && i?.active_workers === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const broker = {
      idle: await channel.checkQueue(idle),
      busy: await channel.checkQueue(busy),
    };
    expect(workers.find((w) => w.name === idle)).toEqual({
      name: idle,
      active_workers: broker.idle.consumerCount,
      in_queue: broker.idle.messageCount,
    });
    expect(workers.find((w) => w.name === busy)).toEqual({
      name: busy,
      active_workers: broker.busy.consumerCount,
      in_queue: broker.busy.messageCount,
    });
    expect(broker.busy.messageCount).toBe(3);
    expect(broker.idle.consumerCount).toBe(1);
    expect(workers.map((w) => w.name)).not.toContain('DANE-response-queue');
  });
});

describe('GET /DANE/workers/{task_key}', () => {
  it('pages through the errored tasks of a key with totals per state', async () => {
    const key = uniqueKey('ERR');
    await channel.assertQueue(key, { durable: true, arguments: { 'x-max-priority': 10 } });
    await channel.bindQueue(key, getConfig().amqp.exchange, `#.${key}`);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const documentId = await indexTestDocument({ type: 'Text', refresh: false });
      ids.push((await assignTask(documentId, TaskSpecSchema.parse({ key })))._id);
    }
    await channel.deleteQueue(key);
    const states = [500, 500, 500, 404, 200];
    await handleReplies(
      ids.map((id, i) => ({
        correlationId: `${id}#1`,
        body: JSON.stringify({ state: states[i], message: 'm' }),
      })),
    );
    await client.indices.refresh({ index: getConfig().opensearch.index });

    const first = await call(workersTasks, 'GET', `/DANE/workers/${key}`, {
      pathParameters: { task_key: key },
      query: 'limit=3',
    });
    expect(first.status).toBe(200);
    const page1 = first.body as {
      total: number;
      states: Record<string, number>;
      tasks: { _id: string; state: number }[];
      next: string | null;
    };
    expect(page1.total).toBe(4);
    expect(page1.states).toEqual({ '500': 3, '404': 1, '200': 1 });
    expect(page1.tasks).toHaveLength(3);
    expect(page1.next).not.toBeNull();
    const second = await call(workersTasks, 'GET', `/DANE/workers/${key}`, {
      pathParameters: { task_key: key },
      query: `limit=3&cursor=${page1.next}`,
    });
    const page2 = second.body as typeof page1;
    expect(page2.tasks).toHaveLength(1);
    expect(page2.next).toBeNull();
    const seen = [...page1.tasks, ...page2.tasks];
    expect(new Set(seen.map((t) => t._id)).size).toBe(4);
    for (const task of seen) expect([500, 404]).toContain(task.state);

    const bad = await call(workersTasks, 'GET', `/DANE/workers/${key}`, {
      pathParameters: { task_key: key },
      query: 'limit=0',
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { message: string }).message).toContain('limit');
  });
});
