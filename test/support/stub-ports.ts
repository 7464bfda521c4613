import type { OutgoingMessage, PublishOutcome } from '../../lib/broker/publisher.ts';
import type { Policy } from '../../lib/tasks/lifecycle.ts';
import type { BrokerPort } from '../../lib/tasks/ports.ts';

/** The lifecycle policy of the unit tests over stub ports: short, round numbers, and no jitter. */
export const stubPolicy: Policy = {
  leaseMs: () => 3_600_000,
  createdGraceMs: 120_000,
  publishGraceMs: 120_000,
  replyGraceMs: 120_000,
  retry: { maxAttempts: 2, baseMs: 60_000, maxMs: 3_600_000 },
  random: () => 0,
};

/** A broker that is always reachable, answers every publish with `outcome` and keeps what it was given. */
export function recordingBroker(outcome: PublishOutcome, rest: Omit<BrokerPort, 'connect' | 'publish'>) {
  const published: OutgoingMessage[] = [];
  const broker: BrokerPort = {
    connect: async () => undefined,
    publish: async (messages) => {
      published.push(...messages);
      return messages.map(() => outcome);
    },
    ...rest,
  };
  return { broker, published };
}
