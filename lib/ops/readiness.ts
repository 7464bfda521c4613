import { z } from 'zod';
import { getBroker } from '../broker/connection.ts';
import { getConfig } from '../config.ts';
import { getStoreClient } from '../store/client.ts';

/**
 * Readiness as the original's `/ready` meant it: the database answers a ping and the message queue connection
 * is open. Each probe is bounded by READY_TIMEOUT_MS so a dead dependency yields a prompt 503, never a request
 * stuck in connection back-off.
 */
export const DependencyStatusSchema = z.enum(['200 OK', '502 Bad Gateway']);
export type DependencyStatus = z.infer<typeof DependencyStatusSchema>;

/** What GET /ready answers. */
export const ReadinessSchema = z
  .object({
    database: DependencyStatusSchema,
    messagequeue: DependencyStatusSchema,
    message: z.string().optional(),
  })
  .meta({ id: 'Readiness' });

export type Readiness = Omit<z.infer<typeof ReadinessSchema>, 'message'> & { ready: boolean };

export interface ReadinessProbes {
  database: () => Promise<unknown>;
  messagequeue: () => Promise<unknown>;
}

export const defaultProbes: ReadinessProbes = {
  database: () => getStoreClient().ping(),
  // A round trip on the channel, not just a cached session: the broker may have gone away since it was opened.
  messagequeue: async () => {
    const { channel } = await getBroker();
    await channel.checkExchange(getConfig().amqp.exchange);
  },
};

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const outcome = check().then(
    () => true,
    () => false,
  );
  const ok = await Promise.race([outcome, timeout]).finally(() => clearTimeout(timer));
  return ok ? '200 OK' : '502 Bad Gateway';
}

export async function checkReadiness(
  probes: ReadinessProbes = defaultProbes,
  timeoutMs = getConfig().readyTimeoutMs,
): Promise<Readiness> {
  const [database, messagequeue] = await Promise.all([
    probe(probes.database, timeoutMs),
    probe(probes.messagequeue, timeoutMs),
  ]);
  return { ready: database === '200 OK' && messagequeue === '200 OK', database, messagequeue };
}
