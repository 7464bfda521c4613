import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';

/**
 * A stand-in for a worker pool on the real broker: a queue declared and bound exactly as Python workers do
 * (durable, x-max-priority 10, binding `#.<KEY>`), read with basic.get so tests can count what arrived.
 */
export interface WorkerQueue {
  key: string;
  queue: string;
  next(timeoutMs?: number): Promise<GetMessage | undefined>;
  drain(settleMs?: number): Promise<GetMessage[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}

let connection: ChannelModel | undefined;
let channel: Channel | undefined;

async function shared(): Promise<Channel> {
  if (!channel) {
    connection = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    channel = await connection.createChannel();
    await channel.assertExchange(process.env.DANE_EXCHANGE ?? 'DANE-exchange', 'topic', { durable: false });
  }
  return channel;
}

export const uniqueKey = (prefix: string) =>
  `${prefix}${randomUUID().slice(0, 8).toUpperCase().replace(/-/g, '')}`;

/** `queue`: its name; DANE workers name it after the key, tests by default apart from it. */
export async function workerQueue(key: string, queue = `test-${key}`): Promise<WorkerQueue> {
  const ch = await shared();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-max-priority': 10 } });
  await ch.purgeQueue(queue);
  await ch.bindQueue(queue, process.env.DANE_EXCHANGE ?? 'DANE-exchange', `#.${key}`);
  const next = async (timeoutMs = 5_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const message = await ch.get(queue, { noAck: true });
      if (message) return message;
      if (Date.now() > until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    key,
    queue,
    next,
    async drain(settleMs = 500) {
      const all: GetMessage[] = [];
      for (;;) {
        const message = await next(settleMs);
        if (!message) return all;
        all.push(message);
      }
    },
    async count() {
      return (await ch.checkQueue(queue)).messageCount;
    },
    async close() {
      await ch.deleteQueue(queue);
    },
  };
}

export async function closeAmqp(): Promise<void> {
  await connection?.close().catch(() => undefined);
  connection = undefined;
  channel = undefined;
}

/** The correlation id of attempt `n` of a task: `<id>#<n>.<claim token>`. */
export const attemptOf = (id: string, n: number) => new RegExp(`^${id}#${n}\\.[0-9a-f]+$`);
