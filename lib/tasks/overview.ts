import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import type {
  OverviewCounts as Counts,
  CreatorsOverview,
  Overview,
  StateCategory,
} from '../model/overview.ts';
import { TaskState } from '../model/task.ts';
import type { WorkerQueueInfo } from '../model/worker.ts';
import { creatorCounts, keyCounts, type StateBucket, type TaskCounts } from '../store/task-filters.ts';
import { hasFailedForGood, isAutoRetry } from './lifecycle.ts';
import { listWorkers } from './workers.ts';

/** The operator's overview: per task key (with its worker queue) and per creator, how many tasks are where. */

export const RECENT_MINUTES = 10;
const MAX_KEYS = 1_000;
const MAX_CREATORS = 100;

/** Which column of the overview a task in `state` counts in; `hasDue`: it has a due time. */
export function categoryOf(state: number, hasDue: boolean): StateCategory {
  if (state === TaskState.SUCCESS) return 'done';
  // The lifecycle's rule: a final failure, or an automatic retry whose attempts are used up.
  if (hasFailedForGood(state, { due_at: hasDue ? 0 : null })) return 'failed';
  if (state === TaskState.QUEUED) return 'queued';
  if (state === TaskState.UNFINISHED_DEPENDENCY) return 'waiting';
  if (state === TaskState.NO_ROUTE_TO_QUEUE) return 'unroutable';
  if (isAutoRetry(state)) return 'backoff';
  return 'new';
}

const emptyCategories = (): Record<StateCategory, number> => ({
  new: 0,
  queued: 0,
  done: 0,
  failed: 0,
  waiting: 0,
  unroutable: 0,
  backoff: 0,
});

function summarise(counts: TaskCounts): Counts {
  const categories = emptyCategories();
  const states: Record<string, number> = {};
  for (const bucket of counts.states as StateBucket[]) {
    states[String(bucket.state)] = bucket.count;
    categories[categoryOf(bucket.state, true)] += bucket.due;
    categories[categoryOf(bucket.state, false)] += bucket.count - bucket.due;
  }
  return {
    total: counts.total,
    states,
    categories,
    done_per_minute: Math.round((counts.doneRecently / RECENT_MINUTES) * 10) / 10,
  };
}

/** Tasks that wait for a worker of their key: published, about to be, or retried. */
const waitingForWorker = (c: Record<StateCategory, number>) => c.queued + c.new + c.unroutable + c.backoff;

function warningOf(key: string, counts: Counts, queue: WorkerQueueInfo | undefined, known: boolean) {
  const waiting = waitingForWorker(counts.categories);
  if (!known || waiting === 0) return null;
  if (!queue) return `${waiting} tasks wait for ${key}, but no worker queue named ${key} exists`;
  if (queue.active_workers === 0)
    return `${waiting} tasks wait for ${key}, but no consumer is bound to queue ${key}`;
  return null;
}

export async function overview(now = new Date()): Promise<Overview> {
  const [counts, queues] = await Promise.all([
    keyCounts({ maxKeys: MAX_KEYS, recentMinutes: RECENT_MINUTES }),
    listWorkers().then(
      (list) => ({ list, error: null }),
      (error: unknown) => {
        // Without the broker the counts are still worth showing; the queues are then unknown, and said so.
        if (!(error instanceof DependencyUnavailableError)) throw error;
        logger.warn('Overview without worker queues', { error: error.message });
        return { list: [] as WorkerQueueInfo[], error: error.message };
      },
    ),
  ]);
  const byName = new Map(queues.list.map((q) => [q.name, q]));
  return {
    generated_at: now.toISOString(),
    recent_minutes: RECENT_MINUTES,
    queues_error: queues.error,
    keys: counts.map((entry) => {
      const summary = summarise(entry);
      const queue = byName.get(entry.key);
      return {
        key: entry.key,
        ...summary,
        queue: queue ? { name: queue.name, consumers: queue.active_workers, messages: queue.in_queue } : null,
        warning: warningOf(entry.key, summary, queue, queues.error === null),
      };
    }),
  };
}

/** The same counts per creator (a batch): the 100 creators with the most documents. */
export async function creatorsOverview(now = new Date()): Promise<CreatorsOverview> {
  const counts = await creatorCounts({ maxCreators: MAX_CREATORS, recentMinutes: RECENT_MINUTES });
  return {
    generated_at: now.toISOString(),
    recent_minutes: RECENT_MINUTES,
    creators: counts.creators.map((entry) => ({
      creator: entry.creator,
      documents: entry.documents,
      ...summarise(entry),
    })),
    other_creator_documents: counts.otherCreatorDocuments,
  };
}
