import { NotFoundError } from '../http/errors.ts';
import { type ApiTask, TaskState, toApiTask } from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import { getTask, updateTasksIfUnchanged } from '../store/tasks.ts';
import { claimAndPublish } from './publish.ts';

export const TASK_ACTIONS = ['retry', 'forceretry', 'reset'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

/**
 * retry: republish unless queued or done; forceretry: republish whatever the state (a new attempt, so a reply
 * to the old message is ignored); reset: back to 201 "Reset", published by the next sweep (spec §3.1).
 */
export async function applyTaskAction(id: string, action: TaskAction, now = new Date()): Promise<ApiTask> {
  for (let round = 0; round < 3; round += 1) {
    const hit = await getTask(id);
    if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
    if (action === 'reset') {
      const [result] = await updateTasksIfUnchanged([
        {
          hit,
          doc: {
            task: { state: TaskState.CREATED, msg: 'Reset' },
            updated_at: timestamp(now),
            dane: { due_at: now.getTime(), retries: 0, last_error: null, waiting_on: null },
          },
        },
      ]);
      if (result?.status === 'conflict') continue;
    } else {
      // A person's retry starts the automatic retries afresh: the claim stores the source as given here.
      const fresh = { ...hit, source: { ...hit.source, dane: { ...hit.source.dane, retries: 0 } } };
      const outcome = (await claimAndPublish([fresh], action === 'retry' ? 'retry' : 'force', now)).get(id);
      if (outcome === 'lost-race') continue;
    }
    break;
  }
  const current = await getTask(id);
  if (!current) throw new NotFoundError(`Task \`${id}\` not found`);
  return toApiTask(current.id, current.source);
}
