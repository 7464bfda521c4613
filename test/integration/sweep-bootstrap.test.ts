import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { Context } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';

// A deployment's first minute: nothing exists yet, and the first scheduled sweep must create the DANE index, the
// exchange and the response queue (the replies event source polls that queue). Fresh names, so that this proves
// creation rather than finding what another test left; set before the configuration is first read.
const suffix = randomUUID().slice(0, 8);
process.env.DANE_INDEX = `dane-test-sweep-bootstrap-${suffix}`;
process.env.DANE_EXCHANGE = `dane-test-exchange-${suffix}`;
process.env.DANE_RESPONSE_QUEUE = `dane-test-response-${suffix}`;

const { handler } = await import('../../functions/schedule/sweep.ts');
const { closeBroker } = await import('../../lib/broker/connection.ts');
const { getStoreClient } = await import('../../lib/store/client.ts');

const connection = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
/** Whether a queue or exchange exists: a passive check closes its channel when it does not. */
async function exists(check: (channel: amqp.Channel) => Promise<unknown>): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await check(channel);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}
const queueExists = () => exists((channel) => channel.checkQueue(process.env.DANE_RESPONSE_QUEUE as string));
const exchangeExists = () => exists((channel) => channel.checkExchange(process.env.DANE_EXCHANGE as string));
const indexExists = async () =>
  (await getStoreClient().indices.exists({ index: process.env.DANE_INDEX as string })).body;

afterAll(async () => {
  const channel = await connection.createChannel();
  await channel.deleteQueue(process.env.DANE_RESPONSE_QUEUE as string);
  await channel.deleteExchange(process.env.DANE_EXCHANGE as string);
  await connection.close();
  await closeBroker();
  await getStoreClient().indices.delete({
    index: process.env.DANE_INDEX as string,
    ignore_unavailable: true,
  });
});

describe('the first sweep of a deployment (real OpenSearch and RabbitMQ)', () => {
  it('creates the index, the exchange and the response queue', async () => {
    expect(await indexExists()).toBe(false);
    expect(await exchangeExists()).toBe(false);
    expect(await queueExists()).toBe(false);

    const context = { awsRequestId: 'sweep-bootstrap', getRemainingTimeInMillis: () => 60_000 } as Context;
    await handler({}, context);

    expect(await indexExists()).toBe(true);
    expect(await exchangeExists()).toBe(true);
    expect(await queueExists()).toBe(true);
  });
});
