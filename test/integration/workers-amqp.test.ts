import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as workersList } from '../../functions/http/workers-list.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { taskId } from '../../lib/model/ids.ts';
import { TaskSpecSchema } from '../../lib/model/task.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { createTasks } from '../../lib/store/tasks.ts';
import { newTaskSource } from '../../lib/tasks/assign.ts';
import { uniqueKey } from '../support/amqp.ts';
import { call } from '../support/http.ts';

// Without a management API the view asks the broker over AMQP about the queues named after task keys in use.
// Hoisted above the imports: the function wrappers read the configuration when they are loaded (cold start).
vi.hoisted(() => {
  process.env.RABBITMQ_MANAGEMENT_URL = '';
});

const key = uniqueKey('VIAAMQP');
let connection: amqp.ChannelModel;
let channel: amqp.Channel;

beforeAll(async () => {
  await ensureIndex();
  connection = await amqp.connect(getConfig().amqp.url);
  channel = await connection.createChannel();
  await channel.assertQueue(key, { durable: true, arguments: { 'x-max-priority': 10 } });
  for (let i = 0; i < 2; i += 1) channel.sendToQueue(key, Buffer.from('{}'));
  await channel.consume(key, () => undefined, { noAck: false });
  const documentId = 'workers-amqp-doc';
  await createTasks([
    {
      id: taskId(documentId, key),
      documentId,
      source: newTaskSource(TaskSpecSchema.parse({ key }), documentId, new Date()),
    },
  ]);
  // The keys in use come from a search, and new tasks are not refreshed (README, Read-your-write).
  await getStoreClient().indices.refresh({ index: getConfig().opensearch.index });
});

afterAll(async () => {
  await channel.deleteQueue(key);
  await connection.close();
  await closeBroker();
});

describe('GET /DANE/workers without the management API', () => {
  it('reports the queue of a task key in use with its consumers and messages', async () => {
    expect(getConfig().amqp.managementUrl).toBeUndefined();
    const response = await call(workersList, 'GET', '/DANE/workers');
    expect(response.status).toBe(200);
    const mine = (response.body as Array<{ name: string }>).find((w) => w.name === key);
    const broker = await channel.checkQueue(key);
    expect(mine).toEqual({ name: key, active_workers: broker.consumerCount, in_queue: broker.messageCount });
    expect(broker.consumerCount).toBe(1);
  });
});
