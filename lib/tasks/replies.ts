import { z } from 'zod';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import { creatorTerm } from '../model/document.ts';
import { taskId as taskIdOf } from '../model/ids.ts';
import { type Reply, ReplySchema, type TaskSpec, TaskState, taskSpecOf } from '../model/task.ts';
import { REFRESH } from '../store/refresh.ts';
import type { ConditionalUpdate, NewTask, TaskHit } from '../store/tasks.ts';
import { applyChange, changeDoc, decide, type Effect, newTask } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';
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
    const siblingCache = new Map<string, Promise<TaskHit[]>>();
    // `hit` is the version read (what the write is conditional on); `next` the source after this reply.
    const updates: Array<{ hit: TaskHit; item: ParsedReply; next: TaskHit; effects: Effect[] }> = [];
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
        const siblings = siblingCache.get(hit.documentId) ?? store.tasksOfDocument(hit.documentId);
        siblingCache.set(hit.documentId, siblings);
        unfinishedSiblings = (await siblings)
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
      const original = updates.find((u) => u.item.taskId === item.taskId)?.hit ?? hit;
      updates.push({ hit: original, item, next, effects: decision.effects });
    }
    // One write per task: the last applied reply's source, conditional on the version read.
    const lastPerTask = new Map<string, (typeof updates)[number]>();
    for (const update of updates) lastPerTask.set(update.item.taskId, update);
    const finalUpdates = [...lastPerTask.values()];
    // Workers check their dependencies with a search, so a stored 200 must be searchable before the tasks waiting
    // on it are published again; and the follow-up finds those tasks (or the ones a failure releases) by a search
    // too: one forced refresh for a batch with such a follow-up, none otherwise.
    const releasesDependants = finalUpdates.some((u) =>
      u.effects.some(
        (e) =>
          (e.type === 'notify-siblings' && e.event.type === 'dependency-succeeded') ||
          e.type === 'release-dependants',
      ),
    );
    const results = await store.replaceTasksIfUnchanged(
      finalUpdates.map((u) => ({ hit: u.hit, source: u.next.source })),
      releasesDependants ? REFRESH.beforeDependants : REFRESH.taskUpdates,
    );
    const retry: ParsedReply[] = [];
    finalUpdates.forEach((update, i) => {
      const result = results[i];
      const sameTask = updates.filter((u) => u.item.taskId === update.item.taskId);
      if (result?.status === 'ok') {
        for (const u of sameTask) outcomes[u.item.index] = u === update ? 'applied' : 'duplicate';
        applied.push({ hit: update.next, effects: sameTask.flatMap((u) => u.effects) });
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

/** The effects of the applied replies, per document, after the states are stored. */
async function carryOut(applied: readonly Applied[], now: Date, ports: TaskPorts): Promise<void> {
  const byDocument = new Map<string, Applied[]>();
  for (const entry of applied) {
    byDocument.set(entry.hit.documentId, [...(byDocument.get(entry.hit.documentId) ?? []), entry]);
  }
  for (const [documentId, entries] of byDocument) {
    try {
      await carryOutForDocument(documentId, entries, now, ports);
    } catch (error) {
      // The states are stored, each with its due time: what failed here the sweep catches up with.
      logger.error('Reply follow-up failed', { documentId, error });
    }
  }
}

/** The siblings of a document as they are now: ids from a search, states from a realtime multi-get. */
export async function currentSiblings(documentId: string, ports: TaskPorts, extra: readonly string[] = []) {
  const listed = await ports.store.tasksOfDocument(documentId);
  return ports.store.getTasks([...new Set([...listed.map((t) => t.id), ...extra])]);
}

/** The document's creator id, from a sibling that carries it, else from the document (a task of the original). */
async function creatorOf(
  documentId: string,
  entries: readonly Applied[],
  ports: TaskPorts,
): Promise<string | undefined> {
  const carried = entries.find((e) => e.hit.source.dane?.creator != null)?.hit.source.dane?.creator;
  if (carried != null) return carried;
  const parent = (await ports.store.getDocuments([documentId])).get(documentId);
  return parent ? creatorTerm(parent.creator.id) : undefined;
}

async function carryOutForDocument(
  documentId: string,
  entries: readonly Applied[],
  now: Date,
  ports: TaskPorts,
): Promise<void> {
  const { store, policy } = ports;
  const effects = entries.flatMap((e) => e.effects);

  // 1. Create the dependencies that 412 replies named and that do not exist yet.
  const specs = new Map<string, TaskSpec>();
  for (const effect of effects) {
    if (effect.type !== 'create-dependencies') continue;
    for (const spec of effect.specs) {
      const id = taskIdOf(documentId, spec.key);
      if (!specs.has(id)) specs.set(id, spec);
    }
  }
  const creator = specs.size > 0 ? await creatorOf(documentId, entries, ports) : undefined;
  const toCreate: NewTask[] = [...specs].map(([id, spec]) => ({
    id,
    documentId,
    source: newTask(spec, documentId, now, policy, creator),
  }));
  // Claimed and published by id right after: no refresh needed (lib/store/refresh.ts).
  const created = await store.createTasks(toCreate);
  const newHits: TaskHit[] = [];
  toCreate.forEach((task, i) => {
    const result = created[i];
    if (result?.status === 'ok')
      newHits.push({ ...task, seqNo: result.seqNo, primaryTerm: result.primaryTerm });
  });

  // 2. Tell the siblings, as they are now, and publish what that makes runnable, the new dependencies with them.
  const fresh = await currentSiblings(
    documentId,
    ports,
    entries.map((e) => e.hit.id),
  );
  for (const hit of newHits) if (!fresh.has(hit.id)) fresh.set(hit.id, hit);
  const siblings = [...fresh.values()];
  const toRun = new Map<string, TaskHit>();
  for (const hit of newHits) toRun.set(hit.id, fresh.get(hit.id) ?? hit);
  for (const { hit, effects: own } of entries) {
    for (const effect of own) {
      if (effect.type !== 'notify-siblings') continue;
      for (const sibling of siblings) {
        if (sibling.id === hit.id) continue;
        const decision = decide(sibling.source, effect.event, now, policy);
        if (!decision.ignore && decision.effects.some((e) => e.type === 'publish'))
          toRun.set(sibling.id, sibling);
      }
    }
  }
  if (toRun.size > 0) await claimAndPublish([...toRun.values()], 'run', now, ports);

  // 3. Release, transitively, the tasks waiting on a dependency that failed for good.
  const failed = effects.filter((e) => e.type === 'release-dependants');
  if (failed.length > 0) await releaseDependants(siblings, failed, now, ports);
}

/**
 * Tells every sibling that the tasks in `failed` failed for good; those waiting on one become 424 "Failed
 * Dependency" with the reason, and then the tasks waiting on those, so no task waits for something that will not
 * happen. Exported for the sweep, which gives up on tasks too.
 */
export async function releaseDependants(
  siblings: readonly TaskHit[],
  failed: ReadonlyArray<{ key: string; message: string }>,
  now: Date,
  ports: TaskPorts = defaultPorts(),
): Promise<number> {
  const queue = [...failed];
  const released = new Set<string>();
  const updates: ConditionalUpdate[] = [];
  while (queue.length > 0) {
    const { key, message } = queue.shift() as { key: string; message: string };
    for (const sibling of siblings) {
      if (released.has(sibling.id)) continue;
      const decision = decide(sibling.source, { type: 'dependency-failed', key, message }, now, ports.policy);
      if (decision.ignore || !decision.change) continue;
      released.add(sibling.id);
      updates.push({ hit: sibling, doc: changeDoc(decision.change, now) });
      for (const effect of decision.effects) if (effect.type === 'release-dependants') queue.push(effect);
    }
  }
  const results = await ports.store.updateTasksIfUnchanged(updates);
  const count = results.filter((r) => r.status === 'ok').length;
  if (count > 0) logger.info('Released dependants of a failed task', { released: count });
  return count;
}
