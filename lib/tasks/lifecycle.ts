import {
  type Reply,
  type StoredTask,
  type TaskBookkeeping,
  type TaskSpec,
  TaskState,
} from '../model/task.ts';
import { timestamp } from '../model/time.ts';

/**
 * The task lifecycle (DESIGN principle 9): every rule about what a task does next, in one pure function. No I/O,
 * no config, no clock: the caller passes the task as stored, what happened, the time and the policy, and gets
 * back the change to write (conditionally on the version it read) and the effects to carry out afterwards, or
 * the reason to do nothing. The orchestrators (assign, publish, replies, sweep, actions) only read, ask, write
 * and carry out. README's "Task lifecycle" tables are this module in prose; test/unit/lifecycle.test.ts walks
 * them.
 */

export interface Policy {
  /** How long a published task may stay queued before it counts as lost, per task key. */
  leaseMs: (key: string) => number;
  /** How long a 201/205 may wait for its publisher before the sweep publishes it. */
  createdGraceMs: number;
  /** How long a claim may wait for its publish to be confirmed before the sweep takes it over. */
  publishGraceMs: number;
  /** How long after replies were last seen waiting in the response queue no lease expires (one may answer it). */
  replyGraceMs: number;
  retry: { maxAttempts: number; baseMs: number; maxMs: number };
  /** The jitter's source; tests fix it. */
  random: () => number;
}

// --- State predicates: each defined once, here. ---

/** The original's whitelist: states it re-published by itself, and that a task without bookkeeping is swept in. */
export const LEGACY_RUNNABLE: readonly number[] = [201, 205, 412, 502, 503];
/** Worker (or publish) errors retried with back-off up to the attempt limit. */
export const isAutoRetry = (state: number) => state === 502 || state === 503;

/** Waiting for something that will happen by itself: a publish, a worker, a dependency, a queue. */
const ACTIVE: ReadonlySet<number> = new Set([201, 205, 102, 412, 422, 502, 503]);

/** Not done and never going to run again by itself: its dependants must be told. 424 is one of them. */
export const isFinalFailure = (state: number) => state !== TaskState.SUCCESS && !ACTIVE.has(state);

/** Failed for good: a final failure, or an automatic retry whose attempts are used up (no longer due). */
export const hasFailedForGood = (state: number, dane: Partial<TaskBookkeeping> | null | undefined) =>
  isFinalFailure(state) || (isAutoRetry(state) && dane?.due_at == null);

/** Nothing will look at the task by itself again: done, or failed for good. Every other task has a due time. */
export const isSettled = (state: number, dane: Partial<TaskBookkeeping> | null | undefined) =>
  state === TaskState.SUCCESS || hasFailedForGood(state, dane);

/** GET /DANE/task lists the unfinished tasks (spec §3.3): all but these. */
export const NOT_UNFINISHED: readonly number[] = [TaskState.SUCCESS, TaskState.UNFINISHED_DEPENDENCY];
/** GET /DANE/workers/{key} lists the errored tasks: all but these. */
export const NOT_ERRORED: readonly number[] = [
  TaskState.QUEUED,
  TaskState.SUCCESS,
  TaskState.CREATED,
  TaskState.UNFINISHED_DEPENDENCY,
];
/** A mass reset of queued tasks would publish them twice; of reset tasks, change nothing. */
/**
 * The only states in which a task reacts to what its siblings do (`dependency-succeeded`, `sibling-waiting`,
 * `dependency-failed`): follow-ups look for siblings in these states alone, so a batch of replies costs the same
 * however many finished siblings its documents have.
 */
export const REACTS_TO_SIBLINGS: readonly number[] = [
  TaskState.CREATED,
  TaskState.UNFINISHED_DEPENDENCY,
  TaskState.DEPENDENCY_FAILED,
];

export const canMassReset = (state: number) => state !== TaskState.QUEUED && state !== TaskState.TASK_RESET;

/**
 * Who claims a task for publishing: `run` (the API, fan-out, the sweep) the states that wait for a publish;
 * `retry` (a person) anything not queued or done; `force` (a person) anything; `lease` (the sweep) a queued task
 * whose lease expired.
 */
