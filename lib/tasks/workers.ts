import { getBroker } from '../broker/connection.ts';
import { getConfig } from '../config.ts';
import { BadRequestError } from '../http/errors.ts';
import { logger } from '../log.ts';
import { type ApiTask, TaskState, toApiTask } from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import { ensureIndex } from '../store/bootstrap.ts';
import { withStore } from '../store/client.ts';
import { decodeTaskCursor, searchTasks } from '../store/tasks.ts';

/** The workers view (spec §7.2.15-17) with bounded calls, paging and validated input. */

export interface WorkerQueueInfo {
  name: string;
  active_workers: number;
  in_queue: number;
}

const MANAGEMENT_TIMEOUT_MS = 3_000;

async function fromManagementApi(base: string): Promise<WorkerQueueInfo[]> {
  const amqpUrl = new URL(getConfig().amqp.url);
  const user = decodeURIComponent(amqpUrl.username || 'guest');
  const password = decodeURIComponent(amqpUrl.password || 'guest');
  const response = await fetch(new URL('/api/queues', base), {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    signal: AbortSignal.timeout(MANAGEMENT_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`management API answered ${response.status}`);
  const queues = (await response.json()) as Array<{ name: string; consumers?: number; messages?: number }>;
  return queues.map((q) => ({ name: q.name, active_workers: q.consumers ?? 0, in_queue: q.messages ?? 0 }));
}

/** The task keys in use; by the workers' convention a worker queue is named after its task key. */
async function taskKeysInUse(): Promise<string[]> {
  await ensureIndex();
  return withStore('task keys', async (client) => {
    const response = await client.search({
      index: getConfig().opensearch.index,
      body: { size: 0, aggs: { keys: { terms: { field: 'task.key', size: 1_000 } } } } as Record<
        string,
        unknown
      >,
    });
    const buckets = (response.body as { aggregations?: { keys?: { buckets?: Array<{ key: string }> } } })
      .aggregations?.keys?.buckets;
    return (buckets ?? []).map((b) => b.key);
  });
}

async function fromAmqp(): Promise<WorkerQueueInfo[]> {
  const keys = await taskKeysInUse();
  const { connection } = await getBroker();
  const out: WorkerQueueInfo[] = [];
  // A passive declare of a missing queue closes its channel, so each check gets a channel of its own.
  for (const key of keys) {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      const queue = await channel.checkQueue(key);
      out.push({ name: key, active_workers: queue.consumerCount, in_queue: queue.messageCount });
    } catch {
      // No queue by that name: no worker has ever started for this key.
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
  return out;
}

/** Every worker queue with its consumers and backlog; the response queue is left out. */
export async function listWorkers(): Promise<WorkerQueueInfo[]> {
  const { managementUrl, responseQueue } = getConfig().amqp;
  let queues: WorkerQueueInfo[] | undefined;
  if (managementUrl) {
    try {
      queues = await fromManagementApi(managementUrl);
    } catch (error) {
      logger.warn('RabbitMQ management API unavailable; asking the broker over AMQP', { error });
    }
  }
  queues ??= await fromAmqp();
  return queues.filter((q) => q.name !== responseQueue).sort((a, b) => a.name.localeCompare(b.name));
}

/** States `/workers/{key}` leaves out: queued, done, waiting to be published, waiting on a dependency. */
const NOT_ERRORED = [TaskState.QUEUED, TaskState.SUCCESS, TaskState.CREATED, TaskState.UNFINISHED_DEPENDENCY];

export interface WorkerTasks {
  total: number;
  states: Record<string, number>;
  tasks: ApiTask[];
  next: string | null;
}

export async function erroredTasks(
  key: string,
  limit: number,
  cursor: string | undefined,
): Promise<WorkerTasks> {
  const after = cursor === undefined ? undefined : decodeTaskCursor(cursor);
  if (cursor !== undefined && !after)
    throw new BadRequestError('Invalid cursor: use the "next" of a previous page');
  const query = {
    bool: {
      filter: [
        { term: { 'task.key': key } },
        { has_parent: { parent_type: 'document', query: { match_all: {} } } },
      ],
      must_not: [{ terms: { 'task.state': NOT_ERRORED } }],
    },
  };
  const page = await searchTasks(query, { size: limit, after });
  const states = await withStore('task states', async (client) => {
    const response = await client.search({
      index: getConfig().opensearch.index,
      body: {
        size: 0,
        query: { bool: { filter: [{ term: { 'task.key': key } }] } },
        aggs: { states: { terms: { field: 'task.state', size: 100 } } },
      } as Record<string, unknown>,
    });
    const buckets =
      (
        response.body as {
          aggregations?: { states?: { buckets?: Array<{ key: number; doc_count: number }> } };
        }
      ).aggregations?.states?.buckets ?? [];
    return Object.fromEntries(buckets.map((b) => [String(b.key), b.doc_count]));
  });
  return {
    total: page.total,
    states,
    tasks: page.hits.map((h) => toApiTask(h.id, h.source)),
    next: page.next ?? null,
  };
}

/**
 * Every task of `key` in `state` becomes 205 "Manual reset" and due now, so the next sweep publishes it. The
 * original's update ran with conflicts=abort and forgot `updated_at`; here a task that changes meanwhile is
 * skipped (it is no longer in that state) and the count says what was reset.
 */
export async function massReset(
  key: string,
  state: number,
  now = new Date(),
): Promise<{ total: number; error: string }> {
  await ensureIndex();
  const total = await withStore('mass reset', async (client) => {
    const response = await client.updateByQuery({
      index: getConfig().opensearch.index,
      conflicts: 'proceed',
      refresh: true,
      body: {
        query: { bool: { filter: [{ term: { 'task.key': key } }, { term: { 'task.state': state } }] } },
        script: {
          lang: 'painless',
          source: [
            'ctx._source.task.state = params.state;',
            'ctx._source.task.msg = params.msg;',
            'ctx._source.updated_at = params.stamp;',
            'if (ctx._source.dane == null) { ctx._source.dane = [:]; }',
            'ctx._source.dane.due_at = params.due;',
            'ctx._source.dane.retries = 0;',
          ].join(' '),
          params: {
            state: TaskState.TASK_RESET,
            msg: 'Manual reset',
            stamp: timestamp(now),
            due: now.getTime(),
          },
        },
      },
    });
    return (response.body as { updated?: number }).updated ?? 0;
  });
  return total > 0 ? { total, error: '' } : { total: 0, error: 'No tasks affected' };
}
