import { randomBytes } from 'node:crypto';
import type { OutgoingMessage, PublishOutcome } from '../broker/publisher.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import { type ApiDocument, creatorTerm } from '../model/document.ts';
import { TaskMessageSchema, taskMessage } from '../model/task.ts';
import type { ConditionalUpdate, TaskHit } from '../store/tasks.ts';
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
  | 'broker-down';

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
): Promise<Map<string, ClaimOutcome>> {
  const { store, broker, policy } = ports;
  const outcomes = new Map<string, ClaimOutcome>();
  const claims: Array<{ hit: TaskHit; event: TaskEvent }> = [];
  for (const hit of hits) {
    const event: TaskEvent = { type: 'claim', rule, claim: randomBytes(4).toString('hex') };
    if (decide(hit.source, event, now, policy).ignore) outcomes.set(hit.id, 'not-eligible');
    else claims.push({ hit, event });
  }
  if (claims.length === 0) return outcomes;

  // No claim while the broker is unreachable: the tasks keep their state and due time; the caller (the sweep, or
  // the API answering with the task as registered) sees `broker-down`.
  try {
    await broker.connect();
  } catch (error) {
    if (!(error instanceof DependencyUnavailableError)) throw error;
    for (const { hit } of claims) outcomes.set(hit.id, 'broker-down');
    return outcomes;
  }

  const parents = await store.getDocuments(claims.map(({ hit }) => hit.documentId));
  const orphans: ConditionalUpdate[] = [];
  const replacements: Array<{ hit: TaskHit; source: TaskHit['source']; message: OutgoingMessage }> = [];
  for (const { hit, event } of claims) {
    const document = parents.get(hit.documentId);
    const decision = document
      ? decide(hit.source, event, now, policy)
      : decide(hit.source, { type: 'orphaned', documentId: hit.documentId }, now, policy);
    if (decision.ignore || !decision.change) continue;
    if (!document) {
      orphans.push({ hit, doc: changeDoc(decision.change, now) });
      outcomes.set(hit.id, 'orphan');
      continue;
    }
    const source = withCreator(applyChange(hit.source, decision.change, now), document);
    // The task as it was before the claim (state 201/205/412/...), as the original sent it.
    const body = taskMessage(hit.id, hit.source, document);
    const checked = TaskMessageSchema.safeParse(body);
    if (!checked.success) {
      // Our own data failing our own schema: a bug, never sent to a worker. Nothing is claimed, so the task
      // keeps its state and due time, and every sweep logs it again until it is fixed.
      logger.error('Task message invalid; not published', { taskId: hit.id, issues: checked.error.issues });
      outcomes.set(hit.id, 'publish-failed');
      continue;
    }
    const message: OutgoingMessage = {
      routingKey: routingKeyOf(document, hit.source.task.key),
      correlationId: correlationIdOf(hit.id, source.dane?.attempt ?? 0, source.dane?.claim ?? ''),
      priority: hit.source.task.priority ?? 1,
      body,
    };
    replacements.push({ hit, source, message });
  }
  await store.updateTasksIfUnchanged(orphans);
  const claimResults = await store.replaceTasksIfUnchanged(replacements);

  const won: Array<{ hit: TaskHit; message: OutgoingMessage }> = [];
  replacements.forEach(({ hit, source, message }, i) => {
    const result = claimResults[i];
    if (result?.status !== 'ok') {
      outcomes.set(hit.id, 'lost-race');
      if (result?.status === 'error') logger.warn('Claim failed', { taskId: hit.id, reason: result.reason });
      return;
    }
    won.push({ hit: { ...hit, source, seqNo: result.seqNo, primaryTerm: result.primaryTerm }, message });
  });
  if (won.length === 0) return outcomes;

  let results: PublishOutcome[];
  try {
    results = await broker.publish(won.map((w) => w.message));
  } catch (error) {
    const reason = (error as Error).message;
    results = won.map(() => ({ status: 'failed' as const, reason }));
  }

  // Record each outcome conditionally on our own claim: if anything changed the task since (a worker's reply
  // that came before the confirm), that newer state wins.
  const followUps: ConditionalUpdate[] = [];
  won.forEach(({ hit, message }, i) => {
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
    const decision = decide(hit.source, event, now, policy);
    if (!decision.ignore && decision.change) followUps.push({ hit, doc: changeDoc(decision.change, now) });
  });
  const written = await store.updateTasksIfUnchanged(followUps);
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
  return outcomes;
}

/** Claims and publishes the tasks with these ids, a thousand at a time; how many were published. */
export async function publishTasksById(
  taskIds: readonly string[],
  now: Date = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<number> {
  let published = 0;
  for (let i = 0; i < taskIds.length; i += 1_000) {
    const hits = await ports.store.getTasks(taskIds.slice(i, i + 1_000));
    const outcomes = await claimAndPublish([...hits.values()], 'run', now, ports);
    published += [...outcomes.values()].filter((o) => o === 'published').length;
  }
  return published;
}