export type ClaimRule = 'run' | 'retry' | 'force' | 'lease';

export function mayClaim(state: number, rule: ClaimRule): boolean {
  switch (rule) {
    case 'force':
      return true;
    case 'retry':
      return state !== TaskState.QUEUED && state !== TaskState.SUCCESS;
    case 'lease':
      return state === TaskState.QUEUED;
    case 'run':
      return LEGACY_RUNNABLE.includes(state) || state === 422 || state === TaskState.DEPENDENCY_FAILED;
  }
}

// --- Back-off ---

/**
 * Exponential back-off with "equal jitter": half the delay is fixed, half random, so retries of many tasks that
 * failed together (a worker pool outage) spread out instead of arriving in waves.
 */
export function retryDelayMs(retriesSoFar: number, policy: Policy): number {
  const { baseMs, maxMs } = policy.retry;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retriesSoFar, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * policy.random());
}

/** An automatic retry: due again after a back-off, or, once the attempts are used up, not at all. */
export function scheduleRetry(
  retriesSoFar: number,
  nowMs: number,
  policy: Policy,
): { retries: number; due_at: number | null } {
  if (retriesSoFar >= policy.retry.maxAttempts) return { retries: retriesSoFar, due_at: null };
  return { retries: retriesSoFar + 1, due_at: nowMs + retryDelayMs(retriesSoFar, policy) };
}

// --- Events, changes, effects ---

/** What a task sees of one of its siblings (another task of its document). */
export interface Sibling {
  key: string;
  state: number;
  msg: string | null | undefined;
  dane?: Partial<TaskBookkeeping> | null | undefined;
}

/**
 * What the sweep saw of the queues when a queued task's lease ran out: a lease stands for "its message or its
 * reply was lost", and these tell a lost message from one that is still waiting its turn.
 */
export interface LeaseEvidence {
  /** The task key's worker queue now (ready: messages no consumer has taken); null: no queue of that name. */
  queue: { ready: number; consumers: number } | null | undefined;
  /** When that queue was last seen holding ready messages (this run included); undefined: never seen so. */
  queueBusyAt: number | undefined;
  /** When the response queue was last seen holding replies not yet applied. */
  repliesBusyAt: number | undefined;
}

export type TaskEvent =
  /** The broker cannot be reached: nothing is claimed. */
  | { type: 'broker-down' }
  | { type: 'claim'; rule: ClaimRule; claim: string }
  /** At claim time, the task's document no longer exists. */
  | { type: 'orphaned'; documentId: string }
  | { type: 'publish-confirmed' }
  | { type: 'publish-returned'; routingKey: string }
  | { type: 'publish-failed'; reason: string }
  | {
      type: 'reply';
      reply: Reply;
      /** From the correlation id; absent for a bare task id (a message of the original server). */
      attempt: number | undefined;
      claim: string | undefined;
      /** The valid dependencies a 412 names. */
      dependencies: TaskSpec[];
      /** Keys of the siblings not done yet: what a 412 that names nothing waits for. */
      unfinishedSiblings: string[];
    }
  /** The sweep found the task due; `siblings` as they are now (for a 412), `lease` what it saw (for a 102). */
  | { type: 'due'; siblings: readonly Sibling[]; lease?: LeaseEvidence }
  | { type: 'dependency-succeeded'; key: string }
  /** A sibling replied 412: tasks of its document that nobody published yet are published with it. */
  | { type: 'sibling-waiting' }
  | { type: 'dependency-failed'; key: string; message: string }
  | { type: 'reset' }
  | { type: 'mass-reset' };

/** The change to write: the new state (absent: unchanged), bookkeeping to merge, and whether it is a real change. */
export interface Change {
  task?: { state: number; msg: string };
  dane: Partial<TaskBookkeeping>;
  /** false: bookkeeping only; `updated_at` stays the time of the last real change. */
  touch: boolean;
}

