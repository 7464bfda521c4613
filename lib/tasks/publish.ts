import { randomBytes } from 'node:crypto';
import type { OutgoingMessage, PublishOutcome } from '../broker/publisher.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import { type ApiDocument, creatorTerm } from '../model/document.ts';
import { type StoredTask, TaskMessageSchema, taskMessage } from '../model/task.ts';
import { REFRESH, type Refresh } from '../store/refresh.ts';
import type { ConditionalUpdate, NewTask, TaskHit, WriteOutcome } from '../store/tasks.ts';
import { applyChange, type ClaimRule, changeDoc, decide, type TaskEvent } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';

/**
 * Claim before publish (DESIGN principle 2). A task is moved to 102 by a conditional write of the version we
 * read; only the caller whose write wins publishes, so concurrent API calls, sweeps and reply fan-out never send
 * one task twice. The claim also bumps the attempt number, which travels in the message's correlation id and
 * lets reply handling tell a reply to this attempt from a late one to an earlier attempt.
 */

export type ClaimOutcome =
  | 'published'
  | 'not-eligible'
  | 'lost-race'
  | 'unroutable'
  | 'publish-failed'
  | 'orphan'
  | 'broker-down'
  /** Created as registered, not claimed: the inline time budget ran out; the caller hands it to the publisher. */
  | 'deferred';

/** `<task id>#<attempt>.<claim token>`; Python workers copy it into their reply unchanged. */
export const correlationIdOf = (taskId: string, attempt: number, claim: string) =>
  `${taskId}#${attempt}.${claim}`;

export interface Correlation {
  taskId: string;
  /** Absent for a bare task id (a message published by the original server). */
  attempt: number | undefined;
  claim: string | undefined;
}

export function parseCorrelationId(value: string): Correlation {
  const match = /^(.+)#(\d+)(?:\.([0-9a-z]+))?$/.exec(value);
  if (!match) return { taskId: value, attempt: undefined, claim: undefined };
  return { taskId: match[1] as string, attempt: Number(match[2]), claim: match[3] };
}

export const routingKeyOf = (document: ApiDocument, key: string) => `${document.target.type}.${key}`;

export interface ClaimOptions {
  /** The parent documents, when the caller has read them already (one multi-get less). */
  documents?: ReadonlyMap<string, ApiDocument>;
  /** Filled with each task's source as it was last stored, where every write of ours went through. */
  stored?: Map<string, StoredTask>;
}

/**
 * A task written by the original server or an older version of ours learns its document's creator when it is
 * claimed: its source is replaced whole then and the document is at hand, so the per-creator counts need the join
 * for fewer tasks.
 */
function withCreator(source: TaskHit['source'], document: ApiDocument): TaskHit['source'] {
  if (source.dane?.creator != null) return source;
  const creator = creatorTerm(document.creator.id);
  return creator === undefined ? source : { ...source, dane: { ...source.dane, creator } };
}

export async function claimAndPublish(
  hits: readonly TaskHit[],
  rule: ClaimRule,
  now: Date = new Date(),
  ports: TaskPorts = defaultPorts(),
  options: ClaimOptions = {},
): Promise<Map<string, ClaimOutcome>> {
  const { store, policy } = ports;
  const outcomes = new Map<string, ClaimOutcome>();
  const claims: Array<{ hit: TaskHit; event: TaskEvent }> = [];
  for (const hit of hits) {
    const event = claimEvent(rule);
    if (decide(hit.source, event, now, policy).ignore) outcomes.set(hit.id, 'not-eligible');
    else claims.push({ hit, event });
  }
  if (claims.length === 0) return outcomes;

  // No claim while the broker is unreachable: the tasks keep their state and due time; the caller (the sweep, or
  // the API answering with the task as registered) sees `broker-down`.
  if (!(await brokerReachable(ports))) {
    for (const { hit } of claims) outcomes.set(hit.id, 'broker-down');
    return outcomes;
  }

  const known = options.documents;
  const missing = claims.map(({ hit }) => hit.documentId).filter((id) => !known?.has(id));
  const parents = missing.length > 0 ? await store.getDocuments(missing) : new Map<string, ApiDocument>();
  const orphans: ConditionalUpdate[] = [];
  const replacements: Claimed[] = [];
  for (const { hit, event } of claims) {
    const document = known?.get(hit.documentId) ?? parents.get(hit.documentId);
    const decision = document
      ? decide(hit.source, event, now, policy)
      : decide(hit.source, { type: 'orphaned', documentId: hit.documentId }, now, policy);
    if (decision.ignore || !decision.change) continue;
    if (!document) {
      orphans.push({ hit, doc: changeDoc(decision.change, now) });
      outcomes.set(hit.id, 'orphan');
      continue;
    }
    const claimed = prepareClaim(
      hit,
      withCreator(applyChange(hit.source, decision.change, now), document),
      document,
    );
    if (claimed) replacements.push(claimed);
    else outcomes.set(hit.id, 'publish-failed');
  }
  await store.updateTasksIfUnchanged(orphans);
  const claimResults = await store.replaceTasksIfUnchanged(replacements);

  const won: Claimed[] = [];
  replacements.forEach((claimed, i) => {
    const result = claimResults[i];
    if (result?.status !== 'ok') {
      outcomes.set(claimed.hit.id, 'lost-race');
      if (result?.status === 'error')
        logger.warn('Claim failed', { taskId: claimed.hit.id, reason: result.reason });
      return;
    }
    won.push({ ...claimed, hit: { ...claimed.hit, seqNo: result.seqNo, primaryTerm: result.primaryTerm } });
  });
  await publishClaimed(won, outcomes, now, ports, options.stored);
  return outcomes;
}

