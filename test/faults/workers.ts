import type { Socket } from 'node:net';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

/**
 * Workers that behave like DANE's (spec §4): a durable queue named after the task key, bound `#.<KEY>` on the
 * topic exchange, `prefetch` messages at a time, the reply sent to `reply_to` with the task message's
 * correlation id copied verbatim, and the message acknowledged only once the job is over. Like a supervised
 * worker process, each one connects again after its connection died (broker restart), unless it was killed.
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

/** One delivery a worker started a job for. */
export interface Execution {
  correlationId: string;
  /** The broker's flag: this message was delivered before and not acknowledged then. */
  redelivered: boolean;
  at: number;
}

/** One connection of a worker: what it holds is counted per connection, so a reconnect starts from nothing. */
interface Session {
  model: ChannelModel;
  channel: Channel;
  /** The client side port of the connection: the management API names the connection by it. */
  localPort: number;
  /** Delivered and not acknowledged: delivery tag → task id. */
  held: Map<number, string>;
  closed: boolean;
}

interface Worker {
  session?: Session;
  stopped: boolean;
  /** A frozen worker finishes no job (as one stuck in a long job): it holds what it has until it dies. */
  frozen: boolean;
  /** Called after every delivery to this worker (to wait for it to hold a number of messages). */
  onDelivery?: () => void;
}

/** A worker chosen to be killed, frozen while it holds `held`. */
export interface Victim {
  localPort: number;
  /** Correlation id → task id of each message it holds. */
  held: Map<string, string>;
  worker: Worker;
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

export class WorkerPool {
  /** Task id → every job a worker started for it, in order. */
  readonly executions = new Map<string, Execution[]>();
  private readonly workers: Worker[] = [];
  private readonly waiters = new Set<() => void>();
  private stopping = false;
  private release: () => void = () => undefined;
  /** Frozen jobs wait on this; stop() resolves it, so that no job is left pending after the pool. */
  private readonly released = new Promise<void>((resolveRelease) => {
    this.release = resolveRelease;
  });

  constructor(
    private readonly options: PoolOptions,
    private readonly amqpUrl: string,
    private readonly exchange: string,
  ) {}

  async start(count = this.options.workers): Promise<void> {
    const started: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      const worker: Worker = { stopped: false, frozen: false };
      this.workers.push(worker);
      started.push(this.connect(worker));
    }
    await Promise.all(started);
  }

  /** Messages delivered to a live connection and not yet acknowledged. */
  held(): number {
    return this.workers.reduce(
      (sum, w) => sum + (w.session && !w.session.closed ? w.session.held.size : 0),
      0,
    );
  }

