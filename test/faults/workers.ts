import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

/**
 * Workers that behave like DANE's (spec §4): a durable queue named after the task key, bound `#.<KEY>` on the
 * topic exchange, `prefetch` messages at a time, the reply sent to `reply_to` with the task message's
 * correlation id copied verbatim, and the message acknowledged only once the job is over. Like a supervised
 * worker process, each one connects again after its connection died (broker restart, or killed).
 */
export interface PoolOptions {
  key: string;
  workers: number;
  prefetch?: number;
  /** Time each job takes. */
  workMs?: number;
  /** The reply to send instead of a success, e.g. a poison body for some tasks. */
  replyFor?: (taskId: string, execution: number) => string | undefined;
}

interface Worker {
  model?: ChannelModel;
  channel?: Channel;
  held: number;
  stopped: boolean;
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

export class WorkerPool {
  /** Task id → the correlation ids under which a worker ran it, in order. */
  readonly executions = new Map<string, string[]>();
  private readonly workers: Worker[] = [];

  constructor(
    private readonly options: PoolOptions,
    private readonly amqpUrl: string,
    private readonly exchange: string,
  ) {}

  async start(count = this.options.workers): Promise<void> {
    const started: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      const worker: Worker = { held: 0, stopped: false };
      this.workers.push(worker);
      started.push(this.connect(worker));
    }
    await Promise.all(started);
  }

  /** Messages delivered to a live worker and not yet acknowledged: what a fault right now may deliver twice. */
  held(): number {
    return this.workers.reduce((sum, w) => sum + (w.stopped ? 0 : w.held), 0);
  }

  /** Tasks a worker ran more than once. */
  ranMoreThanOnce(): string[] {
    return [...this.executions].filter(([, runs]) => runs.length > 1).map(([id]) => id);
  }

  /** Kills one worker as a crash would (the socket is cut, nothing acknowledged); answers what it held. */
  kill(): number {
    const worker = this.workers.find((w) => !w.stopped && w.model);
    if (!worker) throw new Error('no live worker to kill');
    worker.stopped = true;
    const held = worker.held;
    const socket = (worker.model as unknown as { connection: { stream: { destroy(): void } } }).connection
      .stream;
    socket.destroy();
    // Closing a connection whose socket is gone never completes: stop() must not wait for this one.
    worker.model = undefined;
    worker.channel = undefined;
    return held;
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) worker.stopped = true;
    // Bounded: a connection the broker dropped may never answer its close.
    const closing = Promise.all(this.workers.map((w) => w.model?.close().catch(() => undefined)));
    await Promise.race([closing, sleep(5_000)]);
  }

  private async connect(worker: Worker): Promise<void> {
    while (!worker.stopped) {
      try {
        const model = await amqp.connect(this.amqpUrl);
        const channel = await model.createChannel();
        await channel.assertExchange(this.exchange, 'topic', { durable: false });
        await channel.assertQueue(this.options.key, { durable: true, arguments: { 'x-max-priority': 10 } });
        await channel.bindQueue(this.options.key, this.exchange, `#.${this.options.key}`);
        await channel.prefetch(this.options.prefetch ?? 1);
        worker.model = model;
        worker.channel = channel;
        worker.held = 0;
        model.on('error', () => undefined);
        model.on('close', () => {
          worker.model = undefined;
          worker.channel = undefined;
          worker.held = 0;
          if (!worker.stopped) void sleep(500).then(() => this.connect(worker));
        });
        await channel.consume(this.options.key, (message) => {
          if (message) void this.run(worker, channel, message);
        });
        return;
      } catch {
        await sleep(500);
      }
    }
  }

  private async run(worker: Worker, channel: Channel, message: ConsumeMessage): Promise<void> {
    worker.held += 1;
    const correlationId = String(message.properties.correlationId);
    let taskId = correlationId;
    try {
      taskId = (JSON.parse(message.content.toString()) as { task: { _id: string } }).task._id;
    } catch {
      // Not a task message: reply anyway, as DANE's worker would fail it.
    }
    const runs = this.executions.get(taskId) ?? [];
    runs.push(correlationId);
    this.executions.set(taskId, runs);
    await sleep(this.options.workMs ?? 0);
    const body =
      this.options.replyFor?.(taskId, runs.length) ?? JSON.stringify({ state: 200, message: 'Success' });
    try {
      channel.sendToQueue(String(message.properties.replyTo), Buffer.from(body), { correlationId });
      channel.ack(message);
    } catch {
      // The channel died under the job (broker restart, kill): the broker delivers the message again.
    }
    worker.held = Math.max(0, worker.held - 1);
  }
}
