import { z } from 'zod';
import { ApiDocumentSchema } from '../../model/document.ts';
import { ApiResultSchema } from '../../model/result.ts';
import { ApiTaskSchema, AssignBodySchema, BatchTasksResultSchema } from '../../model/task.ts';
import { TASK_ACTIONS } from '../../tasks/actions.ts';
import { PageQuerySchema, pageHeaders } from '../paging.ts';
import { defineRoute, errorResponse, storeErrors } from './types.ts';

/** The task side of the API (spec §7.2.9-13, .18), plus `GET /task/{id}/results`. */

export const TaskIdParamsSchema = z.object({ task_id: z.string().min(1) });
export const CreatorKeyParamsSchema = z.object({
  creator_id: z.string().min(1),
  task_key: z.string().min(1),
});

const brokerErrors = {
  503: {
    ...errorResponse('OpenSearch or RabbitMQ is unavailable; retry later'),
    headers: { 'retry-after': { description: 'Seconds to wait', schema: z.string() } },
  },
};
const badRequest = errorResponse('A parameter or the body is invalid; `message` names the field');
const taskNotFound = errorResponse('No task with that id');

export const taskCreate = defineRoute({
  method: 'post',
  path: '/DANE/task',
  scope: 'write',
  function: 'taskCreate',
  operationId: 'assignTask',
  summary: 'Assign a task to one document (201) or to many (200)',
  description:
    'The task is given flat ({"document_id", "key", "priority", ...args}) or nested ({"document_id", "task": ' +
    '{...}}); unknown keys become args, a lone "args" key is the args. The key is upper-cased, priority clamped ' +
    'to 0-10. One document: the task is published before the answer. Many: one bulk write; large batches are ' +
    'published by an asynchronous function.',
  tags: ['task'],
  body: AssignBodySchema,
  responses: {
    200: { description: 'Batch: every document id is in success or failed', schema: BatchTasksResultSchema },
    201: { description: 'The task, as it is after publishing', schema: ApiTaskSchema },
    400: badRequest,
    404: errorResponse('No document with that id'),
    409: errorResponse('This task key is already assigned to the document'),
    ...brokerErrors,
  },
});

export const taskList = defineRoute({
  method: 'get',
  path: '/DANE/task',
  scope: 'read',
  function: 'taskList',
  operationId: 'listUnfinishedTasks',
  summary: 'Unfinished tasks (not 200, not 412), every one of them, a page at a time',
  tags: ['task'],
  query: PageQuerySchema(1_000),
  responses: {
    200: { description: 'One page of tasks', schema: z.array(ApiTaskSchema), headers: pageHeaders },
    400: badRequest,
    ...storeErrors,
  },
});

export const taskGet = defineRoute({
  method: 'get',
  path: '/DANE/task/{task_id}',
  scope: 'read',
  function: 'taskGet',
  operationId: 'getTask',
  summary: 'One task',
  tags: ['task'],
  params: TaskIdParamsSchema,
  responses: { 200: { description: 'The task', schema: ApiTaskSchema }, 404: taskNotFound, ...storeErrors },
});

const deleteResponses = {
  200: { description: 'Deleted (the JSON string "")', schema: z.literal('') },
  404: taskNotFound,
  ...storeErrors,
};

export const taskDelete = defineRoute({
  method: 'delete',
  path: '/DANE/task/{task_id}',
  scope: 'write',
  function: 'taskDelete',
  operationId: 'deleteTask',
  summary: 'Delete a task and its results',
  description: 'A message already queued is not withdrawn; its reply is then ignored.',
  tags: ['task'],
  params: TaskIdParamsSchema,
  responses: deleteResponses,
});

export const taskDeleteAlias = defineRoute({
  method: 'get',
  path: '/DANE/task/{task_id}/delete',

  scope: 'write',

  stateChangingGet: 'DELETE /DANE/task/{task_id}',
  function: 'taskDelete',
  operationId: 'deleteTaskLegacy',
  summary: 'Delete a task (0.2.2 alias of DELETE /DANE/task/{task_id})',
  tags: ['task'],
  deprecated: true,
  params: TaskIdParamsSchema,
  responses: deleteResponses,
});