/**
 * Creates new tasks already claimed and publishes them: a task that did not exist cannot have been claimed by
 * anyone else, so the create (`op_type=create`) is the claim, and a new task costs one write before its publish
 * instead of two. Where a task cannot be claimed now (broker unreachable, its message invalid) it is created
 * unclaimed, as registered, for the sweep. `created` answers the create of each task, in order.
 *
 * A large batch goes through in chunks, several at a time, so that OpenSearch stores one chunk while the broker
 * confirms another (as the publisher does), with one refresh for all at the end where the policy asks for one.
 * A chunk starts claimed only within `budgetMs` of the call: once a slow store or broker has spent it, the rest is
 * created as registered (`deferred`) for the caller to hand to the asynchronous publisher, so that a request keeps
 * well inside its time limit and what it could not publish waits at 201, not claimed by a request that died.
 */
export async function createAndPublish(
  tasks: readonly NewTask[],
  documents: ReadonlyMap<string, ApiDocument>,
  now: Date = new Date(),
  ports: TaskPorts = defaultPorts(),
  options: Pick<ClaimOptions, 'stored'> & { refresh?: Refresh; budgetMs?: number } = {},
): Promise<{ created: WriteOutcome[]; outcomes: Map<string, ClaimOutcome> }> {
  const { store, policy } = ports;
  const outcomes = new Map<string, ClaimOutcome>();
  const reachable = tasks.length > 0 && (await brokerReachable(ports));
  const writes = tasks.map((task) => {
    const document = documents.get(task.documentId);
    const decision = decide(task.source, claimEvent('run'), now, policy);
    if (!reachable || !document || decision.ignore || !decision.change) return { task, claimed: undefined };
    const hit: TaskHit = { ...task, seqNo: 0, primaryTerm: 0 };
    return { task, claimed: prepareClaim(hit, applyChange(task.source, decision.change, now), document) };
  });
  const refresh = options.refresh ?? REFRESH.newTasks;
  const chunked = writes.length > PUBLISH_CHUNK;
  const deadline = performance.now() + (options.budgetMs ?? INLINE_BUDGET_MS);
  const created: WriteOutcome[] = [];
  // A chunk the store fails (an outage mid-batch) does not fail the batch once other chunks may have been stored
  // and published: its tasks, and those of the chunks not started after it, are answered as not stored, each with
  // the reason, so that the caller reports exactly what to assign again (a chunk that timed out may have been
  // stored after all: assigned again, its tasks answer "already assigned", and the sweep publishes them). Only if
  // no chunk was stored does the outage fail the call as a whole, as before (a 503).
  let refused: DependencyUnavailableError | undefined;
  const notStored = (chunk: readonly unknown[], reason: string): WriteOutcome[] =>
    chunk.map(() => ({ status: 'error', kind: 'transient', reason }));
  await inLanes(chunksOf(writes, PUBLISH_CHUNK), PUBLISH_CONCURRENCY, async (chunk, at) => {
    const inTime = performance.now() < deadline;
    let results: WriteOutcome[];
    if (refused) {
      results = notStored(
        chunk,
        `[503] not stored: the database failed an earlier part of the batch (${refused.message}); assign it again`,
      );
    } else {
      try {
        results = await store.createTasks(
          chunk.map(({ task, claimed }) => (claimed && inTime ? { ...task, source: claimed.source } : task)),
          chunked ? false : refresh,
        );
      } catch (error) {
        if (!chunked || !(error instanceof DependencyUnavailableError)) throw error;
        refused ??= error;
        results = notStored(chunk, `[503] not stored: ${error.message}; assign it again`);
      }
    }
    const won: Claimed[] = [];
    chunk.forEach(({ task, claimed }, i) => {
      const result = results[i] ?? { status: 'error', kind: 'transient', reason: 'no answer for this item' };
      created[at * PUBLISH_CHUNK + i] = result;
      if (result.status !== 'ok') return;
      if (!claimed || !inTime) {
        outcomes.set(task.id, !reachable ? 'broker-down' : claimed ? 'deferred' : 'publish-failed');
        options.stored?.set(task.id, task.source);
        return;
      }
      won.push({ ...claimed, hit: { ...claimed.hit, seqNo: result.seqNo, primaryTerm: result.primaryTerm } });
    });
    await publishClaimed(won, outcomes, now, ports, options.stored);
  });
  if (refused && !created.some((result) => result.status === 'ok')) throw refused;
  if (chunked && refresh !== false) await refreshAfterBatch(store);
  return { created, outcomes };
}

