import type { Channel } from 'amqplib';
import { getBroker } from './connection.ts';

/** A queue as the broker sees it now: messages waiting for a consumer (not those being worked on) and consumers. */
export interface QueueDepth {
  ready: number;
  consumers: number;
}

/**
 * The depth of each named queue, `null` for a queue that does not exist. Asked with passive declarations on a
 * channel of its own: a passive declaration of a missing queue closes its channel, which must not be the shared
 * confirm channel that publishing uses.
 */
export async function queueDepths(names: readonly string[]): Promise<Map<string, QueueDepth | null>> {
  const depths = new Map<string, QueueDepth | null>();
  if (names.length === 0) return depths;
  const { connection } = await getBroker();
  let channel: Channel | undefined;
  try {
    for (const name of names) {
      channel ??= await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(name);
        depths.set(name, { ready: messageCount, consumers: consumerCount });
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
        depths.set(name, null);
        channel = undefined;
      }
    }
  } finally {
    await channel?.close().catch(() => undefined);
  }
  return depths;
}