export const taskDocument = defineRoute({
  method: 'get',
  path: '/DANE/task/{task_id}/document',
  scope: 'read',
  function: 'taskDocument',
  operationId: 'getDocumentOfTask',
  summary: 'The document a task belongs to',
  tags: ['task'],
  params: TaskIdParamsSchema,
  responses: {
    200: { description: 'The parent document', schema: ApiDocumentSchema },
    404: taskNotFound,
    ...storeErrors,
  },
});

export const taskResults = defineRoute({
  method: 'get',
  path: '/DANE/task/{task_id}/results',
  scope: 'read',
  function: 'taskResults',
  operationId: 'listResultsOfTask',
  summary: 'The results of a task (new: the original had no way to list them)',
  tags: ['task'],
  params: TaskIdParamsSchema,
  query: PageQuerySchema(1_000),
  responses: {
    200: { description: 'One page of results', schema: z.array(ApiResultSchema), headers: pageHeaders },
    400: badRequest,
    404: taskNotFound,
    ...storeErrors,
  },
});

export const TaskActionParamsSchema = z.object({
  task_id: z.string().min(1),
  action: z
    .string()
    .refine((action) => (TASK_ACTIONS as readonly string[]).includes(action.toLowerCase()), {
      message: `must be one of ${TASK_ACTIONS.join(', ')}`,
    })
    .transform((action) => action.toLowerCase() as (typeof TASK_ACTIONS)[number])
    .meta({ description: `${TASK_ACTIONS.join(', ')} (case-insensitive)` }),
});

const actionSpec = {
  function: 'taskAction',
  summary:
    'retry (if not queued or done), forceretry (always, as a new attempt) or reset (to 201, for the sweep)',
  tags: ['task'],
  params: TaskActionParamsSchema,
  responses: {
    200: { description: 'The task after the action', schema: ApiTaskSchema },
    400: badRequest,
    404: taskNotFound,
    ...brokerErrors,
  },
};

export const taskAction = defineRoute({
  ...actionSpec,
  method: 'post',
  path: '/DANE/task/{task_id}/{action}',
  scope: 'write',
  operationId: 'taskAction',
});

export const taskActionGet = defineRoute({
  ...actionSpec,
  method: 'get',
  path: '/DANE/task/{task_id}/{action}',

  scope: 'write',

  stateChangingGet: 'POST /DANE/task/{task_id}/{action}',
  operationId: 'taskActionLegacy',
  deprecated: true,
  description: 'GET form kept for existing clients; prefer POST (a GET should not change anything).',
});

export const creatorTasks = defineRoute({
  method: 'get',
  path: '/DANE/creator/{creator_id}/{task_key}/tasks',
  scope: 'read',
  function: 'creatorTasks',
  operationId: 'listTasksOfCreator',
  summary: "Tasks with one key on one creator's documents",
  tags: ['creator'],
  params: CreatorKeyParamsSchema,
  query: PageQuerySchema(1_000),
  responses: {
    200: { description: 'One page of tasks', schema: z.array(ApiTaskSchema), headers: pageHeaders },
    400: badRequest,
    ...storeErrors,
  },
});

export const creatorResults = defineRoute({
  method: 'get',
  path: '/DANE/creator/{creator_id}/{task_key}/results',
  scope: 'read',
  function: 'creatorResults',
  operationId: 'listResultsOfCreator',
  summary: "Results of the tasks with one key on one creator's documents (empty payloads included)",
  tags: ['creator'],
  params: CreatorKeyParamsSchema,
  query: PageQuerySchema(1_000),
  responses: {
    200: { description: 'One page of results', schema: z.array(ApiResultSchema), headers: pageHeaders },
    400: badRequest,
    ...storeErrors,
  },
});

export const taskRoutes = [
  taskCreate,
  taskList,
  taskGet,
  taskDelete,
  taskDeleteAlias,
  taskDocument,
  taskResults,
  taskAction,
  taskActionGet,
  creatorTasks,
  creatorResults,
];
