import { z } from 'zod';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import { type ApiDocument, creatorTerm } from '../model/document.ts';
import { taskId as taskIdOf } from '../model/ids.ts';
import { type Reply, ReplySchema, type TaskSpec, TaskState, taskSpecOf } from '../model/task.ts';
import { REFRESH } from '../store/refresh.ts';
import type { ConditionalUpdate, NewTask, TaskHit } from '../store/tasks.ts';
import { applyChange, changeDoc, decide, type Effect, newTask, REACTS_TO_SIBLINGS } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';
import { claimAndPublish, createAndPublish, parseCorrelationId } from './publish.ts';

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
  /** The valid dependencies a 412 names; entries that name no task are left out. */
  dependencies: TaskSpec[];
}

function parse(raw: RawReply, index: number): ParsedReply | undefined {
  const correlationId = raw.correlationId ?? '';
  if (correlationId === '') {
    logger.warn('Poison reply dropped: no correlation id', { body: raw.body.slice(0, 500) });
    return undefined;
  }
  const { taskId, attempt, claim } = parseCorrelationId(correlationId);
  let value: unknown;
  try {
    value = decode(raw.body);
  } catch (error) {
    logger.warn('Poison reply dropped: body is not JSON', { taskId, error, body: raw.body.slice(0, 500) });
    return undefined;
  }
  const parsed = ReplySchema.safeParse(value);
  if (!parsed.success) {
    logger.warn('Poison reply dropped: not a {state, message} reply', {
      taskId,
      issues: z.flattenError(parsed.error).fieldErrors,
      body: raw.body.slice(0, 500),
    });
    return undefined;
  }
  const dependencies = (parsed.data.dependencies ?? []).flatMap((d) => {
    const spec = taskSpecOf(d);
    if (!spec) logger.warn('Unusable dependency in a 412 reply ignored', { taskId, dependency: d });
    return spec ? [spec] : [];
  });
  return { index, taskId, attempt, claim, reply: parsed.data, dependencies };
}

interface Applied {
  hit: TaskHit;
  effects: Effect[];
}

