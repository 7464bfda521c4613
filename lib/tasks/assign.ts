import { getConfig } from '../config.ts';
import { ConflictError, DependencyUnavailableError, InvalidInputError, NotFoundError } from '../errors.ts';
import { creatorTerm } from '../model/document.ts';
import { taskId } from '../model/ids.ts';
import {
  type ApiTask,
  type BatchAssignment,
  type StoredTask,
  type TaskSpec,
  toApiTask,
} from '../model/task.ts';
import { REFRESH } from '../store/refresh.ts';
import type { NewTask, TaskHit, WriteOutcome } from '../store/tasks.ts';
import { dispatchPublishing } from './dispatch.ts';
import { newTask } from './lifecycle.ts';
import { defaultPorts, policyFromConfig, type TaskPorts } from './ports.ts';
import { createAndPublish } from './publish.ts';

export const alreadyAssignedMessage = (key: string, documentId: string) =>
  `Task \`${key}\` already assigned to document \`${documentId}\``;

/** A new task's `_source` under the configured policy. */
export const newTaskSource = (spec: TaskSpec, documentId: string, now: Date, creator?: string): StoredTask =>
  newTask(spec, documentId, now, policyFromConfig(), creator);

/** Registers one task and publishes it before answering (spec §7.2.9, single form). */
export async function assignTask(
  documentId: string,
  spec: TaskSpec,
  now = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<ApiTask> {
  const { store, policy } = ports;
  const parent = (await store.getDocuments([documentId])).get(documentId);
  if (!parent) throw new NotFoundError(`No document with id \`${documentId}\` found`);
  const id = taskId(documentId, spec.key);
  const source = newTask(spec, documentId, now, policy, creatorTerm(parent.creator.id));
  const stored = new Map<string, StoredTask>();
  // Created already claimed, then published: two writes around the publish (lib/tasks/publish.ts).
  const {
    created: [created],
  } = await createAndPublish([{ id, documentId, source }], new Map([[documentId, parent]]), now, ports, {
    stored,
  });
  if (created?.status === 'conflict') throw new ConflictError(alreadyAssignedMessage(spec.key, documentId));
  if (created?.status !== 'ok') {
    const reason = created?.status === 'error' ? created.reason : 'unknown error';
    // Rejected under load, or the shard not available: nothing was written, the client may try again.
    if (created?.status === 'error' && created.kind === 'transient') {
      throw new DependencyUnavailableError(
        'database',
        `The task could not be stored now (${reason}); try again later`,
      );
    }
    // A mapping conflict (an args field whose type differs from earlier tasks) is the client's to fix.
    if (reason.startsWith('[400]')) throw new InvalidInputError(`The task could not be stored: ${reason}`);
    throw new Error(`Creating task ${id} failed: ${reason}`);
  }
  // The task as we last stored it; read again only if a worker's reply overtook our last write.
  const current = stored.get(id) ?? (await store.getTask(id))?.source ?? source;
  return toApiTask(id, current);
}

/**
 * Registers a task on many documents, then publishes: inline up to INLINE_PUBLISH_LIMIT (what the inline time
 * budget leaves over goes to the publisher too), otherwise through the asynchronous publisher function. Every
 * document id is accounted for in `success` or `failed`.
 */
export async function assignTasks(
  documentIds: readonly string[],
  spec: TaskSpec,
  now = new Date(),
  ports: TaskPorts = defaultPorts(),
): Promise<BatchAssignment> {
  const { store, policy } = ports;
  const parents = await store.getDocuments(documentIds);
  const failed: BatchAssignment['failed'] = [];
  const pending: NewTask[] = [];
  for (const documentId of documentIds) {
    const parent = parents.get(documentId);
    if (!parent) {
      failed.push({ document_id: documentId, error: `[404] 'No document with id \`${documentId}\` found'` });
      continue;
    }
    pending.push({
      id: taskId(documentId, spec.key),
      documentId,
      source: newTask(spec, documentId, now, policy, creatorTerm(parent.creator.id)),
    });
  }
  // Batches up to the inline limit are created claimed and published before the answer, so that they cost one
  // write per task before the publish, not two, and nothing reads them again; larger ones are created as
  // registered and published by the asynchronous publisher, which keeps the answer within the API's time limit.
  const inline = pending.length <= getConfig().publishing.inlineLimit;
  let deferred: string[] = [];
  let results: WriteOutcome[];
  if (inline) {
    const published = await createAndPublish(pending, parents, now, ports, { refresh: REFRESH.batchTasks });
    results = published.created;
    deferred = [...published.outcomes].filter(([, outcome]) => outcome === 'deferred').map(([id]) => id);
  } else {
    results = await store.createTasks(pending, REFRESH.batchTasks);
  }
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
  const toPublisher = inline ? deferred : created.map((task) => task.id);
  if (toPublisher.length > 0) await dispatchPublishing(toPublisher);
  // The tasks as registered (state 201), as the original answered; their progress is one GET away.
  return { success: created.map((task) => toApiTask(task.id, task.source)), failed };
}
