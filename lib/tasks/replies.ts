import { z } from 'zod';
import { type Logger, logger as rootLogger } from '../log.ts';
import { taskId as taskIdOf } from '../model/ids.ts';
import {
  AUTO_RETRY_STATES,
  DEPENDENCY_FAILED,
  foldTaskFields,
  type Reply,
  ReplySchema,
  TaskSpecSchema,
  TaskState,
} from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import {
  type ConditionalUpdate,
  createTasks,
  getTasks,
  type NewTask,
  type TaskHit,
  tasksOfDocument,
  updateTasksIfUnchanged,
} from '../store/tasks.ts';
import { newTaskSource } from './assign.ts';
import { retryDelayMs, scheduleRetry } from './backoff.ts';
import { claimAndPublish, parseCorrelationId } from './publish.ts';

/**
 * Worker replies (spec §3.4), applied in batches as the event source delivers them, with the original's gaps
 * closed: a reply is applied only to the attempt it answers and only while that attempt is in flight (so
 * duplicates and late replies after a retry change nothing); malformed replies are recorded and dropped without
 * failing the batch; a dependency that fails for good releases the tasks waiting on it.
 */

export interface RawReply {
  correlationId: string | null | undefined;
  body: string;
}

export type ReplyOutcome = 'applied' | 'stale' | 'duplicate' | 'unknown-task' | 'poison';

export interface ReplyReport {
  outcomes: ReplyOutcome[];
  counts: Record<ReplyOutcome, number>;
}

/** Bulk item errors worth another round: rejections under load and unavailable shards. */
const isTransient = (reason: string) => /^\[(429|5\d\d)\]/.test(reason);

/** States after which the task will not run again by itself: its dependants must be told. */
export function isFinalFailure(state: number): boolean {
  return (
    state !== TaskState.SUCCESS &&
    state !== TaskState.QUEUED &&
    state !== TaskState.CREATED &&
    state !== TaskState.TASK_RESET &&
    state !== TaskState.UNFINISHED_DEPENDENCY &&
    // Unroutable tasks are tried again until a worker queue appears (see publish.ts).
    state !== TaskState.NO_ROUTE_TO_QUEUE &&
    !AUTO_RETRY_STATES.has(state)
  );
}

function decode(body: string): unknown {
  let value: unknown = JSON.parse(body);
  // Workers on lib >= 0.3.6 JSON-encode whatever their callback returns; a callback that already returned a JSON
  // string arrives double-encoded (spec §4.4).
  if (typeof value === 'string') value = JSON.parse(value);
  return value;
}

interface ParsedReply {
  index: number;
  taskId: string;
  attempt: number | undefined;
  claim: string | undefined;
  reply: Reply;
}

function parse(raw: RawReply, index: number, log: Logger): ParsedReply | undefined {
  const correlationId = raw.correlationId ?? '';
  if (correlationId === '') {
    log.warn('Poison reply dropped: no correlation id', { body: raw.body.slice(0, 500) });
    return undefined;
  }
  const { taskId, attempt, claim } = parseCorrelationId(correlationId);
  let value: unknown;
  try {
    value = decode(raw.body);
  } catch (error) {
    log.warn('Poison reply dropped: body is not JSON', { taskId, error, body: raw.body.slice(0, 500) });
    return undefined;
  }
  const parsed = ReplySchema.safeParse(value);
  if (!parsed.success) {
    log.warn('Poison reply dropped: not a {state, message} reply', {
      taskId,
      issues: z.flattenError(parsed.error).fieldErrors,
      body: raw.body.slice(0, 500),
    });
    return undefined;
  }
  return { index, taskId, attempt, claim, reply: parsed.data };
}

/** Whether a reply answers the attempt that is in flight now. */
function verdict(
  hit: TaskHit,
  item: Pick<ParsedReply, 'attempt' | 'claim'>,
): 'apply' | 'stale' | 'duplicate' {
  const dane = hit.source.dane ?? {};
  const current = dane.attempt ?? 0;
  // A bare task id (a message published by another server) has no attempt: accept it while the task is queued.
  if (item.attempt !== undefined && item.attempt !== current) return 'stale';
  // Same attempt number, other claim: the message of an earlier incarnation of this task (deleted, assigned again).
  if (item.claim !== undefined && dane.claim != null && item.claim !== dane.claim) return 'stale';
  if (hit.source.task.state === TaskState.QUEUED) return 'apply';
  // Its publish was not confirmed, yet the message reached a worker after all: the work was done, take the reply.
  if (item.attempt !== undefined && item.attempt === dane.unconfirmed) return 'apply';
  return 'duplicate';
}

