import { getConfig } from '../config.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../http/errors.ts';
import { taskId } from '../model/ids.ts';
import { type ApiTask, type StoredTask, type TaskSpec, TaskState, toApiTask } from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import { getDocuments } from '../store/documents.ts';
import { createTasks, getTask, type NewTask, type TaskHit } from '../store/tasks.ts';
import { dispatchPublishing } from './dispatch.ts';
import { claimAndPublish } from './publish.ts';

export const alreadyAssignedMessage = (key: string, documentId: string) =>
  `Task \`${key}\` already assigned to document \`${documentId}\``;

/** A new task's `_source`: 201 "Created", due for the sweep after a grace period in case nobody publishes it. */
export function newTaskSource(spec: TaskSpec, documentId: string, now: Date): StoredTask {
  const stamp = timestamp(now);
  return {
    task: {
      key: spec.key,
      state: TaskState.CREATED,
      msg: 'Created',
      priority: spec.priority,
      ...(Object.keys(spec.args).length > 0 ? { args: spec.args } : {}),
    },
    role: { name: 'task', parent: documentId },
    created_at: stamp,
    updated_at: stamp,
    dane: {
      attempt: 0,
      retries: 0,
      due_at: now.getTime() + getConfig().tasks.createdGraceMs,
      last_error: null,
    },
  };
}

/** Registers one task and publishes it before answering (spec §7.2.9, single form). */
export async function assignTask(documentId: string, spec: TaskSpec, now = new Date()): Promise<ApiTask> {
  const parents = await getDocuments([documentId]);
  if (!parents.has(documentId)) throw new NotFoundError(`No document with id \`${documentId}\` found`);
  const id = taskId(documentId, spec.key);
  const source = newTaskSource(spec, documentId, now);
  const [created] = await createTasks([{ id, documentId, source }]);
  if (created?.status === 'conflict') throw new ConflictError(alreadyAssignedMessage(spec.key, documentId));
  if (created?.status !== 'ok') {
    const reason = created?.status === 'error' ? created.reason : 'unknown error';
    // A mapping conflict (an args field whose type differs from earlier tasks) is the client's to fix.
    if (reason.startsWith('[400]')) throw new BadRequestError(`The task could not be stored: ${reason}`);
    throw new Error(`Creating task ${id} failed: ${reason}`);
  }
  const hit: TaskHit = { id, documentId, seqNo: created.seqNo, primaryTerm: created.primaryTerm, source };
  await claimAndPublish([hit], 'run', now);
  const current = await getTask(id);
  return toApiTask(id, current?.source ?? source);
}

export interface BatchAssignment {
  success: ApiTask[];
  failed: Array<{ document_id: string; error: string }>;
}

/**
 * Registers a task on many documents with one `_bulk`, then publishes: inline for small batches, otherwise
 * through the asynchronous publisher function. Every document id is accounted for in `success` or `failed`.
 */
export async function assignTasks(
  documentIds: readonly string[],
  spec: TaskSpec,
  now = new Date(),
): Promise<BatchAssignment> {
  const parents = await getDocuments(documentIds);
  const failed: BatchAssignment['failed'] = [];
  const pending: NewTask[] = [];
  for (const documentId of documentIds) {
    if (!parents.has(documentId)) {
      failed.push({ document_id: documentId, error: `[404] 'No document with id \`${documentId}\` found'` });
      continue;
    }
    pending.push({
      id: taskId(documentId, spec.key),
      documentId,
      source: newTaskSource(spec, documentId, now),
    });
  }
  const results = await createTasks(pending);
  const created: TaskHit[] = [];
  pending.forEach((task, i) => {
    const result = results[i];
    if (result?.status === 'ok') {
      created.push({ ...task, seqNo: result.seqNo, primaryTerm: result.primaryTerm });
    } else {
      const error =
        result?.status === 'conflict'
          ? alreadyAssignedMessage(spec.key, task.documentId)
          : result?.status === 'error'
            ? result.reason
            : 'unknown error';
      failed.push({ document_id: task.documentId, error });
    }
  });

  if (created.length <= getConfig().publishing.inlineLimit) {
    await claimAndPublish(created, 'run', now);
  } else {
    await dispatchPublishing(created.map((task) => task.id));
  }
  // The tasks as registered (state 201), as the original answered; their progress is one GET away.
  return { success: created.map((task) => toApiTask(task.id, task.source)), failed };
}
