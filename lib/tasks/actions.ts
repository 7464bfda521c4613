import { NotFoundError } from '../errors.ts';
import { type ApiTask, toApiTask } from '../model/task.ts';
import { changeDoc, decide } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';
import { claimAndPublish } from './publish.ts';

export const TASK_ACTIONS = ['retry', 'forceretry', 'reset'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

/**
 * retry: republish unless queued or done; forceretry: republish whatever the state (a new attempt, so a reply
 * to the old message is ignored); reset: back to 201 "Reset", published by the next sweep (spec §3.1).
 */
export async function applyTaskAction(
  id: string,
  action: TaskAction,
  now = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<ApiTask> {
  const { store, policy } = ports;
  for (let round = 0; round < 3; round += 1) {
    const hit = await store.getTask(id);
    if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
    if (action === 'reset') {
      const decision = decide(hit.source, { type: 'reset' }, now, policy);
      if (decision.ignore || !decision.change) break;
      const [result] = await store.updateTasksIfUnchanged([{ hit, doc: changeDoc(decision.change, now) }]);
      if (result?.status === 'conflict') continue;
    } else {
      const outcome = (await claimAndPublish([hit], action === 'retry' ? 'retry' : 'force', now, ports)).get(
        id,
      );
      if (outcome === 'lost-race') continue;
    }
    break;
  }
  const current = await store.getTask(id);
  if (!current) throw new NotFoundError(`Task \`${id}\` not found`);
  return toApiTask(current.id, current.source);
}
