import { getConfig } from '../config.ts';
import { type Logger, logger as rootLogger } from '../log.ts';
import { AUTO_RETRY_STATES, DEPENDENCY_FAILED, TaskState } from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import {
  decodeTaskCursor,
  getTasks,
  searchTasks,
  type TaskHit,
  type TaskPage,
  tasksOfDocument,
  updateTasksIfUnchanged,
} from '../store/tasks.ts';
import { type ClaimOutcome, claimAndPublish, type RunRule } from './publish.ts';
import { isFinalFailure, releaseDependants } from './replies.ts';

/**
 * The sweep (DESIGN principle 4): every minute, the tasks whose `dane.due_at` has passed, and only those, are
 * looked at, a page at a time until the time budget is spent (the rest waits for the next run):
 * - 201/205 nobody published (a batch whose async publisher died, a reset): published;
 * - 502/503 whose back-off has elapsed, and 422 (a mandatory publish is itself the test whether a queue is bound
 *   now; it comes back unroutable otherwise): published again as a new attempt;
 * - 102 whose lease has expired (message or reply lost): republished as a new attempt; a late reply to the old
 *   attempt is then ignored;
 * - 412 whose dependencies are all done: published; whose dependency failed for good: released (424); otherwise
 *   looked at again later.
 * Every state change goes through the conditional claim, so two sweeps, or a sweep racing the API or reply
 * handling, never publish a task twice.
 */

export interface SweepDeps {
  searchDue: (nowMs: number, size: number, after: unknown[] | undefined) => Promise<TaskPage>;
  publish: (hits: readonly TaskHit[], rule: RunRule, now: Date) => Promise<Map<string, ClaimOutcome>>;
  siblingsOf: (documentId: string) => Promise<TaskHit[]>;
  update: typeof updateTasksIfUnchanged;
  release: typeof releaseDependants;
  /** Milliseconds left for this run; the sweep stops taking pages when it runs low. */
  remainingMs: () => number;
  pageSize: number;
  log: Logger;
}

export interface SweepReport {
  read: number;
  published: number;
  lostRaces: number;
  unroutable: number;
  released: number;
  rescheduled: number;
  pages: number;
  complete: boolean;
  /** The broker could not be reached: the run stopped, nothing was claimed, the next run tries again. */
  brokerDown: boolean;
  /** Tasks that stayed queued past their lease more often than the attempt limit allows, and were given up. */
  gaveUp: number;
}

export const dueQuery = (nowMs: number) => ({
  bool: {
    filter: [{ exists: { field: 'task.key' } }],
    should: [
      { range: { 'dane.due_at': { lte: nowMs } } },
      // Tasks written by the original server have no bookkeeping; its scheduler re-ran these states every 5 s.
      {
        bool: {
          must_not: [{ exists: { field: 'dane' } }],
          filter: [{ terms: { 'task.state': [201, 205, 412, 502, 503] } }],
        },
      },
    ],
    minimum_should_match: 1,
  },
});

export function defaultSweepDeps(remainingMs: () => number, log: Logger = rootLogger): SweepDeps {
  return {
    searchDue: (nowMs, size, after) =>
      searchTasks(dueQuery(nowMs), {
        size,
        after,
        sort: [{ 'dane.due_at': { order: 'asc', unmapped_type: 'long' } }],
      }),
    publish: claimAndPublish,
    siblingsOf: async (documentId) => {
      // Ids from a search, states from a realtime multi-get: the search may lag behind the last writes.
      const listed = await tasksOfDocument(documentId);
      return [...(await getTasks(listed.map((t) => t.id))).values()];
    },
    update: updateTasksIfUnchanged,
    release: releaseDependants,
    remainingMs,
    pageSize: 500,
    log,
  };
}

/** Keeps 10 s for the page in hand: a page is a search, a bulk claim and a pipelined publish. */
const RESERVE_MS = 10_000;

export async function sweep(now: Date, deps: SweepDeps): Promise<SweepReport> {
  const nowMs = now.getTime();
  const report: SweepReport = {
    read: 0,
    published: 0,
    lostRaces: 0,
    unroutable: 0,
    released: 0,
    rescheduled: 0,
    pages: 0,
    complete: false,
    brokerDown: false,
    gaveUp: 0,
  };
  let after: unknown[] | undefined;
  for (;;) {
    if (deps.remainingMs() < RESERVE_MS) break;
    const page = await deps.searchDue(nowMs, deps.pageSize, after);
    report.pages += 1;
    report.read += page.hits.length;
    await handlePage(page.hits, now, deps, report);
    if (report.brokerDown) break;
    if (!page.next) {
      report.complete = true;
      break;
    }
    after = decodeTaskCursor(page.next, 1);
  }
  deps.log.info('Sweep done', { ...report });
  return report;
}

