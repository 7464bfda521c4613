import type { QueueDepth } from '../broker/queues.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import type { ConditionalUpdate, TaskHit, TaskPage } from '../store/tasks.ts';
import {
  type ClaimRule,
  changeDoc,
  decide,
  type Effect,
  LEGACY_RUNNABLE,
  type LeaseEvidence,
  type Sibling,
} from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';
import { type ClaimOutcome, claimAndPublish } from './publish.ts';
import { releaseDependants } from './replies.ts';

/**
 * The sweep (DESIGN principle 4): every minute, the tasks whose `dane.due_at` has passed, and only those, are
 * read a page at a time until the time budget is spent (the rest waits for the next run), and the lifecycle
 * decides for each what being due means (README, The sweep). Every state change goes through the conditional
 * claim, so two sweeps, or a sweep racing the API or reply handling, never publish a task twice.
 */

export interface SweepDeps {
  ports: TaskPorts;
  /** Milliseconds left for this run; the sweep stops taking pages when it runs low. */
  remainingMs: () => number;
  pageSize: number;
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

export function defaultSweepDeps(remainingMs: () => number, ports: TaskPorts = defaultPorts()): SweepDeps {
  return { ports, remainingMs, pageSize: 500 };
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
  const lease = await observeQueues(nowMs, deps.ports).catch((error: unknown) => {
    if (error instanceof DependencyUnavailableError && error.dependency === 'messagequeue') return undefined;
    throw error;
  });
  if (!lease) {
    // Nothing can be published, and no lease judged, without the broker: the next run tries again.
    report.brokerDown = true;
    logger.info('Sweep done', { ...report });
    return report;
  }
  let after: TaskPage['next'];
  for (;;) {
    if (deps.remainingMs() < RESERVE_MS) break;
    const page = await deps.ports.store.dueTasks(nowMs, LEGACY_RUNNABLE, deps.pageSize, after);
    report.pages += 1;
    report.read += page.hits.length;
    try {
      await handlePage(page.hits, now, deps.ports, report, lease);
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError && error.dependency === 'messagequeue')) throw error;
      report.brokerDown = true;
    }
    if (report.brokerDown) break;
    if (!page.next) {
      report.complete = true;
      break;
    }
    after = page.next;
  }
  logger.info('Sweep done', { ...report });
  return report;
}

/**
 * Once a run: the worker queue of every key with queued tasks, and the response queue, as the broker sees them
 * now; those holding messages no consumer took yet are recorded as busy at `nowMs`, so that later runs know when
 * each was last seen with a backlog. Answers the evidence a queued task's lease is judged by; a key the first look
 * missed (a search that lagged behind a claim) is looked at when one of its tasks needs it.
 */
async function observeQueues(
  nowMs: number,
  ports: TaskPorts,
): Promise<(key: string) => Promise<LeaseEvidence>> {
  const replies = ports.broker.responseQueue;
  const depths = new Map<string, QueueDepth | null>();
  const busyAt = new Map<string, number>();
  const observe = async (keys: readonly string[]) => {
    const names = [...new Set([...keys, replies])];
    const now = await ports.broker.queueDepths(names);
    // Replies delivered to the replies function but not yet applied (a batch in flight, or one failing while the
    // store recovers) are invisible to AMQP; the management API counts them.
    const inFlight = (await ports.broker.unacknowledged([replies])).get(replies) ?? 0;
    await ports.store.recordQueuesBusy(
      names.filter((name) => (now.get(name)?.ready ?? 0) > 0 || (name === replies && inFlight > 0)),
      nowMs,
    );
    for (const [name, depth] of now) depths.set(name, depth);
    for (const [name, at] of await ports.store.queuesBusyAt(names)) busyAt.set(name, at);
  };
  const keys = await ports.store.queuedTaskKeys();
  if (keys.length > 0) await observe(keys);
  return async (key) => {
    if (!depths.has(key)) await observe([key]);
    return { queue: depths.get(key), queueBusyAt: busyAt.get(key), repliesBusyAt: busyAt.get(replies) };
  };
}

