import amqp from 'amqplib';

/** What the fault suite's RabbitMQ node says, asked directly (AMQP) or through its management API. */

/** Messages ready in a queue, from a passive declaration: the broker's live count, no statistics lag. */
export async function readyMessages(amqpUrl: string, queue: string): Promise<number> {
  const model = await amqp.connect(amqpUrl);
  try {
    const channel = await model.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await model.close().catch(() => undefined);
  }
}

/**
 * Messages the broker counts as delivered and not acknowledged on the channels of the connection whose client
 * port is `localPort` (the management API names a connection `<client host>:<client port> -> ...`), or
 * undefined while the management API does not list that connection's channels yet (its statistics are emitted
 * every 5 s).
 */
export async function unacknowledgedOnConnection(
  managementUrl: string,
  amqpUrl: string,
  localPort: number,
): Promise<number | undefined> {
  const amqpParts = new URL(amqpUrl);
  const user = decodeURIComponent(amqpParts.username || 'guest');
  const password = decodeURIComponent(amqpParts.password || 'guest');
  const url = new URL('/api/channels', managementUrl);
  url.searchParams.set('columns', 'connection_details,messages_unacknowledged');
  const response = await fetch(url, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`management API answered ${response.status}`);
  const channels = (await response.json()) as Array<{
    connection_details?: { peer_port?: number };
    messages_unacknowledged?: number;
  }>;
  const mine = channels.filter((c) => c.connection_details?.peer_port === localPort);
  if (mine.length === 0) return undefined;
  return mine.reduce((sum, c) => sum + (c.messages_unacknowledged ?? 0), 0);
}

/** Deletes the queues of earlier runs of the suite (named `FAULT_<run>_...`) with whatever they still hold. */
export async function deleteEarlierQueues(managementUrl: string, amqpUrl: string): Promise<number> {
  const amqpParts = new URL(amqpUrl);
  const authorization = `Basic ${Buffer.from(
    `${decodeURIComponent(amqpParts.username || 'guest')}:${decodeURIComponent(amqpParts.password || 'guest')}`,
  ).toString('base64')}`;
  const vhost = encodeURIComponent(decodeURIComponent(amqpParts.pathname.replace(/^\//, '')) || '/');
  const listing = await fetch(new URL(`/api/queues/${vhost}?columns=name`, managementUrl), {
    headers: { authorization },
    signal: AbortSignal.timeout(10_000),
  });
  if (!listing.ok) throw new Error(`management API answered ${listing.status}`);
  const names = ((await listing.json()) as Array<{ name: string }>)
    .map((q) => q.name)
    .filter((name) => name.startsWith('FAULT_'));
  for (const name of names) {
    const response = await fetch(new URL(`/api/queues/${vhost}/${encodeURIComponent(name)}`, managementUrl), {
      method: 'DELETE',
      headers: { authorization },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok && response.status !== 404) throw new Error(`deleting ${name}: ${response.status}`);
  }
  return names.length;
}