export async function handleReplies(
  raws: readonly RawReply[],
  now: Date = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<ReplyReport> {
  const { store, policy } = ports;
  const outcomes: ReplyOutcome[] = raws.map(() => 'poison');
  const parsed = raws.map((raw, i) => parse(raw, i)).filter((p): p is ParsedReply => p !== undefined);

  let pending = parsed;
  const applied: Applied[] = [];
  // A conflict means the task changed between our read and our write (the API, the sweep, or another batch):
  // re-read and decide again, a bounded number of times.
  for (let round = 0; round < 5 && pending.length > 0; round += 1) {
    // A read that OpenSearch could not answer for some tasks fails here (DependencyUnavailableError): the batch
    // is delivered again rather than its replies dropped as if their tasks did not exist.
    const hits = await store.getTasks(pending.map((p) => p.taskId));
    // A 412 that names no dependency waits on its unfinished siblings: one search for all such documents.
    const waitingDocuments = pending.flatMap((p) => {
      const hit = hits.get(p.taskId);
      return hit && p.reply.state === TaskState.UNFINISHED_DEPENDENCY && p.dependencies.length === 0
        ? [hit.documentId]
        : [];
    });
    const siblingsOf =
      waitingDocuments.length > 0
        ? await store.tasksOfDocuments(waitingDocuments)
        : new Map<string, TaskHit[]>();
    // `hit` is the version read (what the write is conditional on); `next` the source after this reply.
    type Update = { hit: TaskHit; item: ParsedReply; next: TaskHit; effects: Effect[] };
    // Per task, in batch order (a batch may hold several replies to one task): indexed, as batches run to thousands.
    const updatesOf = new Map<string, Update[]>();
    const working = new Map<string, TaskHit>();
    for (const item of pending) {
      const hit = working.get(item.taskId) ?? hits.get(item.taskId);
      if (!hit) {
        outcomes[item.index] = 'unknown-task';
        logger.warn('Reply for an unknown task dropped', { taskId: item.taskId, state: item.reply.state });
        continue;
      }
      let unfinishedSiblings: string[] = [];
      if (item.reply.state === TaskState.UNFINISHED_DEPENDENCY && item.dependencies.length === 0) {
        unfinishedSiblings = (siblingsOf.get(hit.documentId) ?? [])
          .filter((s) => s.id !== hit.id && s.source.task.state !== TaskState.SUCCESS)
          .map((s) => s.source.task.key);
      }
      const decision = decide(hit.source, { type: 'reply', ...item, unfinishedSiblings }, now, policy);
      if (decision.ignore) {
        outcomes[item.index] = decision.reason as ReplyOutcome;
        logger.info('Reply ignored', {
          taskId: item.taskId,
          verdict: decision.reason,
          replyAttempt: item.attempt,
        });
        continue;
      }
      if (!decision.change) continue;
      // Later replies for the same task in this batch see this one as applied (state no longer 102).
      const next: TaskHit = { ...hit, source: applyChange(hit.source, decision.change, now) };
      working.set(item.taskId, next);
      const earlier = updatesOf.get(item.taskId);
      const update = { hit: earlier?.[0]?.hit ?? hit, item, next, effects: decision.effects };
      if (earlier) earlier.push(update);
      else updatesOf.set(item.taskId, [update]);
    }
    // One write per task: the last applied reply's source, conditional on the version read.
    const finalUpdates = [...updatesOf.values()].map((sameTask) => sameTask[sameTask.length - 1] as Update);
    // Read back by id; searchable at once only where a later batch's follow-up must find the task by a search
    // (lib/store/refresh.ts): a batch of plain successes forces no refresh here.
    const leavesWaiters = finalUpdates.some((u) => REACTS_TO_SIBLINGS.includes(u.next.source.task.state));
    const results = await store.replaceTasksIfUnchanged(
      finalUpdates.map((u) => ({ hit: u.hit, source: u.next.source })),
      leavesWaiters ? REFRESH.waiters : REFRESH.taskUpdates,
    );
    const retry: ParsedReply[] = [];
    finalUpdates.forEach((update, i) => {
      const result = results[i];
      const sameTask = updatesOf.get(update.item.taskId) ?? [];
      if (result?.status === 'ok') {
        for (const u of sameTask) outcomes[u.item.index] = u === update ? 'applied' : 'duplicate';
        // The version just written: the follow-up's claims are conditional on it.
        const written = { ...update.next, seqNo: result.seqNo, primaryTerm: result.primaryTerm };
        applied.push({ hit: written, effects: sameTask.flatMap((u) => u.effects) });
      } else if (
        result?.status === 'conflict' ||
        (result?.status === 'error' && result.kind === 'transient')
      ) {
        retry.push(...sameTask.map((u) => u.item));
      } else if (result?.status === 'missing') {
        // Deleted between our read and our write.
        for (const u of sameTask) outcomes[u.item.index] = 'unknown-task';
      } else {
        const reason = result?.status === 'error' ? result.reason : 'no answer';
        logger.warn('Reply could not be stored and is dropped', { taskId: update.item.taskId, reason });
        for (const u of sameTask) outcomes[u.item.index] = 'poison';
      }
    });
    pending = retry;
  }
  if (pending.length > 0) {
    // Still conflicting or rejected after every round: fail the invocation so the event source delivers the batch
    // again. Replies are idempotent, so what was applied already is not applied twice.
    throw new DependencyUnavailableError(
      'database',
      `${pending.length} replies could not be stored (conflicts or rejections); batch to be redelivered`,
    );
  }

  await carryOut(applied, now, ports);

  const counts = { applied: 0, stale: 0, duplicate: 0, 'unknown-task': 0, poison: 0 } as Record<
    ReplyOutcome,
    number
  >;
  for (const outcome of outcomes) counts[outcome] += 1;
  logger.info('Replies handled', { ...counts, total: raws.length });
  return { outcomes, counts };
}

/**
 * The effects of the applied replies, after their states are stored, for the whole batch at once: the
 * dependencies 412 replies named created claimed and published, one search for the siblings that can react, one
 * claim-and-publish, one bulk write of the dependants a failure releases. A constant number of requests per batch, however many
 * documents it touches.
 */
async function carryOut(applied: readonly Applied[], now: Date, ports: TaskPorts): Promise<void> {
  try {
    await followUp(applied, now, ports);
  } catch (error) {
    // The states are stored, each with its due time: what failed here the sweep catches up with.
    logger.error('Reply follow-up failed', { replies: applied.length, error });
  }
}

async function followUp(applied: readonly Applied[], now: Date, ports: TaskPorts): Promise<void> {
  const { store, policy } = ports;

  // 1. Create the dependencies that 412 replies named and that do not exist yet: claimed and published at once
  // (no refresh needed: lib/store/refresh.ts). Their documents are read once, for their messages and creator, and
  // for the siblings published below.
  const named = new Map<string, { documentId: string; spec: TaskSpec }>();
  for (const { hit, effects } of applied) {
    for (const effect of effects) {
      if (effect.type !== 'create-dependencies') continue;
      for (const spec of effect.specs) {
        const id = taskIdOf(hit.documentId, spec.key);
        if (!named.has(id)) named.set(id, { documentId: hit.documentId, spec });
      }
    }
  }
  const documents =
    named.size > 0
      ? await store.getDocuments([...named.values()].map((n) => n.documentId))
      : new Map<string, ApiDocument>();
  const toCreate: NewTask[] = [];
  for (const [id, { documentId, spec }] of named) {
    const document = documents.get(documentId);
    // A document deleted meanwhile: its tasks go with it, so there is nothing to depend on.
    if (!document) continue;
    const source = newTask(spec, documentId, now, policy, creatorTerm(document.creator.id));
    toCreate.push({ id, documentId, source });
  }
  await createAndPublish(toCreate, documents, now, ports);

  // 2. The siblings that can react, per document: found by one search (the writes that leave tasks waiting are
  // refreshed), the versions this batch just wrote taking precedence.
  const concerned = applied.filter(({ effects }) =>
    effects.some((e) => e.type === 'notify-siblings' || e.type === 'release-dependants'),
  );
  const concernedDocuments = new Set(concerned.map(({ hit }) => hit.documentId));
  const found =
    concernedDocuments.size > 0
      ? await store.tasksOfDocuments([...concernedDocuments], REACTS_TO_SIBLINGS)
      : new Map<string, TaskHit[]>();
  const siblingsOf = new Map<string, Map<string, TaskHit>>();
  const sibling = (hit: TaskHit) => {
    const group = siblingsOf.get(hit.documentId) ?? new Map<string, TaskHit>();
    siblingsOf.set(hit.documentId, group);
    group.set(hit.id, hit);
  };
  for (const hits of found.values()) for (const hit of hits) sibling(hit);
  for (const { hit } of applied) if (concernedDocuments.has(hit.documentId)) sibling(hit);

  // 3. Tell the siblings; publish what that makes runnable.
  const toRun = new Map<string, TaskHit>();
  for (const { hit, effects } of concerned) {
    const siblings = siblingsOf.get(hit.documentId) ?? new Map<string, TaskHit>();
    for (const effect of effects) {
      if (effect.type !== 'notify-siblings') continue;
      for (const other of siblings.values()) {
        if (other.id === hit.id) continue;
        const decision = decide(other.source, effect.event, now, policy);
        if (!decision.ignore && decision.effects.some((e) => e.type === 'publish'))
          toRun.set(other.id, other);
      }
    }
  }
  if (toRun.size > 0) {
    // The tasks about to run check their dependencies with a search: the successes just stored must be in it.
    const storedSuccess = applied.some(({ hit }) => hit.source.task.state === TaskState.SUCCESS);
    if (storedSuccess && REFRESH.beforeDependants) await store.refreshTasks();
    await claimAndPublish([...toRun.values()], 'run', now, ports, { documents });
  }

  // 4. Release, transitively, the tasks waiting on a dependency that failed for good.
  const releases = new Map<string, Array<{ key: string; message: string }>>();
  for (const { hit, effects } of concerned) {
    for (const effect of effects) {
      if (effect.type === 'release-dependants')
        releases.set(hit.documentId, [...(releases.get(hit.documentId) ?? []), effect]);
    }
  }
  if (releases.size > 0) {
    await releaseDependants(
      [...releases].map(([documentId, failed]) => ({
        siblings: [...(siblingsOf.get(documentId)?.values() ?? [])],
        failed,
      })),
      now,
      ports,
    );
  }
}

/**
 * Tells the siblings of each document that the tasks in `failed` failed for good; those waiting on one become 424
 * "Failed Dependency" with the reason, and then the tasks waiting on those, so no task waits for something that
 * will not happen. One bulk write for all documents. Exported for the sweep, which gives up on tasks too.
 */
export async function releaseDependants(
  groups: ReadonlyArray<{
    siblings: readonly TaskHit[];
    failed: ReadonlyArray<{ key: string; message: string }>;
  }>,
  now: Date,
  ports: TaskPorts = defaultPorts(),
): Promise<number> {
  const updates: ConditionalUpdate[] = [];
  for (const { siblings, failed } of groups) {
    const queue = [...failed];
    const released = new Set<string>();
    while (queue.length > 0) {
      const { key, message } = queue.shift() as { key: string; message: string };
      for (const other of siblings) {
        if (released.has(other.id)) continue;
        const decision = decide(other.source, { type: 'dependency-failed', key, message }, now, ports.policy);
        if (decision.ignore || !decision.change) continue;
        released.add(other.id);
        updates.push({ hit: other, doc: changeDoc(decision.change, now) });
        for (const effect of decision.effects) if (effect.type === 'release-dependants') queue.push(effect);
      }
    }
  }
  // 424s react to a later success of their dependency: searchable at once, as a waiter's 412 is.
  const results = await ports.store.updateTasksIfUnchanged(updates, REFRESH.waiters);
  const count = results.filter((r) => r.status === 'ok').length;
  if (count > 0) logger.info('Released dependants of a failed task', { released: count });
  return count;
}
