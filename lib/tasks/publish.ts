import { randomBytes } from 'node:crypto';
import { getBroker } from '../broker/connection.ts';
import { type OutgoingMessage, publishMessages } from '../broker/publisher.ts';
import { getConfig } from '../config.ts';
import { ServiceUnavailableError } from '../http/errors.ts';
import { logger } from '../log.ts';
import type { ApiDocument } from '../model/document.ts';
import {
  DEPENDENCY_FAILED,
  RUNNABLE_STATES,
  type StoredTask,
  TaskState,
  taskMessageJson,
} from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import { getDocuments } from '../store/documents.ts';
import {
  type ConditionalUpdate,
  replaceTasksIfUnchanged,
  type TaskHit,
  updateTasksIfUnchanged,
} from '../store/tasks.ts';
import { retryDelayMs, scheduleRetry } from './backoff.ts';

/**
 * Claim before publish (DESIGN principle 2). A task is moved to 102 by a conditional update of the version we
 * read; only the caller whose update wins publishes, so concurrent API calls, sweeps and reply fan-out never send
 * one task twice. The claim also bumps the attempt number, which travels in the message's correlation id and
 * lets reply handling tell a reply to this attempt from a late one to an earlier attempt.
 */

/** `run`: the original's whitelist (+ our 424); `retry`: anything not queued or done; `force`: anything. */
export type RunRule = 'run' | 'retry' | 'force';

export function eligible(state: number, rule: RunRule): boolean {
  if (rule === 'force') return true;
  if (rule === 'retry') return state !== TaskState.QUEUED && state !== TaskState.SUCCESS;
  return RUNNABLE_STATES.has(state) || state === DEPENDENCY_FAILED;
}

export type ClaimOutcome =
  | 'published'
  | 'not-eligible'
  | 'lost-race'
  | 'unroutable'
  | 'publish-failed'
  | 'orphan'
  | 'broker-down';

/** How long a claimed task may wait for its publish to be confirmed before the sweep takes it over. */
export const PUBLISH_GRACE_MS = 2 * 60_000;

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

/** The document part of a task message, as Python's `Document.to_json` writes it. */
export function documentMessageJson(document: ApiDocument) {
  return {
    target: document.target,
    creator: document.creator,
    created_at: document.created_at,
    updated_at: document.updated_at,
    _id: document._id,
  };
}

export const routingKeyOf = (document: ApiDocument, key: string) => `${document.target.type}.${key}`;

