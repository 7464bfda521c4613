import { managementQueues } from '../broker/management.ts';
import { queueDepths } from '../broker/queues.ts';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { type ApiTask, TaskState } from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import type { MassResetResult, WorkerQueueInfo } from '../model/worker.ts';
import type { PageParams, SortValues } from '../store/paging.ts';
import { stateCounts, taskKeysInUse, tasksOfKeyNotIn } from '../store/tasks.ts';
import { canMassReset, NOT_ERRORED, resetChange } from './lifecycle.ts';
import { defaultPorts, type TaskPorts } from './ports.ts';

/** The workers view (spec §7.2.15-17) with bounded calls, paging and validated input. */

async function fromManagementApi(base: string): Promise<WorkerQueueInfo[]> {
  return (await managementQueues(base)).map((q) => ({
    name: q.name,
    active_workers: q.consumers,
    in_queue: q.ready + q.unacked,
  }));
}

/** Without the management API: the queues named after the task keys in use, as DANE workers name theirs. */
async function fromAmqp(): Promise<WorkerQueueInfo[]> {
  const depths = await queueDepths(await taskKeysInUse());
  return [...depths].flatMap(([name, depth]) =>
    depth ? [{ name, active_workers: depth.consumers, in_queue: depth.ready }] : [],
  );
}

/** Every worker queue with its consumers and backlog; the response queue is left out. */
export async function listWorkers(): Promise<WorkerQueueInfo[]> {
  const { managementUrl, responseQueue } = getConfig().amqp;
  let queues: WorkerQueueInfo[] | undefined;
  if (managementUrl) {
    try {
      queues = await fromManagementApi(managementUrl);
    } catch (error) {
      logger.warn('RabbitMQ management API unavailable; asking the broker over AMQP', { error });
    }
  }
  queues ??= await fromAmqp();
  return queues.filter((q) => q.name !== responseQueue).sort((a, b) => a.name.localeCompare(b.name));
}

/** Errored tasks of `key` (not queued, done, waiting to be published or on a dependency), with totals per state. */
export async function erroredTasks(
  key: string,
  page: PageParams,
): Promise<{
  total: number;
  states: Record<string, number>;
  tasks: ApiTask[];
  next: SortValues | undefined;
}> {
  const [listed, states] = await Promise.all([tasksOfKeyNotIn(key, NOT_ERRORED, page), stateCounts(key)]);
  return { total: listed.total, states, tasks: listed.items, next: listed.next };
}

/**
 * Every task of `key` in `state` becomes 205 "Manual reset" and due now, so the next sweep publishes it; its
 * bookkeeping is reset as by a single reset (the lifecycle's one reset rule). The original's update ran with
 * conflicts=abort and forgot `updated_at`; here a task that changes meanwhile is skipped (it is no longer in
 * that state) and the count says what was reset.
 */
export async function massReset(
  key: string,
  state: number,
  now = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<MassResetResult> {
  const change = resetChange(now.getTime(), TaskState.TASK_RESET);
  const total = canMassReset(state)
    ? await ports.store.updateTasksInState(key, state, {
        task: change.task,
        updated_at: timestamp(now),
        dane: change.dane,
      })
    : 0;
  return total > 0 ? { total, error: '' } : { total: 0, error: 'No tasks affected' };
}