export type Effect =
  /** Claim and publish this task (with the rule given). */
  | { type: 'publish'; rule: ClaimRule }
  | { type: 'create-dependencies'; specs: TaskSpec[] }
  /** Tell the task's siblings (`dependency-succeeded` or `sibling-waiting`). */
  | {
      type: 'notify-siblings';
      event: Extract<TaskEvent, { type: 'dependency-succeeded' | 'sibling-waiting' }>;
    }
  /** Tell the tasks waiting on this one that it failed for good (`dependency-failed`). */
  | { type: 'release-dependants'; key: string; message: string };

export type Decision =
  | { ignore: false; change: Change | undefined; effects: Effect[] }
  | { ignore: true; reason: string };

const ignore = (reason: string): Decision => ({ ignore: true, reason });
const decided = (change: Change | undefined, effects: Effect[] = []): Decision => ({
  ignore: false,
  change,
  effects,
});

/** A reset (single or mass): due now for the sweep, with every trace of earlier runs cleared. One rule for both. */
export function resetChange(
  nowMs: number,
  state: 201 | 205,
): Change & { task: { state: number; msg: string } } {
  return {
    task: { state, msg: state === TaskState.CREATED ? 'Reset' : 'Manual reset' },
    dane: { due_at: nowMs, retries: 0, last_error: null, waiting_on: null, unconfirmed: null },
    touch: true,
  };
}

/**
 * A new task's `_source`: 201 "Created", due for the sweep after a grace period in case nobody publishes it.
 * `creator`: the creator id of its document (`creatorTerm`), kept for the per-creator counts.
 */
export function newTask(
  spec: TaskSpec,
  documentId: string,
  now: Date,
  policy: Policy,
  creator: string | undefined,
): StoredTask {
  const stamp = timestamp(now);
  return {
    task: {
      key: spec.key,
      state: TaskState.CREATED,
      msg: 'Created',
      priority: spec.priority,
      ...(Object.keys(spec.args).length > 0 ? { args: spec.args } : {}),
    },
    role: { name: 'task', parent: documentId },
    created_at: stamp,
    updated_at: stamp,
    dane: {
      attempt: 0,
      retries: 0,
      due_at: now.getTime() + policy.createdGraceMs,
      last_error: null,
      ...(creator === undefined ? {} : { creator }),
    },
  };
}

/** Whether a reply answers the attempt that is in flight now. */
export function replyVerdict(
  task: StoredTask,
  attempt: number | undefined,
  claim: string | undefined,
): 'apply' | 'stale' | 'duplicate' {
  const dane = task.dane ?? {};
  // A bare task id (a message published by another server) has no attempt: accept it while the task is queued.
  if (attempt !== undefined && attempt !== (dane.attempt ?? 0)) return 'stale';
  // Same attempt number, other claim: the message of an earlier incarnation of this task (deleted, assigned again).
  if (claim !== undefined && dane.claim != null && claim !== dane.claim) return 'stale';
  if (task.task.state === TaskState.QUEUED) return 'apply';
  // Its publish was not confirmed, yet the message reached a worker after all: the work was done, take the reply.
  if (attempt !== undefined && attempt === dane.unconfirmed) return 'apply';
  return 'duplicate';
}

export function giveUpMessage(maxAttempts: number, key: string, lease: LeaseEvidence | undefined): string {
  const queue = lease?.queue;
  const seen =
    queue === undefined
      ? 'queue not observed'
      : queue === null
        ? `no queue named ${key}`
        : `queue ${key}: ${queue.ready} waiting, ${queue.consumers} consumer${queue.consumers === 1 ? '' : 's'}`;
  return `No reply within the lease after ${maxAttempts} attempts (${seen})`;
}

/**
 * While there is a sign that a queued task past its lease is not lost, when to look at it again; undefined when
 * the lease has run out. A lease counts from the moment the task's message can have reached a worker, and not
 * while replies wait to be applied, so that neither a backlog in the worker queue (hours are normal for ASR) nor
 * a backlog of replies (after a store outage) makes a worker run a task a second time.
 */
