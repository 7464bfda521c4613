import { NotFoundError } from '../errors.ts';
import { type ApiTask, toApiTask } from '../model/task.ts';
import type { TaskHit } from '../store/tasks.ts';
import { applyChange, decide } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';
import { type ClaimOutcome, claimAndPublish } from './publish.ts';

export const TASK_ACTIONS = ['retry', 'forceretry', 'reset'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

/**
 * Per task: changed by the action, not eligible for it in its state, changed by someone else meanwhile, or left
 * as it was because the broker cannot be reached (nothing is claimed then).
 */
export type ActionOutcome = 'changed' | 'not-eligible' | 'lost-race' | 'broker-down';

const claimed: ReadonlySet<ClaimOutcome> = new Set(['published', 'unroutable', 'publish-failed', 'orphan']);

/**
 * One action on tasks as they were read, each written conditionally on that version: the one code path of the
 * single actions and of the bulk actions. retry and forceretry claim through the lifecycle's `retry` and `force`
 * rules and publish; reset is the lifecycle's reset, due for the next sweep.
 */
export async function applyActionToHits(
  hits: readonly TaskHit[],
  action: TaskAction,
  now: Date,
  ports: TaskPorts,
): Promise<Map<string, ActionOutcome>> {
  const outcomes = new Map<string, ActionOutcome>();
  if (action !== 'reset') {
    const claims = await claimAndPublish(hits, action === 'retry' ? 'retry' : 'force', now, ports);
    for (const [id, outcome] of claims) {
      const kept = outcome === 'lost-race' || outcome === 'broker-down' ? outcome : 'not-eligible';
      outcomes.set(id, claimed.has(outcome) ? 'changed' : kept);
    }
    return outcomes;
  }
  const replacements = [];
  for (const hit of hits) {
    const decision = decide(hit.source, { type: 'reset' }, now, ports.policy);
    if (decision.ignore || !decision.change) outcomes.set(hit.id, 'not-eligible');
    else replacements.push({ hit, source: applyChange(hit.source, decision.change, now) });
  }
  // Whole sources, as a claim writes them: no read-merge on the server, which counts on pages of a thousand.
  const written = await ports.store.replaceTasksIfUnchanged(replacements);
  replacements.forEach(({ hit }, i) => {
    outcomes.set(hit.id, written[i]?.status === 'ok' ? 'changed' : 'lost-race');
  });
  return outcomes;
}

/**
 * retry: republish unless queued or done; forceretry: republish whatever the state (a new attempt, so a reply
 * to the old message is ignored); reset: back to 201 "Reset", published by the next sweep (spec §3.1). A task
 * that changed between read and write is read again and the action tried once more, up to three rounds.
 */
export async function applyTaskAction(
  id: string,
  action: TaskAction,
  now = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<ApiTask> {
  const { store } = ports;
  for (let round = 0; round < 3; round += 1) {
    const hit = await store.getTask(id);
    if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
    if ((await applyActionToHits([hit], action, now, ports)).get(id) !== 'lost-race') break;
  }
  const current = await store.getTask(id);
  if (!current) throw new NotFoundError(`Task \`${id}\` not found`);
  return toApiTask(current.id, current.source);
}
