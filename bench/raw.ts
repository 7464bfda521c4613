import type { Client } from '@opensearch-project/opensearch';
import type { ConfirmChannel } from 'amqplib';
import { daneIndexMappings, daneIndexSettings } from '../lib/store/index-layout.ts';
import { documentBodies, median, now, percentile, progress, randomId, timed } from './lib.ts';
import { declareWorkerQueue } from './worker.ts';

/**
 * The raw limits of this machine, measured in the same run as the workloads: what OpenSearch and RabbitMQ can do
 * at all for the same amount of the same data, with nothing of ours in between. Every request goes to an index of
 * its own with the DANE mapping, so that nothing here is seen by either server.
 */

export type Refresh = false | true | 'wait_for';

const stamp = '2026-12-01T00:00:00';

function taskSource(documentId: string, key: string, state = 201) {
  return {
    task: { key, state, msg: state === 201 ? 'Created' : 'Success', priority: 1 },
    role: { name: 'task', parent: documentId },
    created_at: stamp,
    updated_at: stamp,
    dane: { attempt: 0, retries: 0, due_at: null, last_error: null },
  };
}

export async function createRawIndex(client: Client, index: string): Promise<void> {
  await client.indices.delete({ index }, { ignore: [404] });
  await client.indices.create({
    index,
    body: { settings: daneIndexSettings(0), mappings: daneIndexMappings },
  });
}

async function bulk(client: Client, lines: unknown[], refresh: Refresh): Promise<number> {
  const { ms, value } = await timed(() => client.bulk({ body: lines as Record<string, unknown>[], refresh }));
  if ((value.body as { errors?: boolean }).errors) throw new Error('raw _bulk reported item errors');
  return ms;
}

/** N document sources in one `_bulk` (what POST /DANE/documents must store). */
export async function rawBulkDocuments(client: Client, index: string, n: number, refresh: Refresh) {
  const lines: unknown[] = [];
  for (const doc of documentBodies(`RAW-${randomId()}`, n)) {
    lines.push(
      { create: { _index: index, _id: randomId() } },
      { ...doc, created_at: stamp, updated_at: stamp, role: 'document' },
    );
  }
  return bulk(client, lines, refresh);
}

/** N task sources on N documents in one `_bulk` (what batch assignment must store); returns the task ids too. */
export async function rawBulkTasks(
  client: Client,
  index: string,
  documentIds: readonly string[],
  refresh: Refresh,
) {
  const key = `RAW${randomId().slice(0, 8).toUpperCase()}`;
  const lines: unknown[] = [];
  const tasks: Array<{ id: string; documentId: string }> = [];
  for (const documentId of documentIds) {
    const id = randomId();
    tasks.push({ id, documentId });
    lines.push({ create: { _index: index, _id: id, routing: documentId } }, taskSource(documentId, key));
  }
  return { ms: await bulk(client, lines, refresh), tasks };
}

/** N partial updates of task state in one `_bulk` (what applying N worker replies must write). */
export async function rawBulkUpdates(
  client: Client,
  index: string,
  tasks: ReadonlyArray<{ id: string; documentId: string }>,
  refresh: Refresh,
) {
  const lines: unknown[] = [];
  for (const task of tasks) {
    lines.push(
      { update: { _index: index, _id: task.id, routing: task.documentId } },
      { doc: { task: { state: 200, msg: 'Success' }, updated_at: stamp, dane: { due_at: null } } },
    );
  }
  return bulk(client, lines, refresh);
}

/** Documents to hang raw tasks on (not measured). */
export async function rawParents(client: Client, index: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  const lines: unknown[] = [];
  for (const doc of documentBodies(`PARENT-${randomId()}`, n)) {
    const id = randomId();
    ids.push(id);
    lines.push({ create: { _index: index, _id: id } }, { ...doc, role: 'document' });
  }
  await bulk(client, lines, false);
  return ids;
}

/**
 * N confirmed, mandatory, persistent publishes of task-sized messages, pipelined on one channel into a bound queue
 * (what publishing N tasks must send).
 */
export async function rawPublish(channel: ConfirmChannel, exchange: string, n: number): Promise<number> {
  const key = `RAWPUB${randomId().slice(0, 6).toUpperCase()}`;
  const queue = await declareWorkerQueue(channel, exchange, key);
  const body = Buffer.from(
    JSON.stringify({
      task: { key, _id: 'x'.repeat(40), state: 201, msg: 'Created', priority: 1, created_at: stamp },
      document: { ...documentBodies('RAW', 1)[0], created_at: stamp, updated_at: stamp, _id: 'y'.repeat(40) },
    }),
  );
  const { ms } = await timed(async () => {
    for (let i = 0; i < n; i += 1) {
      channel.publish(exchange, `Video.${key}`, body, {
        mandatory: true,
        persistent: true,
        priority: 1,
        replyTo: 'raw',
        correlationId: String(i),
      });
    }
    await channel.waitForConfirms();
  });
  await channel.deleteQueue(queue);
  return ms;
}