  /** Resolves once workers have started jobs for `count` tasks (fails after `timeoutMs`). */
  startedAtLeast(count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolveStarted, rejectStarted) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        rejectStarted(
          new Error(`workers started ${this.executions.size} tasks in ${timeoutMs} ms, not ${count}`),
        );
      }, timeoutMs);
      const check = () => {
        if (this.executions.size < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolveStarted();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Tasks a worker ran more than once. */
  ranMoreThanOnce(): string[] {
    return [...this.executions].filter(([, runs]) => runs.length > 1).map(([id]) => id);
  }

  /**
   * Freezes one live worker and waits until it holds `count` messages (its prefetch: the broker delivers up to
   * that many while it acknowledges none, as long as the queue has messages ready), for at most `timeoutMs`.
   */
  async freezeHolding(count: number, timeoutMs: number): Promise<Victim> {
    const worker = this.workers.find((w) => !w.stopped && w.session && !w.session.closed);
    if (!worker?.session) throw new Error('no live worker to freeze');
    const session = worker.session;
    worker.frozen = true;
    await new Promise<void>((resolveHeld, rejectHeld) => {
      const check = () => {
        if (session.held.size >= count) {
          clearTimeout(timer);
          worker.onDelivery = undefined;
          resolveHeld();
        } else if (session.closed) {
          clearTimeout(timer);
          rejectHeld(new Error('the worker to kill lost its connection before it held its messages'));
        }
      };
      const timer = setTimeout(() => {
        worker.onDelivery = undefined;
        rejectHeld(
          new Error(
            `the frozen worker holds ${session.held.size} messages after ${timeoutMs} ms, not ${count}`,
          ),
        );
      }, timeoutMs);
      worker.onDelivery = check;
      check();
    });
    const held = new Map<string, string>();
    for (const taskId of session.held.values()) {
      const runs = this.executions.get(taskId) ?? [];
      const last = runs[runs.length - 1];
      if (last) held.set(last.correlationId, taskId);
    }
    return { localPort: session.localPort, held, worker };
  }

  /** Kills a worker as a crash would: the socket is cut, nothing acknowledged, and it does not come back. */
  kill(victim: Victim): void {
    const { worker } = victim;
    const session = worker.session;
    if (!session || session.closed) throw new Error('the worker to kill is not connected');
    worker.stopped = true;
    const socket = (session.model as unknown as { connection: { stream: Socket } }).connection.stream;
    socket.destroy();
    // Closing a connection whose socket is gone never completes: stop() must not wait for this one.
    session.closed = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const worker of this.workers) worker.stopped = true;
    this.release();
    // Bounded: a connection the broker dropped may never answer its close.
    const closing = Promise.all(
      this.workers.map((w) =>
        w.session?.closed ? undefined : w.session?.model.close().catch(() => undefined),
      ),
    );
    await Promise.race([closing, sleep(5_000)]);
  }

  private async connect(worker: Worker): Promise<void> {
    while (!worker.stopped && !this.stopping) {
      try {
        const model = await amqp.connect(this.amqpUrl);
        const channel = await model.createChannel();
        await channel.assertExchange(this.exchange, 'topic', { durable: false });
        await channel.assertQueue(this.options.key, { durable: true, arguments: { 'x-max-priority': 10 } });
        await channel.bindQueue(this.options.key, this.exchange, `#.${this.options.key}`);
        await channel.prefetch(this.options.prefetch ?? 1);
        const socket = (model as unknown as { connection: { stream: Socket } }).connection.stream;
        const session: Session = {
          model,
          channel,
          localPort: socket.localPort ?? 0,
          held: new Map(),
          closed: false,
        };
        worker.session = session;
        model.on('error', () => undefined);
        model.on('close', () => {
          session.closed = true;
          worker.onDelivery?.();
          if (!worker.stopped && !this.stopping) void sleep(500).then(() => this.connect(worker));
        });
        await channel.consume(this.options.key, (message) => {
          if (message) void this.run(worker, session, message);
        });
        return;
      } catch {
        await sleep(500);
      }
    }
  }

  private async run(worker: Worker, session: Session, message: ConsumeMessage): Promise<void> {
    const tag = message.fields.deliveryTag;
    const correlationId = String(message.properties.correlationId);
    let taskId = correlationId;
    try {
      taskId = (JSON.parse(message.content.toString()) as { task: { _id: string } }).task._id;
    } catch {
      // Not a task message: reply anyway, as DANE's worker would fail it.
    }
    session.held.set(tag, taskId);
    const runs = this.executions.get(taskId) ?? [];
    runs.push({ correlationId, redelivered: message.fields.redelivered, at: Date.now() });
    this.executions.set(taskId, runs);
    worker.onDelivery?.();
    for (const waiter of [...this.waiters]) waiter();
    await sleep(this.options.workMs ?? 0);
    if (worker.frozen) await this.released;
    if (session.closed) return;
    const body =
      this.options.replyFor?.(taskId, runs.length) ?? JSON.stringify({ state: 200, message: 'Success' });
    try {
      session.channel.sendToQueue(String(message.properties.replyTo), Buffer.from(body), { correlationId });
      session.channel.ack(message);
      session.held.delete(tag);
    } catch {
      // The channel died under the job (broker restart): the broker delivers the message again.
    }
  }
}
