import { getBroker } from '../broker/connection.ts';
import { publishMessages } from '../broker/publisher.ts';
import { getConfig } from '../config.ts';
import { getDocuments } from '../store/documents.ts';
import {
  createTasks,
  dueTasks,
  getTask,
  getTasks,
  replaceTasksIfUnchanged,
  tasksOfDocument,
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
  tasksOfDocument: typeof tasksOfDocument;
  dueTasks: typeof dueTasks;
  updateTasksInState: typeof updateTasksInState;
  getDocuments: typeof getDocuments;
}

export interface BrokerPort {
  /** Resolves once a session is open; rejects with DependencyUnavailableError when the broker is unreachable. */
  connect: () => Promise<unknown>;
  publish: typeof publishMessages;
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
  return { leaseMs, createdGraceMs, publishGraceMs: PUBLISH_GRACE_MS, retry, random: Math.random };
}

export function defaultPorts(): TaskPorts {
  return {
    store: {
      getTask,
      getTasks,
      createTasks,
      updateTasksIfUnchanged,
      replaceTasksIfUnchanged,
      tasksOfDocument,
      dueTasks,
      updateTasksInState,
      getDocuments,
    },
    broker: { connect: getBroker, publish: publishMessages },
    policy: policyFromConfig(),
  };
}