export function leaseExtension(
  key: string,
  lease: LeaseEvidence | undefined,
  nowMs: number,
  policy: Policy,
): number | undefined {
  if (lease === undefined) return undefined;
  const repliesSettleAt = lease.repliesBusyAt === undefined ? 0 : lease.repliesBusyAt + policy.replyGraceMs;
  // Messages published before this task's were still waiting at `queueBusyAt`, so its own may have reached a
  // worker only then (a queue is first-in first-out within a priority; a later, higher priority only delays it).
  const queueSettleAt = lease.queueBusyAt === undefined ? 0 : lease.queueBusyAt + policy.leaseMs(key);
  const until = Math.max(repliesSettleAt, queueSettleAt);
  return until > nowMs ? until : undefined;
}
export const dependencyFailedMessage = (key: string, message: string) =>
  `Dependency \`${key}\` failed: ${message}`;

function onReply(
  task: StoredTask,
  event: Extract<TaskEvent, { type: 'reply' }>,
  nowMs: number,
  policy: Policy,
) {
  const verdict = replyVerdict(task, event.attempt, event.claim);
  if (verdict !== 'apply') return ignore(verdict);
  const { state, message } = event.reply;
  const key = task.task.key;
  const dane = task.dane ?? {};
  const retries = dane.retries ?? 0;
  const change = (bookkeeping: Partial<TaskBookkeeping>): Change => ({
    task: { state, msg: message },
    dane: { ...bookkeeping, unconfirmed: null },
    touch: true,
  });
  if (state === TaskState.SUCCESS) {
    return decided(change({ due_at: null, retries: 0, last_error: null, waiting_on: null }), [
      { type: 'notify-siblings', event: { type: 'dependency-succeeded', key } },
    ]);
  }
  if (state === TaskState.UNFINISHED_DEPENDENCY) {
    const named = event.dependencies.map((spec) => spec.key);
    // A worker names only the dependencies that do not exist yet; when it names none, it waits on some of the
    // unfinished siblings, and which ones only the worker knows. Each 412 counts and pushes the sweep's next look
    // further out, so a worker that keeps answering 412 for a dependency that is done is not re-run in a tight
    // loop; a dependency's success still re-runs the task at once.
    return decided(
      change({
        retries: retries + 1,
        due_at: nowMs + retryDelayMs(retries, policy),
        waiting_on: named.length > 0 ? named : event.unfinishedSiblings,
        last_error: null,
      }),
      [
        ...(event.dependencies.length > 0
          ? [{ type: 'create-dependencies' as const, specs: event.dependencies }]
          : []),
        { type: 'notify-siblings', event: { type: 'sibling-waiting' } },
      ],
    );
  }
  if (isAutoRetry(state)) {
    const next = scheduleRetry(retries, nowMs, policy);
    return decided(
      change({ ...next, last_error: message }),
      next.due_at === null ? [{ type: 'release-dependants', key, message }] : [],
    );
  }
  // A worker saying "queued": the lease that the publish started keeps running.
  if (state === TaskState.QUEUED) {
    return decided(change({ due_at: dane.due_at ?? nowMs + policy.leaseMs(key), last_error: null }));
  }
  // "created" or "reset": published again after the grace period.
  if (state === TaskState.CREATED || state === TaskState.TASK_RESET) {
    return decided(change({ due_at: nowMs + policy.createdGraceMs, last_error: null }));
  }
  // "unroutable" from a worker: tried again like one the broker returned, never given up.
  if (state === TaskState.NO_ROUTE_TO_QUEUE) {
    const next = scheduleRetry(retries, nowMs, policy);
    return decided(
      change({
        retries: next.retries,
        due_at: next.due_at ?? nowMs + retryDelayMs(retries, policy),
        last_error: message,
      }),
    );
  }
  return decided(change({ due_at: null, last_error: message }), [
    { type: 'release-dependants', key, message },
  ]);
}