function dependencyKeys(reply: Reply): string[] {
  return (reply.dependencies ?? []).flatMap((dependency) => {
    try {
      const spec =
        typeof dependency === 'string'
          ? TaskSpecSchema.parse({ key: dependency })
          : TaskSpecSchema.parse(foldTaskFields(dependency));
      return [spec.key];
    } catch {
      return [];
    }
  });
}

function stateChange(
  hit: TaskHit,
  reply: Reply,
  now: Date,
  siblingsUnfinished: string[],
): Record<string, unknown> {
  const nowMs = now.getTime();
  const retries = hit.source.dane?.retries ?? 0;
  const base = { task: { state: reply.state, msg: reply.message }, updated_at: timestamp(now) };
  if (reply.state === TaskState.SUCCESS) {
    return { ...base, dane: { due_at: null, retries: 0, last_error: null, waiting_on: null } };
  }
  if (reply.state === TaskState.UNFINISHED_DEPENDENCY) {
    const named = dependencyKeys(reply);
    // A worker names only the dependencies that do not exist yet; when it names none, it waits on some of the
    // unfinished siblings, and which ones only the worker knows.
    const waitingOn = named.length > 0 ? named : siblingsUnfinished;
    // Each 412 counts and pushes the sweep's next look further out: a worker that keeps reporting a dependency as
    // unfinished although it is done (a lower-case depends_on, say) is re-run at most every RETRY_MAX_MS, not in
    // a tight loop. A dependency's success still re-runs the task at once (fan-out).
    return {
      ...base,
      dane: {
        retries: retries + 1,
        due_at: nowMs + retryDelayMs(retries),
        waiting_on: waitingOn,
        last_error: null,
      },
    };
  }
  if (AUTO_RETRY_STATES.has(reply.state)) {
    return { ...base, dane: { ...scheduleRetry(retries, nowMs), last_error: reply.message } };
  }
  return { ...base, dane: { due_at: null, last_error: isFinalFailure(reply.state) ? reply.message : null } };
}