const siblingView = (hit: TaskHit): Sibling => ({
  key: hit.source.task.key,
  state: hit.source.task.state,
  msg: hit.source.task.msg,
  dane: hit.source.dane,
});

async function handlePage(
  hits: readonly TaskHit[],
  now: Date,
  ports: TaskPorts,
  report: SweepReport,
  lease: (key: string) => Promise<LeaseEvidence>,
) {
  // Only a 412 needs its siblings to decide: one search for the documents of all 412s on the page, and for those of
  // the give-ups that release dependants once the decisions are made.
  const siblingsOf = new Map<string, Map<string, TaskHit>>();
  const readSiblings = async (documentIds: readonly string[]) => {
    const missing = [...new Set(documentIds)].filter((id) => !siblingsOf.has(id));
    if (missing.length === 0) return;
    const found = await ports.store.tasksOfDocuments(missing);
    for (const id of missing) siblingsOf.set(id, new Map((found.get(id) ?? []).map((h) => [h.id, h])));
  };
  await readSiblings(hits.filter((h) => h.source.task.state === 412).map((h) => h.documentId));
  const toPublish = new Map<ClaimRule, TaskHit[]>();
  const writes: Array<ConditionalUpdate & { counts: 'gaveUp' | 'released' | 'rescheduled' }> = [];
  const releases: Array<{ documentId: string; effect: Extract<Effect, { type: 'release-dependants' }> }> = [];
  for (const hit of hits) {
    let current = hit;
    let views: Sibling[] = [];
    if (hit.source.task.state === 412) {
      const fresh = siblingsOf.get(hit.documentId) ?? new Map<string, TaskHit>();
      // The sibling search ran after the search that found the task due.
      current = fresh.get(hit.id) ?? hit;
      if (current.source.task.state !== 412) continue;
      views = [...fresh.values()].map(siblingView);
    }
    const decision = decide(
      current.source,
      {
        type: 'due',
        siblings: views,
        lease: current.source.task.state === 102 ? await lease(current.source.task.key) : undefined,
      },
      now,
      ports.policy,
    );
    if (decision.ignore) continue;
    if (decision.change) {
      const counts = !decision.change.task
        ? 'rescheduled'
        : current.source.task.state === 102
          ? 'gaveUp'
          : 'released';
      writes.push({ hit: current, doc: changeDoc(decision.change, now), counts });
    }
    for (const effect of decision.effects) {
      if (effect.type === 'publish')
        toPublish.set(effect.rule, [...(toPublish.get(effect.rule) ?? []), current]);
      else if (effect.type === 'release-dependants') releases.push({ documentId: hit.documentId, effect });
    }
  }

  const count = (outcomes: Map<string, ClaimOutcome>) => {
    for (const outcome of outcomes.values()) {
      if (outcome === 'published') report.published += 1;
      else if (outcome === 'lost-race') report.lostRaces += 1;
      else if (outcome === 'unroutable') report.unroutable += 1;
      else if (outcome === 'broker-down') report.brokerDown = true;
    }
  };
  for (const [rule, tasks] of toPublish) {
    count(await claimAndPublish(tasks, rule, now, ports));
    if (report.brokerDown) return;
  }

  const results = await ports.store.updateTasksIfUnchanged(writes);
  writes.forEach((write, i) => {
    if (results[i]?.status === 'ok') report[write.counts] += 1;
  });
  if (releases.length > 0) {
    await readSiblings(releases.map((r) => r.documentId));
    report.released += await releaseDependants(
      releases.map(({ documentId, effect }) => ({
        siblings: [...(siblingsOf.get(documentId)?.values() ?? [])],
        failed: [effect],
      })),
      now,
      ports,
    );
  }
}
