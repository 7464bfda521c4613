import { getConfig } from '../config.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { withStore } from './client.ts';
import { classifyItemError, describeItemError, type ItemError, mgetFound } from './items.ts';

/**
 * When each queue was last seen holding messages that no consumer had taken yet, as the sweep observes it on
 * every run (one small document per queue, in an index of its own beside the DANE index, which Python workers
 * share and whose layout is theirs). The lifecycle counts a task's lease from the moment its queue was last
 * seen with a backlog: until then, the task may simply have been waiting its turn.
 */
export const queuesIndex = () => `${getConfig().opensearch.index}-queues`;

const mappings = { dynamic: 'strict', properties: { busy_at: { type: 'long' } } } as const;

let created: Promise<void> | undefined;

function ensureQueuesIndex(): Promise<void> {
  created ??= withStore('queues index', async (client) => {
    const index = queuesIndex();
    if ((await client.indices.exists({ index })).body === true) return;
    try {
      await client.indices.create({
        index,
        body: {
          settings: { number_of_shards: 1, number_of_replicas: getConfig().opensearch.replicas },
          mappings,
        },
      });
    } catch (error) {
      const type = (error as { body?: { error?: { type?: string } } }).body?.error?.type;
      if (type !== 'resource_already_exists_exception') throw error;
    }
  }).catch((error: unknown) => {
    created = undefined;
    throw error;
  });
  return created;
}

/** Records that `names` hold a backlog at `atMs`. */
export async function recordQueuesBusy(names: readonly string[], atMs: number): Promise<void> {
  if (names.length === 0) return;
  await ensureQueuesIndex();
  await withStore('record busy queues', async (client) => {
    const response = await client.bulk({
      index: queuesIndex(),
      body: names.flatMap((name) => [{ index: { _id: name } }, { busy_at: atMs }]),
    });
    const items = (response.body as { items: Array<{ index?: { status?: number; error?: ItemError } }> })
      .items;
    const failed = items.find((item) => item.index?.error);
    // Not recording a backlog would let a lease expire too early: the sweep run fails and the next one retries.
    if (failed) {
      const reason = `could not record a busy queue: ${describeItemError(failed.index?.error)}`;
      if (classifyItemError(failed.index?.status, failed.index?.error) === 'transient')
        throw new DependencyUnavailableError('database', `The database (OpenSearch) ${reason}`);
      throw new Error(reason);
    }
  });
}

/** When each of `names` was last seen with a backlog; absent: never (or before the record began). */
export async function queuesBusyAt(names: readonly string[]): Promise<Map<string, number>> {
  const busy = new Map<string, number>();
  if (names.length === 0) return busy;
  await ensureQueuesIndex();
  const docs = await withStore('busy queues', (client) => mgetFound(client, queuesIndex(), names));
  for (const doc of docs) {
    const at = (doc._source as { busy_at?: unknown } | undefined)?.busy_at;
    if (typeof at === 'number') busy.set(doc._id, at);
  }
  return busy;
}