/** One confirmed publish, waited for (the broker half of a single task's round trip). */
async function publishOne(channel: ConfirmChannel, exchange: string, routingKey: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    channel.publish(
      exchange,
      routingKey,
      Buffer.from('{"task":{},"document":{}}'),
      { mandatory: true, persistent: true, priority: 1 },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

export interface RoundTrips {
  /** One document indexed, no refresh. */
  index: number;
  /** One get by id + one index + one confirmed publish: the least a single POST /DANE/task must do. */
  getIndexPublish: number;
  /** One index + one confirmed publish. */
  indexPublish: number;
}

/**
 * The raw single round trips against `index` and `exchange`, one call each, for a caller that times them: here
 * in a row, and in bench/single-inprocess.ts interleaved with the functions it times, so that both see the same
 * moments of load. `close` deletes the bound queue the publishes go to.
 */
export async function roundTripSteps(
  client: Client,
  channel: ConfirmChannel,
  index: string,
  exchange: string,
) {
  const key = `RAWRT${randomId().slice(0, 6).toUpperCase()}`;
  const queue = await declareWorkerQueue(channel, exchange, key);
  const indexOne = async (documentId: string) => {
    await client.index({
      index,
      id: randomId(),
      routing: documentId,
      body: taskSource(documentId, key),
      op_type: 'create',
    });
  };
  return {
    index: indexOne,
    indexPublish: async (documentId: string) => {
      await indexOne(documentId);
      await publishOne(channel, exchange, `Video.${key}`);
    },
    getIndexPublish: async (documentId: string) => {
      await client.get({ index, id: documentId });
      await indexOne(documentId);
      await publishOne(channel, exchange, `Video.${key}`);
    },
    close: async () => {
      await channel.deleteQueue(queue);
    },
  };
}

/** Medians of `count` sequential single round trips. */
export async function rawRoundTrips(
  client: Client,
  channel: ConfirmChannel,
  index: string,
  exchange: string,
  parents: readonly string[],
  count = 50,
): Promise<RoundTrips> {
  const steps = await roundTripSteps(client, channel, index, exchange);
  const runs: Record<keyof RoundTrips, number[]> = { index: [], getIndexPublish: [], indexPublish: [] };
  for (let i = 0; i < count + 5; i += 1) {
    const parent = parents[i % parents.length] as string;
    const a = await timed(() => steps.index(parent));
    const b = await timed(() => steps.indexPublish(parent));
    const c = await timed(() => steps.getIndexPublish(parent));
    // The first few warm the connections and caches up.
    if (i < 5) continue;
    runs.index.push(a.ms);
    runs.indexPublish.push(b.ms);
    runs.getIndexPublish.push(c.ms);
  }
  await steps.close();
  return {
    index: median(runs.index),
    indexPublish: median(runs.indexPublish),
    getIndexPublish: median(runs.getIndexPublish),
  };
}

export interface RefreshProbe {
  refresh: string;
  clients: number;
  writes: number;
  /** Median and 95th percentile of the write alone. */
  writeMedianMs: number;
  writeP95Ms: number;
  /** Median of write + the search that follows it at once. */
  writeSearchMedianMs: number;
  /** Share of searches that found the document written just before. */
  foundPct: number;
}

/**
 * Read-your-write under concurrency: `clients` clients each write one document and search for it at once, over
 * and over, with one refresh policy. Shows what each policy costs a writer and whether the search sees the write.
 */
export async function refreshProbe(
  client: Client,
  index: string,
  refresh: Refresh,
  { clients = 20, perClient = 20 }: { clients?: number; perClient?: number } = {},
): Promise<RefreshProbe> {
  const writes: number[] = [];
  const both: number[] = [];
  let found = 0;
  const creator = `PROBE-${randomId()}`;
  const one = async (c: number, i: number) => {
    const id = randomId();
    const start = now();
    await client.index({
      index,
      id,
      body: {
        target: { id: `P-${c}-${i}`, url: 'http://example.org/p.mp4', type: 'Video' },
        creator: { id: creator, type: 'Organization' },
        role: 'document',
      },
      op_type: 'create',
      refresh,
    });
    const written = now();
    const search = await client.search({
      index,
      body: { query: { term: { 'target.id': `P-${c}-${i}` } }, size: 1 },
    });
    const end = now();
    writes.push(written - start);
    both.push(end - start);
    if ((search.body as { hits: { hits: unknown[] } }).hits.hits.length === 1) found += 1;
  };
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i += 1) await one(c, i);
    }),
  );
  const label = refresh === false ? 'none' : String(refresh);
  progress(`raw: refresh=${label}, clients=${clients}: write median ${median(writes).toFixed(1)} ms`);
  return {
    refresh: label,
    clients,
    writes: writes.length,
    writeMedianMs: median(writes),
    writeP95Ms: percentile(writes, 95),
    writeSearchMedianMs: median(both),
    foundPct: (100 * found) / writes.length,
  };
}
