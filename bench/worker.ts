import amqp, { type Channel, type ChannelModel } from 'amqplib';

/**
 * A fake DANE worker pool: consumes a worker queue and answers every task message as the Python base worker does
 * (spec §4.4): a persistent `{state, message}` reply on the default exchange to the message's `reply_to`, with its
 * `correlation_id` copied verbatim, then the ack. It does no work, so it answers far faster than any server can
 * apply replies: the reply workload measures the server, not the worker.
 */
export class FakeWorker {
  private connection: ChannelModel | undefined;
  replied = 0;
  /** When the first and the last reply were sent (performance.now()). */
  firstReplyAt = 0;
  lastReplyAt = 0;

  constructor(
    private readonly amqpUrl: string,
    private readonly queue: string,
    private readonly reply = { state: 200, message: 'Success' },
  ) {}

  async start(prefetch = 500): Promise<void> {
    this.connection = await amqp.connect(this.amqpUrl);
    const channel = await this.connection.createChannel();
    await channel.prefetch(prefetch);
    const body = Buffer.from(JSON.stringify(this.reply));
    await channel.consume(this.queue, (message) => {
      if (!message) return;
      const { replyTo, correlationId } = message.properties;
      if (replyTo) channel.sendToQueue(replyTo, body, { correlationId, persistent: true });
      channel.ack(message);
      this.replied += 1;
      this.lastReplyAt = performance.now();
      if (this.replied === 1) this.firstReplyAt = this.lastReplyAt;
    });
  }

  async stop(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
  }
}

/** A worker queue declared and bound as Python workers do it (durable, x-max-priority 10, `#.<KEY>`). */
export async function declareWorkerQueue(channel: Channel, exchange: string, key: string): Promise<string> {
  const queue = `bench-${key}`;
  await channel.assertExchange(exchange, 'topic', { durable: false });
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-max-priority': 10 } });
  await channel.purgeQueue(queue);
  await channel.bindQueue(queue, exchange, `#.${key}`);
  return queue;
}
