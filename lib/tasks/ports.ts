import { getBroker } from '../broker/connection.ts';
import { unacknowledged } from '../broker/management.ts';
import { publishMessages } from '../broker/publisher.ts';
import { queueDepths } from '../broker/queues.ts';
import { getConfig } from '../config.ts';
import { getDocuments } from '../store/documents.ts';
import { queuesBusyAt, recordQueuesBusy } from '../store/queues.ts';
import {
  createTasks,
  dueTasks,
  getTask,
  getTasks,
  queuedTaskKeys,
  refreshTasks,
  replaceTasksIfUnchanged,
  tasksOfDocuments,
  updateTasksIfUnchanged,
  updateTasksInState,
} from '../store/tasks.ts';
import type { Policy } from './lifecycle.ts';

/**
 * What the task orchestrators need from the outside, passed in rather than imported, so that a test can run
 * them against stubs at these seams, and so that the lifecycle's policy comes from one place.
 */
export interface TaskStorePort {
  getTask: typeof getTask;
  getTasks: typeof getTasks;
  createTasks: typeof createTasks;
  updateTasksIfUnchanged: typeof updateTasksIfUnchanged;
  replaceTasksIfUnchanged: typeof replaceTasksIfUnchanged;
  refreshTasks: typeof refreshTasks;
  tasksOfDocuments: typeof tasksOfDocuments;
  dueTasks: typeof dueTasks;
  updateTasksInState: typeof updateTasksInState;
  getDocuments: typeof getDocuments;
  queuedTaskKeys: typeof queuedTaskKeys;
  recordQueuesBusy: typeof recordQueuesBusy;
  queuesBusyAt: typeof queuesBusyAt;
}

export interface BrokerPort {
  /** Resolves once a session is open; rejects with DependencyUnavailableError when the broker is unreachable. */
  connect: () => Promise<unknown>;
  publish: typeof publishMessages;
  queueDepths: typeof queueDepths;
  unacknowledged: typeof unacknowledged;
  /** The queue workers reply to (its backlog holds replies not applied yet). */
  responseQueue: string;
}

export interface TaskPorts {
  store: TaskStorePort;
  broker: BrokerPort;
  policy: Policy;
}

/** How long a claimed task may wait for its publish to be confirmed before the sweep takes it over. */
export const PUBLISH_GRACE_MS = 2 * 60_000;

export function policyFromConfig(): Policy {
  const { leaseMs, createdGraceMs, retry } = getConfig().tasks;
  return {
    leaseMs,
    createdGraceMs,
    publishGraceMs: PUBLISH_GRACE_MS,
    // Replies seen waiting are applied within seconds once the store answers; the grace covers a batch in flight.
    replyGraceMs: createdGraceMs,
    retry,
    random: Math.random,
  };
}

export function defaultPorts(): TaskPorts {
  return {
    store: {
      getTask,
      getTasks,
      createTasks,
      updateTasksIfUnchanged,
      replaceTasksIfUnchanged,
      refreshTasks,
      tasksOfDocuments,
      dueTasks,
      updateTasksInState,
      getDocuments,
      queuedTaskKeys,
      recordQueuesBusy,
      queuesBusyAt,
    },
    broker: {
      connect: getBroker,
      publish: publishMessages,
      queueDepths,
      unacknowledged,
      responseQueue: getConfig().amqp.responseQueue,
    },
    policy: policyFromConfig(),
  };
}