/**
 * The batch's one refresh. Everything before it is stored and published, so a store that fails now costs only the
 * read-your-write promise (searchable within the index's refresh interval instead of at once), not the answer.
 */
async function refreshAfterBatch(store: TaskPorts['store']): Promise<void> {
  try {
    await store.refreshTasks();
  } catch (error) {
    if (!(error instanceof DependencyUnavailableError)) throw error;
    logger.warn('Refresh after a batch failed; its tasks are searchable within the refresh interval', {
      reason: error.message,
    });
  }
}

/**
 * How long a batch may spend publishing inline before the rest is deferred to the publisher. 10,000 tasks take
 * 1.5-2 s here; the budget leaves most of the HTTP API's 29 s to the chunks in flight when the store or the broker
 * is slow (not a hard bound: a chunk in flight waits up to the store's request timeout and the confirm timeout).
 */
export const INLINE_BUDGET_MS = 10_000;

interface Claimed {
  /** The task as stored before the claim, or as it is created; `source` is the claimed one to write. */
  hit: TaskHit;
  source: StoredTask;
  message: OutgoingMessage;
}

const claimEvent = (rule: ClaimRule): TaskEvent => ({
  type: 'claim',
  rule,
  claim: randomBytes(4).toString('hex'),
});

async function brokerReachable(ports: TaskPorts): Promise<boolean> {
  try {
    await ports.broker.connect();
    return true;
  } catch (error) {
    if (!(error instanceof DependencyUnavailableError)) throw error;
    return false;
  }
}

/** The message of a claim; undefined (and logged) when our own data fails our own schema. */
function prepareClaim(hit: TaskHit, source: StoredTask, document: ApiDocument): Claimed | undefined {
  // The task as it was before the claim (state 201/205/412/...), as the original sent it.
  const body = taskMessage(hit.id, hit.source, document);
  const checked = TaskMessageSchema.safeParse(body);
  if (!checked.success) {
    // A bug, never sent to a worker. Nothing is claimed, so the task keeps its state and due time, and every
    // sweep logs it again until it is fixed.
    logger.error('Task message invalid; not published', { taskId: hit.id, issues: checked.error.issues });
    return undefined;
  }
  const message: OutgoingMessage = {
    routingKey: routingKeyOf(document, hit.source.task.key),
    correlationId: correlationIdOf(hit.id, source.dane?.attempt ?? 0, source.dane?.claim ?? ''),
    priority: hit.source.task.priority ?? 1,
    body,
  };
  return { hit, source, message };
}