export async function handleReplies(
  raws: readonly RawReply[],
  now: Date = new Date(),
  log: Logger = rootLogger,
): Promise<ReplyReport> {
  const outcomes: ReplyOutcome[] = raws.map(() => 'poison');
  const parsed = raws.map((raw, i) => parse(raw, i, log)).filter((p): p is ParsedReply => p !== undefined);

  let pending = parsed;
  const applied: Array<{ hit: TaskHit; reply: Reply }> = [];
  // A conflict means the task changed between our read and our write (the API, the sweep, or another batch):
  // re-read and decide again, a bounded number of times.
  for (let round = 0; round < 5 && pending.length > 0; round += 1) {
    const hits = await getTasks(pending.map((p) => p.taskId));
    const siblingCache = new Map<string, Promise<TaskHit[]>>();
    const updates: Array<ConditionalUpdate & { item: ParsedReply; next: TaskHit }> = [];
    const working = new Map<string, TaskHit>();
    for (const item of pending) {
      const hit = working.get(item.taskId) ?? hits.get(item.taskId);
      if (!hit) {
        outcomes[item.index] = 'unknown-task';
        log.warn('Reply for an unknown task dropped', { taskId: item.taskId, state: item.reply.state });
        continue;
      }
      const v = verdict(hit, item);
      if (v !== 'apply') {
        outcomes[item.index] = v;
        log.info('Reply ignored', { taskId: item.taskId, verdict: v, replyAttempt: item.attempt });
        continue;
      }
      let unfinished: string[] = [];
      if (item.reply.state === TaskState.UNFINISHED_DEPENDENCY && dependencyKeys(item.reply).length === 0) {
        const siblings = siblingCache.get(hit.documentId) ?? tasksOfDocument(hit.documentId);
        siblingCache.set(hit.documentId, siblings);
        unfinished = (await siblings)
          .filter((s) => s.id !== hit.id && s.source.task.state !== TaskState.SUCCESS)
          .map((s) => s.source.task.key);
      }
      const doc = stateChange(hit, item.reply, now, unfinished);
      doc.dane = { ...(doc.dane as object), unconfirmed: null };
      // Later replies for the same task in this batch see this one as applied (state no longer 102).
      const next: TaskHit = {
        ...hit,
        source: {
          ...hit.source,
          task: { ...hit.source.task, state: item.reply.state, msg: item.reply.message },
          dane: { ...hit.source.dane, ...(doc.dane as object) },
        },
      };
      working.set(item.taskId, next);
      updates.push({ hit, doc, item, next });
    }
    // One write per task: the last applied reply's change, conditional on the version read.
    const lastPerTask = new Map<string, (typeof updates)[number]>();
    for (const update of updates) lastPerTask.set(update.item.taskId, update);
    const finalUpdates = [...lastPerTask.values()];
    // wait_for: workers check their dependencies with a search, so a stored 200 must be searchable before the
    // tasks waiting on it are published again (and the original refreshed every write).
    const results = await updateTasksIfUnchanged(finalUpdates, 'wait_for');
    const retry: ParsedReply[] = [];
    finalUpdates.forEach((update, i) => {
      const result = results[i];
      const sameTask = updates.filter((u) => u.item.taskId === update.item.taskId);
      if (result?.status === 'ok') {
        for (const u of sameTask) outcomes[u.item.index] = u === update ? 'applied' : 'duplicate';
        applied.push({ hit: update.next, reply: update.item.reply });
      } else if (
        result?.status === 'conflict' ||
        (result?.status === 'error' && isTransient(result.reason))
      ) {
        retry.push(...sameTask.map((u) => u.item));
      } else if (result?.status === 'missing') {
        // Deleted between our read and our write.
        for (const u of sameTask) outcomes[u.item.index] = 'unknown-task';
      } else {
        const reason = result?.status === 'error' ? result.reason : 'no answer';
        log.warn('Reply could not be stored and is dropped', { taskId: update.item.taskId, reason });
        for (const u of sameTask) outcomes[u.item.index] = 'poison';
      }
    });
    pending = retry;
  }
  if (pending.length > 0) {
    // Still conflicting or rejected after every round: fail the invocation so the event source delivers the batch
    // again. Replies are idempotent, so what was applied already is not applied twice.
    throw new Error(
      `${pending.length} replies could not be stored (conflicts or rejections); batch to be redelivered`,
    );
  }

  await followUp(applied, now, log);

  const counts = { applied: 0, stale: 0, duplicate: 0, 'unknown-task': 0, poison: 0 } as Record<
    ReplyOutcome,
    number
  >;
  for (const outcome of outcomes) counts[outcome] += 1;
  log.info('Replies handled', { ...counts, total: raws.length });
  return { outcomes, counts };
}

/** Dependencies to create, siblings to run, dependants to release: per document, after the states are stored. */
async function followUp(
  applied: Array<{ hit: TaskHit; reply: Reply }>,
  now: Date,
  log: Logger,
): Promise<void> {
  const byDocument = new Map<string, Array<{ hit: TaskHit; reply: Reply }>>();
  for (const entry of applied) {
    const list = byDocument.get(entry.hit.documentId) ?? [];
    list.push(entry);
    byDocument.set(entry.hit.documentId, list);
  }
  for (const [documentId, entries] of byDocument) {
    try {
      await followUpDocument(documentId, entries, now, log);
    } catch (error) {
      // The states are stored; what failed here the sweep catches up with (412 and 201 tasks are due).
      log.error('Reply follow-up failed', { documentId, error });
    }
  }
}