export async function claimAndPublish(
  hits: readonly TaskHit[],
  rule: RunRule,
  now: Date = new Date(),
): Promise<Map<string, ClaimOutcome>> {
  const outcomes = new Map<string, ClaimOutcome>();
  const candidates = hits.filter((hit) => {
    const ok = eligible(hit.source.task.state, rule);
    if (!ok) outcomes.set(hit.id, 'not-eligible');
    return ok;
  });
  if (candidates.length === 0) return outcomes;

  // No claim while the broker is unreachable: a claim that cannot be published only costs a write and, worse,
  // an attempt. The tasks keep their state and due time; the caller (the sweep, or the API answering with the task
  // as registered) sees `broker-down`.
  try {
    await getBroker();
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    for (const hit of candidates) outcomes.set(hit.id, 'broker-down');
    return outcomes;
  }

  const nowMs = now.getTime();
  const stamp = timestamp(now);
  const parents = await getDocuments(candidates.map((hit) => hit.documentId));

  const orphans = candidates.filter((hit) => !parents.has(hit.documentId));
  const claimable = candidates.filter((hit) => parents.has(hit.documentId));
  if (orphans.length > 0) {
    await updateTasksIfUnchanged(
      orphans.map((hit) => ({
        hit,
        doc: {
          task: { state: TaskState.ERROR, msg: `Parent document ${hit.documentId} not found` },
          updated_at: stamp,
          dane: { due_at: null },
        },
      })),
    );
    for (const hit of orphans) outcomes.set(hit.id, 'orphan');
  }

  const { leaseMs } = getConfig().tasks;
  const claims = claimable.map((hit) => {
    const attempt = (hit.source.dane?.attempt ?? 0) + 1;
    const claim = randomBytes(4).toString('hex');
    const source: StoredTask = {
      ...hit.source,
      task: { ...hit.source.task, state: TaskState.QUEUED, msg: 'Queued' },
      updated_at: stamp,
      // Due again soon unless the publish is confirmed (then the due time moves to the end of the lease): if this
      // process dies between claim and confirm, the sweep republishes within minutes, not after hours.
      dane: {
        ...hit.source.dane,
        attempt,
        claim,
        unconfirmed: null,
        due_at: nowMs + PUBLISH_GRACE_MS,
        last_error: null,
      },
    };
    return { hit, attempt, claim, source };
  });
  const claimResults = await replaceTasksIfUnchanged(claims);

  const won: Array<{ hit: TaskHit; attempt: number; claim: string; seqNo: number; primaryTerm: number }> = [];
  claims.forEach((claim, i) => {
    const result = claimResults[i];
    if (result?.status === 'ok') {
      won.push({
        hit: claim.hit,
        attempt: claim.attempt,
        claim: claim.claim,
        seqNo: result.seqNo,
        primaryTerm: result.primaryTerm,
      });
    } else {
      outcomes.set(claim.hit.id, 'lost-race');
      if (result?.status === 'error')
        logger.warn('Claim failed', { taskId: claim.hit.id, reason: result.reason });
    }
  });
  if (won.length === 0) return outcomes;

  // The message carries the task as it was before the claim (state 201/205/412/...), as the original sent it.
  const messages: OutgoingMessage[] = won.map(({ hit, attempt, claim }) => {
    const parent = parents.get(hit.documentId) as ApiDocument;
    return {
      routingKey: routingKeyOf(parent, hit.source.task.key),
      correlationId: correlationIdOf(hit.id, attempt, claim),
      priority: hit.source.task.priority ?? 1,
      body: {
        task: taskMessageJson(hit.id, hit.source),
        document: documentMessageJson(parent),
      },
    };
  });

  let results: Awaited<ReturnType<typeof publishMessages>>;
  try {
    results = await publishMessages(messages);
  } catch (error) {
    const reason = error instanceof ServiceUnavailableError ? error.message : (error as Error).message;
    results = messages.map(() => ({ status: 'failed' as const, reason }));
  }

  // Undo the claim of what did not reach a queue, conditionally on our own claim: if anything else changed the
  // task since (it cannot be a reply: nothing was delivered), that newer state wins.
  const followUps: ConditionalUpdate[] = [];
  won.forEach((claim, i) => {
    const result = results[i];
    const versioned = { ...claim.hit, seqNo: claim.seqNo, primaryTerm: claim.primaryTerm };
    const retries = claim.hit.source.dane?.retries ?? 0;
    if (result?.status === 'confirmed') {
      outcomes.set(claim.hit.id, 'published');
      // Conditional on our claim: if the worker's reply is already stored, its due time stands.
      followUps.push({
        hit: versioned,
        doc: { dane: { due_at: nowMs + leaseMs(claim.hit.source.task.key) } },
      });
    } else if (result?.status === 'returned') {
      outcomes.set(claim.hit.id, 'unroutable');
      // A worker may be deployed any time: unroutable tasks keep being tried (a returned mandatory publish costs
      // nothing), at the longest back-off interval once the attempts are used up.
      const next = scheduleRetry(retries, nowMs);
      followUps.push({
        hit: versioned,
        doc: {
          task: { state: TaskState.NO_ROUTE_TO_QUEUE, msg: 'Unroutable task' },
          updated_at: stamp,
          dane: {
            retries: next.retries,
            due_at: next.due_at ?? nowMs + retryDelayMs(retries),
            last_error: `No queue bound for ${messages[i]?.routingKey}`,
          },
        },
      });
    } else {
      const reason = result?.status === 'failed' ? result.reason : 'unknown publish failure';
      outcomes.set(claim.hit.id, 'publish-failed');
      logger.warn('Publish failed', { taskId: claim.hit.id, reason });
      // Our infrastructure failed, not the task: retried with back-off, without using up the task's attempts.
      followUps.push({
        hit: versioned,
        doc: {
          task: { state: TaskState.ERROR_PROXY, msg: `Publishing to the message queue failed: ${reason}` },
          updated_at: stamp,
          dane: { due_at: nowMs + retryDelayMs(retries), last_error: reason, unconfirmed: claim.attempt },
        },
      });
    }
  });
  const written = await updateTasksIfUnchanged(followUps);
  const failedWrites = written.filter((w) => w.status === 'error');
  if (failedWrites.length > 0) {
    // The claims stand and expire after PUBLISH_GRACE_MS: the sweep then looks at these tasks again.
    logger.warn('Could not record publish outcomes', { count: failedWrites.length, first: failedWrites[0] });
  }
  const count = (wanted: ClaimOutcome) => [...outcomes.values()].filter((o) => o === wanted).length;
  logger.info('Published tasks', {
    claimed: won.length,
    published: count('published'),
    unroutable: count('unroutable'),
    failed: count('publish-failed'),
  });
  return outcomes;
}
