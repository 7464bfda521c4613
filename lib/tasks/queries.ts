import { NotFoundError } from '../errors.ts';
import type { ApiDocument } from '../model/document.ts';
import type { ApiResult } from '../model/result.ts';
import { type ApiTask, toApiTask } from '../model/task.ts';
import { getDocuments } from '../store/documents.ts';
import type { Paged, PageParams } from '../store/paging.ts';
import {
  resultsOfCreator as storedResultsOfCreator,
  resultsOfTask as storedResultsOfTask,
} from '../store/results.ts';
import {
  deleteTaskWithResults,
  getTask,
  tasksOfCreator as storedTasksOfCreator,
  type TaskHit,
  tasksNotIn,
} from '../store/tasks.ts';
import { NOT_UNFINISHED } from './lifecycle.ts';

/** Read side of the task routes: listings page with a cursor instead of the original's silent caps. */

async function existingTask(id: string): Promise<TaskHit> {
  const hit = await getTask(id);
  if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
  return hit;
}

export async function findTask(id: string): Promise<ApiTask> {
  const hit = await existingTask(id);
  return toApiTask(hit.id, hit.source);
}

export async function documentOfTask(id: string): Promise<ApiDocument> {
  const hit = await existingTask(id);
  const parent = (await getDocuments([hit.documentId])).get(hit.documentId);
  if (!parent)
    throw new NotFoundError(`The document of task \`${id}\` (\`${hit.documentId}\`) no longer exists`);
  return parent;
}

/** Tasks that are not done and not waiting on a dependency (spec §3.3 "unfinished"), orphans excluded. */
export const unfinishedTasks = (page: PageParams): Promise<Paged<ApiTask>> =>
  tasksNotIn(NOT_UNFINISHED, page);

/** Tasks with one key on the documents of one creator (the original's "batch" view), without join-field leaks. */
export const tasksOfCreator = (creatorId: string, key: string, page: PageParams): Promise<Paged<ApiTask>> =>
  storedTasksOfCreator(creatorId, key.toUpperCase(), page);

/** The results of one task, however its worker routed them. */
export async function resultsOfTask(id: string, page: PageParams): Promise<Paged<ApiResult>> {
  await existingTask(id);
  return storedResultsOfTask(id, page);
}

/** Results of the tasks with one key on one creator's documents; unlike the original, empty payloads count. */
export const resultsOfCreator = (
  creatorId: string,
  key: string,
  page: PageParams,
): Promise<Paged<ApiResult>> => storedResultsOfCreator(creatorId, key.toUpperCase(), page);

/** Deletes a task and its results (spec §7.2.11). A message already queued is not withdrawn. */
export async function deleteTask(id: string): Promise<void> {
  await deleteTaskWithResults(await existingTask(id));
}