async function handlePage(hits: readonly TaskHit[], now: Date, deps: SweepDeps, report: SweepReport) {
  const run: TaskHit[] = [];
  const force: TaskHit[] = [];
  const waiting: TaskHit[] = [];
  const idle: TaskHit[] = [];
  for (const hit of hits) {
    const state = hit.source.task.state;
    if (state === TaskState.CREATED || state === TaskState.TASK_RESET || AUTO_RETRY_STATES.has(state))
      run.push(hit);
    else if (state === TaskState.QUEUED || state === TaskState.NO_ROUTE_TO_QUEUE) force.push(hit);
    else if (state === TaskState.UNFINISHED_DEPENDENCY) waiting.push(hit);
    else idle.push(hit);
  }

  const count = (outcomes: Map<string, ClaimOutcome>) => {
    for (const outcome of outcomes.values()) {
      if (outcome === 'published') report.published += 1;
      else if (outcome === 'lost-race') report.lostRaces += 1;
      else if (outcome === 'unroutable') report.unroutable += 1;
      else if (outcome === 'broker-down') report.brokerDown = true;
    }
  };
  if (run.length > 0) count(await deps.publish(run, 'run', now));
  if (report.brokerDown) return;

  // A queued task past its lease (or a claim never confirmed) is republished as a new attempt, and that counts:
  // a message that kills its worker, or a backlog longer than the lease, ends visibly instead of cycling.
  const { maxAttempts } = getConfig().tasks.retry;
  const stamp = timestamp(now);
  const expired = force.filter((hit) => hit.source.task.state === TaskState.QUEUED);
  const exhausted = expired.filter((hit) => (hit.source.dane?.retries ?? 0) >= maxAttempts);
  const republish = [
    ...force.filter((hit) => hit.source.task.state !== TaskState.QUEUED),
    ...expired
      .filter((hit) => !exhausted.includes(hit))
      .map((hit) => ({
        ...hit,
        source: { ...hit.source, dane: { ...hit.source.dane, retries: (hit.source.dane?.retries ?? 0) + 1 } },
      })),
  ];
  if (republish.length > 0) count(await deps.publish(republish, 'force', now));
  if (exhausted.length > 0) {
    const msg = `No reply within the lease after ${maxAttempts} attempts`;
    const results = await deps.update(
      exhausted.map((hit) => ({
        hit,
        doc: {
          task: { state: TaskState.ERROR, msg },
          updated_at: stamp,
          dane: { due_at: null, last_error: msg },
        },
      })),
    );
    report.gaveUp += results.filter((r) => r.status === 'ok').length;
    for (const hit of exhausted) {
      const siblings = await deps.siblingsOf(hit.documentId);
      report.released += await deps.release(
        siblings,
        [{ key: hit.source.task.key, message: msg }],
        now,
        deps.log,
      );
    }
  }

  const nowMs = now.getTime();
  const byDocument = new Map<string, TaskHit[]>();
  for (const hit of waiting) byDocument.set(hit.documentId, [...(byDocument.get(hit.documentId) ?? []), hit]);
  const ready: TaskHit[] = [];
  const later: TaskHit[] = [];
  for (const [documentId, dependants] of byDocument) {
    const siblings = await deps.siblingsOf(documentId);
    const stateOf = (key: string) => siblings.find((s) => s.source.task.key === key)?.source.task.state;
    const failed = siblings
      .filter((s) => {
        const state = s.source.task.state;
        return (
          isFinalFailure(state) ||
          state === DEPENDENCY_FAILED ||
          (AUTO_RETRY_STATES.has(state) && s.source.dane?.due_at == null)
        );
      })
      .map((s) => ({ key: s.source.task.key, message: s.source.task.msg ?? `state ${s.source.task.state}` }));
    if (failed.length > 0) report.released += await deps.release(siblings, failed, now, deps.log);
    for (const hit of dependants) {
      const current = siblings.find((s) => s.id === hit.id) ?? hit;
      if (current.source.task.state !== TaskState.UNFINISHED_DEPENDENCY) continue;
      const waitingOn = current.source.dane?.waiting_on ?? [];
      // A dependency that does not exist (its creation failed, or someone deleted it) counts as ready too: run
      // again, the worker names it in its next 412 and it is created then.
      const settled = (key: string) => {
        const state = stateOf(key);
        return state === undefined || state === TaskState.SUCCESS;
      };
      if (waitingOn.every(settled)) ready.push(current);
      else later.push(current);
    }
  }
  if (ready.length > 0) count(await deps.publish(ready, 'run', now));

  // Still waiting: a dependency's success re-runs these at once (fan-out), so the sweep only needs to look again
  // now and then, in case that was lost. Bookkeeping only: `updated_at` stays the time of the last real change.
  const reschedule = [
    ...later.map((hit) => ({ hit, doc: { dane: { due_at: nowMs + getConfig().tasks.retry.maxMs } } })),
    ...idle.map((hit) => ({ hit, doc: { dane: { due_at: null } } })),
  ];
  const results = await deps.update(reschedule);
  report.rescheduled += results.filter((r) => r.status === 'ok').length;
}
