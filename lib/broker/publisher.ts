import type { Message } from 'amqplib';
import { getConfig } from '../config.ts';
import { getBroker } from './connection.ts';

/**
 * Publishes task messages the way the original did (spec §4.2): topic exchange, mandatory, persistent, with
 * reply_to, correlation_id and priority and no other property. Confirms are pipelined: every message is
 * written, then the broker's acks are awaited together, so a batch costs one round trip rather than one per task.
 */
export interface OutgoingMessage {
  routingKey: string;
  correlationId: string;
  priority: number;
  body: unknown;
}

export type PublishOutcome =
  | { status: 'confirmed' }
  | { status: 'returned' }
  | { status: 'failed'; reason: string };

const CONFIRM_TIMEOUT_MS = 30_000;

export async function publishMessages(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> {
  if (messages.length === 0) return [];
  const { exchange, responseQueue } = getConfig().amqp;
  const { channel } = await getBroker();

  // The broker sends basic.return before the basic.ack of an unroutable mandatory message, so by the time a
  // confirm callback runs, its return (if any) has been seen.
  const returned = new Set<string>();
  const onReturn = (message: Message) => {
    const id = message.properties.correlationId as string | undefined;
    if (id) returned.add(id);
  };
  let closedReason: string | undefined;
  const settleOnClose: Array<() => void> = [];
  const onClose = () => {
    closedReason = 'the AMQP channel closed before the broker confirmed the message';
    for (const settle of settleOnClose) settle();
  };
  channel.on('return', onReturn);
  channel.once('close', onClose);

  try {
    const pending: Promise<PublishOutcome>[] = [];
    for (const message of messages) {
      const content = Buffer.from(JSON.stringify(message.body));
      let written = false;
      pending.push(
        new Promise<PublishOutcome>((resolve) => {
          const timer = setTimeout(
            () =>
              resolve({
                status: 'failed',
                reason: `no confirm from the broker within ${CONFIRM_TIMEOUT_MS} ms`,
              }),
            CONFIRM_TIMEOUT_MS,
          );
          const done = (outcome: PublishOutcome) => {
            clearTimeout(timer);
            resolve(outcome);
          };
          settleOnClose.push(() => done({ status: 'failed', reason: closedReason ?? 'channel closed' }));
          if (closedReason) {
            done({ status: 'failed', reason: closedReason });
            return;
          }
          try {
            written = channel.publish(
              exchange,
              message.routingKey,
              content,
              {
                mandatory: true,
                persistent: true,
                replyTo: responseQueue,
                correlationId: message.correlationId,
                priority: message.priority,
              },
              (error: unknown) => {
                if (error)
                  done({
                    status: 'failed',
                    reason: `the broker refused the message (nack): ${String(error)}`,
                  });
                else if (returned.has(message.correlationId)) done({ status: 'returned' });
                else done({ status: 'confirmed' });
              },
            );
          } catch (error) {
            written = true;
            done({ status: 'failed', reason: (error as Error).message });
          }
        }),
      );
      // Respect the socket's back-pressure instead of buffering a whole large batch in memory.
      if (!written && !closedReason) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            channel.off('close', resume);
            resolve();
          };
          channel.once('drain', () => {
            channel.off('close', resume);
            resolve();
          });
          channel.once('close', resume);
        });
      }
    }
    return await Promise.all(pending);
  } finally {
    channel.off('return', onReturn);
    channel.off('close', onClose);
  }
}