/** Publishes the claims that were written, then records each outcome conditionally on our own claim. */
async function publishClaimed(
  won: readonly Claimed[],
  outcomes: Map<string, ClaimOutcome>,
  now: Date,
  ports: TaskPorts,
  stored: Map<string, StoredTask> | undefined,
): Promise<void> {
  if (won.length === 0) return;
  const { store, broker, policy } = ports;
  let results: PublishOutcome[];
  try {
    results = await broker.publish(won.map((w) => w.message));
  } catch (error) {
    const reason = (error as Error).message;
    results = won.map(() => ({ status: 'failed' as const, reason }));
  }

  // If anything changed the task since the claim (a worker's reply that came before the confirm), that newer
  // state wins.
  const followUps: Array<{ hit: TaskHit; source: StoredTask }> = [];
  won.forEach(({ hit, source, message }, i) => {
    const result = results[i] ?? { status: 'failed', reason: 'unknown publish failure' };
    const event: TaskEvent =
      result.status === 'confirmed'
        ? { type: 'publish-confirmed' }
        : result.status === 'returned'
          ? { type: 'publish-returned', routingKey: message.routingKey }
          : { type: 'publish-failed', reason: result.reason };
    outcomes.set(
      hit.id,
      result.status === 'confirmed'
        ? 'published'
        : result.status === 'returned'
          ? 'unroutable'
          : 'publish-failed',
    );
    if (result.status === 'failed') logger.warn('Publish failed', { taskId: hit.id, reason: result.reason });
    const decision = decide(source, event, now, policy);
    if (decision.ignore || !decision.change) {
      stored?.set(hit.id, source);
      return;
    }
    followUps.push({ hit, source: applyChange(source, decision.change, now) });
  });
  // Whole sources (we hold them): an index costs OpenSearch less than a partial update's read-merge-index.
  let written: WriteOutcome[];
  try {
    written = await store.replaceTasksIfUnchanged(followUps);
  } catch (error) {
    if (!(error instanceof DependencyUnavailableError)) throw error;
    // The store went away between the claim and its outcome. The messages are out: the caller must not answer as
    // if nothing had happened. The claims stand as stored and expire after the publish grace, as for an outcome
    // write that failed item by item.
    written = followUps.map(() => ({ status: 'error', kind: 'transient', reason: error.message }));
    // Each claim is the last version of its task we stored.
    for (const { hit, source } of won) stored?.set(hit.id, source);
  }
  followUps.forEach(({ hit, source }, i) => {
    if (written[i]?.status === 'ok') stored?.set(hit.id, source);
  });
  const failedWrites = written.filter((w) => w.status === 'error');
  if (failedWrites.length > 0) {
    // The claims stand and expire after the publish grace: the sweep then looks at these tasks again.
    logger.warn('Could not record publish outcomes', { count: failedWrites.length, first: failedWrites[0] });
  }
  const count = (wanted: ClaimOutcome) => [...outcomes.values()].filter((o) => o === wanted).length;
  logger.info('Published tasks', {
    claimed: won.length,
    published: count('published'),
    unroutable: count('unroutable'),
    failed: count('publish-failed'),
  });
}

/**
 * Tasks per chunk of the publisher, and how many chunks at once. A chunk is a multi-get of tasks and of their
 * documents, a conditional bulk claim, a pipelined publish and a bulk write of the outcomes; one chunk after the
 * other leaves OpenSearch idle while the broker confirms and the broker idle while OpenSearch writes. Measured
 * in-process on 2 cores for 10,000 tasks (bench/tasks-profile.ts): one at a time 3.0 s, three at a time 2.0-2.6 s.
 */
export const PUBLISH_CHUNK = 1_000;
export const PUBLISH_CONCURRENCY = 3;

/** Claims and publishes the tasks with these ids, PUBLISH_CHUNK at a time; how many were published. */
export async function publishTasksById(
  taskIds: readonly string[],
  now: Date = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<number> {
  let published = 0;
  await inLanes(chunksOf(taskIds, PUBLISH_CHUNK), PUBLISH_CONCURRENCY, async (ids) => {
    const hits = await ports.store.getTasks(ids);
    const outcomes = await claimAndPublish([...hits.values()], 'run', now, ports);
    for (const outcome of outcomes.values()) if (outcome === 'published') published += 1;
  });
  return published;
}

const chunksOf = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

/**
 * Works `chunks` with `lanes` of them in flight at a time; `work` gets each chunk and its index. Once one fails, no
 * lane starts another chunk (the rest stays as it is, for the sweep), and the first error is thrown once the chunks
 * in flight are done: nothing of ours keeps writing or publishing after the caller has answered.
 */
async function inLanes<T>(
  chunks: readonly T[],
  lanes: number,
  work: (chunk: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < chunks.length) {
      const at = next++;
      try {
        await work(chunks[at] as T, at);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(lanes, chunks.length) }, lane));
  const rejected = settled.find((result) => result.status === 'rejected');
  if (rejected) throw rejected.reason;
}