function onDue(
  task: StoredTask,
  siblings: readonly Sibling[],
  lease: LeaseEvidence | undefined,
  nowMs: number,
  policy: Policy,
): Decision {
  const { state, key } = task.task;
  const dane = task.dane ?? {};
  if (state === TaskState.QUEUED) {
    const extended = leaseExtension(key, lease, nowMs, policy);
    if (extended !== undefined) return decided({ dane: { due_at: extended }, touch: false });
    // The lease expired (or the claim was never confirmed) with no sign of the task waiting: republished as a new
    // attempt, and that counts, so a message that kills its worker ends visibly instead of cycling.
    const { maxAttempts } = policy.retry;
    if ((dane.retries ?? 0) < maxAttempts) return decided(undefined, [{ type: 'publish', rule: 'lease' }]);
    const msg = giveUpMessage(maxAttempts, key, lease);
    return decided(
      { task: { state: TaskState.ERROR, msg }, dane: { due_at: null, last_error: msg }, touch: true },
      [{ type: 'release-dependants', key, message: msg }],
    );
  }
  if (state === TaskState.UNFINISHED_DEPENDENCY) {
    const waitingOn = dane.waiting_on ?? [];
    const failed = siblings.find(
      (s) => s.key !== key && waitingOn.includes(s.key) && hasFailedForGood(s.state, s.dane),
    );
    if (failed) {
      return onDependencyFailed(task, failed.key, failed.msg ?? `state ${failed.state}`);
    }
    // A dependency that does not exist (its creation failed, or someone deleted it) counts as ready too: run
    // again, the worker names it in its next 412 and it is created then.
    const settled = (k: string) => {
      const sibling = siblings.find((s) => s.key === k);
      return sibling === undefined || sibling.state === TaskState.SUCCESS;
    };
    if (waitingOn.every(settled)) return decided(undefined, [{ type: 'publish', rule: 'run' }]);
    // Still waiting: a dependency's success re-runs it at once (fan-out), so the sweep only needs to look again
    // now and then, in case that was lost.
    return decided({ dane: { due_at: nowMs + policy.retry.maxMs }, touch: false });
  }
  // Nobody published it (a batch whose publisher died, a reset), its back-off elapsed, or it was unroutable (a
  // mandatory publish is itself the test whether a queue is bound now).
  if (state === TaskState.CREATED || state === TaskState.TASK_RESET || state === 422 || isAutoRetry(state))
    return decided(undefined, [{ type: 'publish', rule: 'run' }]);
  // Settled tasks are never due; one that is (bookkeeping of an older version) is taken off the sweep's list.
  return decided({ dane: { due_at: null }, touch: false });
}

function onDependencyFailed(task: StoredTask, key: string, message: string): Decision {
  const waits =
    task.task.state === TaskState.UNFINISHED_DEPENDENCY && (task.dane?.waiting_on ?? []).includes(key);
  if (!waits) return ignore('not waiting on it');
  const msg = dependencyFailedMessage(key, message);
  return decided(
    {
      task: { state: TaskState.DEPENDENCY_FAILED, msg },
      dane: { due_at: null, last_error: msg },
      touch: true,
    },
    [{ type: 'release-dependants', key: task.task.key, message: msg }],
  );
}

