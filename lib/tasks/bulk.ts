import { DependencyUnavailableError } from '../errors.ts';
import { type ApiTask, toApiTask } from '../model/task.ts';
import type { Paged, PageParams, SortValues } from '../store/paging.ts';
import {
  deleteTasksIfUnchanged,
  stateCountsMatching,
  type TaskFilter,
  tasksMatching,
} from '../store/task-filters.ts';
import { type ActionOutcome, applyActionToHits } from './actions.ts';
import { mayClaim } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';

/**
 * Bulk actions: one action on every task that a filter selects, a page at a time (search_after in `_id` order,
 * conditional bulk writes), through the same per-task code path as the single actions. A task that changed
 * between the read and the write is skipped: it may no longer answer the filter, and nobody chose it as it is.
 */

export const BULK_ACTIONS = ['retry', 'forceretry', 'reset', 'delete'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export interface BulkOptions {
  dryRun?: boolean;
  /** Where a previous call that ran out of time stopped. */
  cursor?: SortValues | undefined;
  /** Stop after the page that exceeds this (the API must answer within the gateway's 30 s). */
  budgetMs?: number;
  pageSize?: number;
}

export interface BulkResult {
  action: BulkAction;
  dry_run: boolean;
  /** Tasks the filter selected (dry run: all of them; otherwise: those read by this call). */
  matched: number;
  /** Tasks the action changed (dry run: would change). */
  affected: number;
  /** Tasks read but not changed: not eligible in their state, or changed by someone else meanwhile. */
  skipped: number;
  /** Present when the time budget ran out: call again with it as `cursor` to go on. */
  next: SortValues | undefined;
}

export const BULK_BUDGET_MS = 20_000;
const PAGE_SIZE = 1_000;

/**
 * Whether `action` changes a task in `state`: the lifecycle's claim rules for the retries (what `decide` asks
 * of a claim), and reset and delete apply to every task, as their single forms do.
 */
export function actionApplies(action: BulkAction, state: number): boolean {
  if (action === 'retry') return mayClaim(state, 'retry');
  if (action === 'forceretry') return mayClaim(state, 'force');
  return true;
}

export interface BulkPorts extends TaskPorts {
  filters: {
    tasksMatching: typeof tasksMatching;
    stateCountsMatching: typeof stateCountsMatching;
    deleteTasksIfUnchanged: typeof deleteTasksIfUnchanged;
  };
}

export const defaultBulkPorts = (): BulkPorts => ({
  ...defaultPorts(),
  filters: { tasksMatching, stateCountsMatching, deleteTasksIfUnchanged },
});

export async function bulkAction(
  action: BulkAction,
  filter: TaskFilter,
  options: BulkOptions = {},
  now = new Date(),
  ports: BulkPorts = defaultBulkPorts(),
): Promise<BulkResult> {
  if (options.dryRun) {
    // One aggregation, however many tasks match: the count per state, summed over the states it applies to.
    const counts = await ports.filters.stateCountsMatching(filter);
    let matched = 0;
    let affected = 0;
    for (const [state, count] of counts) {
      matched += count;
      if (actionApplies(action, state)) affected += count;
    }
    return { action, dry_run: true, matched, affected, skipped: matched - affected, next: undefined };
  }

  const started = Date.now();
  const budgetMs = options.budgetMs ?? BULK_BUDGET_MS;
  let after = options.cursor;
  let matched = 0;
  let affected = 0;
  for (;;) {
    const page = await ports.filters.tasksMatching(filter, options.pageSize ?? PAGE_SIZE, after, false);
    matched += page.hits.length;
    let outcomes: Map<string, ActionOutcome>;
    if (action === 'delete') {
      const written = await ports.filters.deleteTasksIfUnchanged(page.hits);
      outcomes = new Map(
        page.hits.map((hit, i) => [hit.id, written[i]?.status === 'ok' ? 'changed' : 'lost-race']),
      );
    } else {
      outcomes = await applyActionToHits(page.hits, action, now, ports);
      // Every further page would be skipped too: say so (503) instead of reading them all for nothing.
      if ([...outcomes.values()].includes('broker-down')) {
        throw new DependencyUnavailableError(
          'messagequeue',
          `RabbitMQ is unreachable: nothing claimed (${affected} tasks were before it went)`,
        );
      }
    }
    affected += [...outcomes.values()].filter((o) => o === 'changed').length;
    after = page.next;
    if (!after) break;
    if (Date.now() - started >= budgetMs) break;
  }
  return { action, dry_run: false, matched, affected, skipped: matched - affected, next: after };
}

/** One page of the tasks `filter` selects: what a bulk action with that filter acts on. */
export async function findTasks(filter: TaskFilter, page: PageParams): Promise<Paged<ApiTask>> {
  const found = await tasksMatching(filter, page.limit, page.cursor);
  return { items: found.hits.map((h) => toApiTask(h.id, h.source)), total: found.total, next: found.next };
}