async function followUpDocument(
  documentId: string,
  entries: Array<{ hit: TaskHit; reply: Reply }>,
  now: Date,
  log: Logger,
): Promise<void> {
  // 1. Create the dependencies that 412 replies named and that do not exist yet; publish them.
  const toCreate: NewTask[] = [];
  for (const { reply } of entries) {
    if (reply.state !== TaskState.UNFINISHED_DEPENDENCY) continue;
    for (const dependency of reply.dependencies ?? []) {
      const parsed = TaskSpecSchema.safeParse(
        typeof dependency === 'string' ? { key: dependency } : foldTaskFields(dependency),
      );
      if (!parsed.success) {
        log.warn('Unusable dependency in a 412 reply ignored', { documentId, dependency });
        continue;
      }
      const id = taskIdOf(documentId, parsed.data.key);
      if (!toCreate.some((t) => t.id === id)) {
        toCreate.push({ id, documentId, source: newTaskSource(parsed.data, documentId, now) });
      }
    }
  }
  const created = await createTasks(toCreate, 'wait_for');
  const newHits: TaskHit[] = [];
  toCreate.forEach((task, i) => {
    const result = created[i];
    if (result?.status === 'ok')
      newHits.push({ ...task, seqNo: result.seqNo, primaryTerm: result.primaryTerm });
  });

  // 2. Look at the siblings as they are now (ids from a search, states from a realtime multi-get).
  const listed = await tasksOfDocument(documentId);
  const fresh = await getTasks([...new Set([...listed.map((t) => t.id), ...entries.map((e) => e.hit.id)])]);
  for (const hit of newHits) if (!fresh.has(hit.id)) fresh.set(hit.id, hit);
  const siblings = [...fresh.values()];

  const toRun = new Map<string, TaskHit>();
  for (const hit of newHits) toRun.set(hit.id, fresh.get(hit.id) ?? hit);

  for (const { hit, reply } of entries) {
    const key = hit.source.task.key;
    if (reply.state === TaskState.SUCCESS) {
      // The original's fan-out: siblings that were created or waiting on dependencies run again (their worker
      // re-checks); a task released because this key failed earlier gets its chance again too.
      for (const sibling of siblings) {
        if (sibling.id === hit.id) continue;
        const state = sibling.source.task.state;
        const waitsOnThis = sibling.source.dane?.waiting_on?.includes(key) ?? false;
        if (
          state === TaskState.CREATED ||
          state === TaskState.UNFINISHED_DEPENDENCY ||
          (state === DEPENDENCY_FAILED && waitsOnThis)
        ) {
          toRun.set(sibling.id, sibling);
        }
      }
    } else if (reply.state === TaskState.UNFINISHED_DEPENDENCY) {
      // If the dependency finished before this 412 was stored, no fan-out will come: the sweep publishes the task
      // when it is next due (after its back-off), which also bounds a worker that keeps replying 412.
      for (const sibling of siblings) {
        if (sibling.id !== hit.id && sibling.source.task.state === TaskState.CREATED)
          toRun.set(sibling.id, sibling);
      }
    }
  }
  if (toRun.size > 0) await claimAndPublish([...toRun.values()], 'run', now);

  // 3. Release, transitively, the tasks waiting on a dependency that failed for good: a final error, or an
  // auto-retry state whose attempts are used up (it is no longer due).
  const failedKeys = entries
    .filter(
      ({ hit, reply }) =>
        isFinalFailure(reply.state) ||
        (AUTO_RETRY_STATES.has(reply.state) && hit.source.dane?.due_at == null),
    )
    .map(({ hit, reply }) => ({
      key: hit.source.task.key,
      message: reply.message,
    }));
  if (failedKeys.length > 0) await releaseDependants(siblings, failedKeys, now, log);
}

/**
 * Moves every 412 task that waits on one of `failed` to 424 "Failed Dependency" with the reason, and then the
 * tasks waiting on those, so no task waits for something that will not happen. Exported for the sweep, which
 * gives up on auto-retried tasks.
 */
export async function releaseDependants(
  siblings: readonly TaskHit[],
  failed: ReadonlyArray<{ key: string; message: string }>,
  now: Date,
  log: Logger = rootLogger,
): Promise<number> {
  const queue = [...failed];
  const released = new Set<string>();
  const updates: ConditionalUpdate[] = [];
  while (queue.length > 0) {
    const { key, message } = queue.shift() as { key: string; message: string };
    for (const sibling of siblings) {
      if (released.has(sibling.id) || sibling.source.task.state !== TaskState.UNFINISHED_DEPENDENCY) continue;
      if (!(sibling.source.dane?.waiting_on ?? []).includes(key)) continue;
      released.add(sibling.id);
      const msg = `Dependency \`${key}\` failed: ${message}`;
      updates.push({
        hit: sibling,
        doc: {
          task: { state: DEPENDENCY_FAILED, msg },
          updated_at: timestamp(now),
          dane: { due_at: null, last_error: msg },
        },
      });
      queue.push({ key: sibling.source.task.key, message: msg });
    }
  }
  const results = await updateTasksIfUnchanged(updates);
  const count = results.filter((r) => r.status === 'ok').length;
  if (count > 0) log.info('Released dependants of a failed task', { released: count });
  return count;
}