function decideUnchecked(task: StoredTask, event: TaskEvent, nowMs: number, policy: Policy): Decision {
  const { state, key } = task.task;
  const dane = task.dane ?? {};
  const retries = dane.retries ?? 0;
  switch (event.type) {
    case 'broker-down':
      // A claim that cannot be published only costs a write and, worse, an attempt: state and due time stay.
      return ignore('broker down');
    case 'claim': {
      if (!mayClaim(state, event.rule)) return ignore('not eligible');
      return decided({
        task: { state: TaskState.QUEUED, msg: 'Queued' },
        dane: {
          attempt: (dane.attempt ?? 0) + 1,
          claim: event.claim,
          unconfirmed: null,
          // A person's retry starts the automatic retries afresh; a lease expiry uses one up.
          retries:
            event.rule === 'retry' || event.rule === 'force'
              ? 0
              : event.rule === 'lease'
                ? retries + 1
                : retries,
          // Due again soon unless the publish is confirmed (then the due time moves to the end of the lease): if
          // the process dies between claim and confirm, the sweep republishes within minutes, not after hours.
          due_at: nowMs + policy.publishGraceMs,
          last_error: null,
        },
        touch: true,
      });
    }
    case 'orphaned':
      return decided({
        task: { state: TaskState.ERROR, msg: `Parent document ${event.documentId} not found` },
        dane: { due_at: null },
        touch: true,
      });
    case 'publish-confirmed':
      return decided({ dane: { due_at: nowMs + policy.leaseMs(key) }, touch: false });
    case 'publish-returned': {
      // A worker may be deployed any time: unroutable tasks keep being tried (a returned mandatory publish costs
      // nothing), at the longest back-off interval once the attempts are used up.
      const next = scheduleRetry(retries, nowMs, policy);
      return decided({
        task: { state: TaskState.NO_ROUTE_TO_QUEUE, msg: 'Unroutable task' },
        dane: {
          retries: next.retries,
          due_at: next.due_at ?? nowMs + retryDelayMs(retries, policy),
          last_error: `No queue bound for ${event.routingKey}`,
        },
        touch: true,
      });
    }
    case 'publish-failed':
      // Our infrastructure failed, not the task: retried with back-off without using up the task's attempts. The
      // message may still have reached a worker, so a reply to this attempt counts.
      return decided({
        task: {
          state: TaskState.ERROR_PROXY,
          msg: `Publishing to the message queue failed: ${event.reason}`,
        },
        dane: {
          due_at: nowMs + retryDelayMs(retries, policy),
          last_error: event.reason,
          unconfirmed: dane.attempt ?? 0,
        },
        touch: true,
      });
    case 'reply':
      return onReply(task, event, nowMs, policy);
    case 'due':
      return onDue(task, event.siblings, event.lease, nowMs, policy);
    case 'dependency-succeeded': {
      // The original's fan-out: siblings created or waiting on dependencies run again (their worker re-checks); a
      // task released because this key failed earlier gets its chance again too.
      const released = state === TaskState.DEPENDENCY_FAILED && (dane.waiting_on ?? []).includes(event.key);
      if (state === TaskState.CREATED || state === TaskState.UNFINISHED_DEPENDENCY || released)
        return decided(undefined, [{ type: 'publish', rule: 'run' }]);
      return ignore('not waiting');
    }
    case 'sibling-waiting':
      // If its dependency finished before the 412 was stored, no fan-out comes: the sweep publishes the waiting
      // task when it is next due. Tasks nobody published yet go now.
      return state === TaskState.CREATED
        ? decided(undefined, [{ type: 'publish', rule: 'run' }])
        : ignore('not new');
    case 'dependency-failed':
      return onDependencyFailed(task, event.key, event.message);
    case 'reset':
      return decided(resetChange(nowMs, TaskState.CREATED));
    case 'mass-reset':
      return canMassReset(state)
        ? decided(resetChange(nowMs, TaskState.TASK_RESET))
        : ignore('queued or reset');
  }
}

/**
 * What `event` does to `task` at `now`. Guarantees that every task it changes either is settled (done, or failed
 * for good) or has a due time: no code path stores a task that nothing will ever look at again.
 */
export function decide(task: StoredTask, event: TaskEvent, now: Date, policy: Policy): Decision {
  const decision = decideUnchecked(task, event, now.getTime(), policy);
  if (!decision.ignore && decision.change) {
    const next = applyChange(task, decision.change, now);
    if (!isSettled(next.task.state, next.dane) && next.dane?.due_at == null) {
      throw new Error(`Lifecycle bug: ${event.type} leaves state ${next.task.state} without a due time`);
    }
  }
  return decision;
}

/** The whole source after `change`, for a conditional replace. */
export function applyChange(task: StoredTask, change: Change, now: Date): StoredTask {
  return {
    ...task,
    task: change.task ? { ...task.task, ...change.task } : task.task,
    ...(change.touch ? { updated_at: timestamp(now) } : {}),
    dane: { ...task.dane, ...change.dane },
  };
}

/** The partial source of `change`, for a conditional update. */
export function changeDoc(change: Change, now: Date): Record<string, unknown> {
  return {
    ...(change.task ? { task: change.task } : {}),
    ...(change.touch ? { updated_at: timestamp(now) } : {}),
    dane: change.dane,
  };
}
