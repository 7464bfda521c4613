import { getConfig } from '../config.ts';

/**
 * The RabbitMQ management API (HTTP), for what AMQP does not tell: every queue without knowing its name, and the
 * messages consumers hold unacknowledged. Its figures lag up to about 5 s (the broker's statistics interval).
 * Only the vhost of AMQP_URL is read: a broker shared by several deployments shows each its own queues.
 */
export interface ManagedQueue {
  name: string;
  consumers: number;
  /** Waiting for a consumer. */
  ready: number;
  /** Delivered, not yet acknowledged (being worked on). */
  unacked: number;
}

const TIMEOUT_MS = 3_000;

export async function managementQueues(base: string): Promise<ManagedQueue[]> {
  const amqpUrl = new URL(getConfig().amqp.url);
  const user = decodeURIComponent(amqpUrl.username || 'guest');
  const password = decodeURIComponent(amqpUrl.password || 'guest');
  const vhost = decodeURIComponent(amqpUrl.pathname.replace(/^\//, '')) || '/';
  const url = new URL(`/api/queues/${encodeURIComponent(vhost)}`, base);
  url.searchParams.set('columns', 'name,consumers,messages_ready,messages_unacknowledged');
  const response = await fetch(url, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`management API answered ${response.status}`);
  const queues = (await response.json()) as Array<{
    name: string;
    consumers?: number;
    messages_ready?: number;
    messages_unacknowledged?: number;
  }>;
  return queues.map((q) => ({
    name: q.name,
    consumers: q.consumers ?? 0,
    ready: q.messages_ready ?? 0,
    unacked: q.messages_unacknowledged ?? 0,
  }));
}

/**
 * Messages consumers hold unacknowledged, per named queue, when the management API is configured and answers;
 * an empty map otherwise (the caller then knows only what AMQP tells).
 */
export async function unacknowledged(names: readonly string[]): Promise<Map<string, number>> {
  const base = getConfig().amqp.managementUrl;
  if (!base || names.length === 0) return new Map();
  try {
    const wanted = new Set(names);
    return new Map(
      (await managementQueues(base)).filter((q) => wanted.has(q.name)).map((q) => [q.name, q.unacked]),
    );
  } catch {
    return new Map();
  }
}
