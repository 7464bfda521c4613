import amqp from 'amqplib';
import { timePortCalls } from './lib.ts';

/**
 * What the in-process profiles (bench/tasks-profile.ts, bench/replies-profile.ts) stand on: an index and an
 * exchange of their own (DANE_INDEX, default `dane-bench-<name>`; DANE_EXCHANGE, default `DANE-<name>`), the index
 * fresh, a queue bound to every routing key, and our task ports with every store and broker call timed
 * (`onCall`). Call it before importing anything from lib/: the modules read their configuration when they load.
 * `close` deletes the queue, the exchange and the index.
 */
export async function openProfileStack(name: string, onCall: (name: string, ms: number) => void) {
  process.env.DANE_INDEX ??= `dane-bench-${name}`;
  process.env.DANE_INDEX_REPLICAS ??= '0';
  process.env.DANE_EXCHANGE ??= `DANE-${name}`;
  process.env.LOG_LEVEL ??= 'warn';
  const index = process.env.DANE_INDEX;
  const exchange = process.env.DANE_EXCHANGE;
  const { ensureIndex } = await import('../lib/store/bootstrap.ts');
  const { getStoreClient } = await import('../lib/store/client.ts');
  const { defaultPorts } = await import('../lib/tasks/ports.ts');

  const ports = defaultPorts();
  timePortCalls(ports.store, 'store', onCall);
  timePortCalls(ports.broker, 'broker', onCall);
  const client = getStoreClient();
  await client.indices.delete({ index }, { ignore: [404] });
  await ensureIndex();
  const connection = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: false });
  const queue = `${exchange}-workers`;
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, '#');
  const close = async () => {
    await channel.deleteQueue(queue);
    await channel.deleteExchange(exchange);
    await connection.close();
    await client.indices.delete({ index }, { ignore: [404] });
  };
  return { index, client, channel, queue, ports, close };
}
