import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import amqp, { type ConsumeMessage } from 'amqplib';
import { getConfig } from '../lib/config.ts';
import { logger } from '../lib/log.ts';

/**
 * Offline stand-in for the Amazon MQ event source, which serverless-offline ignores: consumes the response
 * queue, groups messages into batches like the event source does (up to BATCH_SIZE, or what arrived within
 * WINDOW_MS), invokes the `replies` function through serverless-offline's Lambda endpoint with an `aws:rmq`
 * event, and acknowledges a batch only after the function succeeded (otherwise it is requeued, as on AWS).
 */
// The same as the replies function's rabbitmq event in serverless.yml (batchSize, maximumBatchingWindow).
const BATCH_SIZE = Number(process.env.EMULATE_BATCH_SIZE ?? 2000);
const WINDOW_MS = Number(process.env.EMULATE_WINDOW_MS ?? 1000);
const config = getConfig();
const functionName = process.env.REPLIES_FUNCTION_NAME ?? `dane-server-${config.stage}-replies`;
const endpoint = config.publishing.lambdaEndpoint ?? 'http://127.0.0.1:3002';
const lambda = new LambdaClient({ endpoint, region: process.env.AWS_REGION ?? 'eu-west-1' });
const log = logger.child({ component: 'emulate-events', functionName });

let stopping = false;

function toEvent(messages: ConsumeMessage[]) {
  return {
    eventSource: 'aws:rmq',
    eventSourceArn: 'arn:aws:mq:local:000000000000:broker:dane-local:b-local',
    rmqMessagesByQueue: {
      [`${config.amqp.responseQueue}::/`]: messages.map((m) => ({
        basicProperties: {
          contentType: m.properties.contentType ?? null,
          correlationId: m.properties.correlationId ?? null,
          replyTo: m.properties.replyTo ?? null,
          deliveryMode: m.properties.deliveryMode ?? null,
          priority: m.properties.priority ?? null,
          headers: m.properties.headers ?? {},
          bodySize: m.content.length,
        },
        redelivered: m.fields.redelivered,
        data: m.content.toString('base64'),
      })),
    },
  };
}

async function invoke(messages: ConsumeMessage[]): Promise<boolean> {
  try {
    const response = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(toEvent(messages))),
      }),
    );
    if (response.FunctionError) {
      log.error('replies function failed; batch requeued', {
        error: Buffer.from(response.Payload ?? new Uint8Array())
          .toString('utf8')
          .slice(0, 1000),
      });
      return false;
    }
    return true;
  } catch (error) {
    log.error('Could not invoke the replies function; batch requeued', { error });
    return false;
  }
}

async function consumeOnce(): Promise<void> {
  const connection = await amqp.connect(config.amqp.url, { noDelay: true });
  const channel = await connection.createChannel();
  await channel.assertQueue(config.amqp.responseQueue, { durable: true });
  await channel.prefetch(BATCH_SIZE);
  let batch: ConsumeMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const messages = batch;
    batch = [];
    if (messages.length === 0) return;
    chain = chain
      .then(async () => {
        const ok = await invoke(messages);
        const last = messages[messages.length - 1] as ConsumeMessage;
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 1_000));
        try {
          if (ok) channel.ack(last, true);
          else channel.nack(last, true, true);
        } catch (error) {
          // The channel died meanwhile (broker restart): the broker redelivers the unacknowledged batch.
          log.warn('Could not settle a batch; the broker will redeliver it', {
            error: (error as Error).message,
          });
        }
      })
      .catch((error: unknown) => log.error('Batch handling failed', { error }));
  };

  let cancelled: () => void = () => undefined;
  await channel.consume(config.amqp.responseQueue, (message) => {
    // null: the broker cancelled the consumer (queue deleted): reconnect and consume again.
    if (!message) {
      cancelled();
      return;
    }
    batch.push(message);
    if (batch.length >= BATCH_SIZE) flush();
    else timer ??= setTimeout(flush, WINDOW_MS);
  });
  log.info('Consuming the response queue', { queue: config.amqp.responseQueue, endpoint });
  await new Promise<void>((resolve) => {
    cancelled = () => {
      connection.close().catch(() => undefined);
      resolve();
    };
    connection.on('close', () => resolve());
    connection.on('error', () => undefined);
  });
  clearTimeout(timer);
}

async function main(): Promise<void> {
  let delay = 1_000;
  while (!stopping) {
    try {
      await consumeOnce();
      delay = 1_000;
    } catch (error) {
      log.warn('Response queue consumer down; reconnecting', {
        error: (error as Error).message,
        delayMs: delay,
      });
    }
    if (stopping) break;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15_000);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping = true;
    process.exit(0);
  });
}

await main();
