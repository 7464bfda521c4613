import { z } from 'zod';
import { MassResetResultSchema, WorkerSchema, WorkerTasksSchema } from '../../model/worker.ts';
import { canMassReset } from '../../tasks/lifecycle.ts';
import { PageQuerySchema } from '../paging.ts';
import { defineRoute, errorResponse, storeErrors } from './types.ts';

/** The workers view (spec §7.2.15-17). */

const TaskKeyParamsSchema = z.object({ task_key: z.string().min(1) });
const ResetStateParamsSchema = z.object({
  task_key: z.string().min(1),
  state: z
    .string()
    .regex(/^\d{3}$/, 'must be a 3-digit task state')
    .transform(Number)
    .refine(canMassReset, 'tasks that are queued or already reset cannot be mass-reset')
    .meta({ description: 'The state whose tasks are reset' }),
});

const badRequest = errorResponse('A parameter is invalid; `message` names it');

export const workersList = defineRoute({
  method: 'get',
  path: '/DANE/workers',
  scope: 'read',
  function: 'workersList',
  operationId: 'listWorkers',
  summary: 'Worker queues with their consumers and backlog',
  description:
    'From the RabbitMQ management API when RABBITMQ_MANAGEMENT_URL is set (3 s timeout); otherwise, or when it ' +
    'does not answer, from the broker over AMQP for the queues named after the task keys in use.',
  tags: ['workers'],
  responses: {
    200: { description: 'Every worker queue (the response queue left out)', schema: z.array(WorkerSchema) },
    ...storeErrors,
  },
});

export const workersTasks = defineRoute({
  method: 'get',
  path: '/DANE/workers/{task_key}',
  scope: 'read',
  function: 'workersTasks',
  operationId: 'listErroredTasks',
  summary: 'Errored tasks of a key (not 102, 200, 201 or 412), paged, with totals per state',
  tags: ['workers'],
  params: TaskKeyParamsSchema,
  query: PageQuerySchema(20),
  responses: {
    200: { description: 'One page of errored tasks', schema: WorkerTasksSchema },
    400: badRequest,
    ...storeErrors,
  },
});

const resetSpec = {
  function: 'workersReset',
  summary: 'Mass reset: the tasks of a key in a state (500 when not given) become 205 "Manual reset"',
  description: 'The next sweep publishes them. The answer counts the tasks reset.',
  tags: ['workers'],
  responses: {
    200: { description: 'How many tasks were reset', schema: MassResetResultSchema },
    400: badRequest,
    ...storeErrors,
  },
};

export const workersReset = defineRoute({
  ...resetSpec,
  method: 'post',
  path: '/DANE/workers/{task_key}/reset',
  scope: 'admin',
  operationId: 'massReset',
  params: TaskKeyParamsSchema,
});
export const workersResetGet = defineRoute({
  ...resetSpec,
  method: 'get',
  path: '/DANE/workers/{task_key}/reset',

  scope: 'admin',

  stateChangingGet: 'POST /DANE/workers/{task_key}/reset',
  operationId: 'massResetLegacy',
  params: TaskKeyParamsSchema,
  deprecated: true,
});
export const workersResetState = defineRoute({
  ...resetSpec,
  method: 'post',
  path: '/DANE/workers/{task_key}/reset/{state}',
  scope: 'admin',
  operationId: 'massResetState',
  params: ResetStateParamsSchema,
});
export const workersResetStateGet = defineRoute({
  ...resetSpec,
  method: 'get',
  path: '/DANE/workers/{task_key}/reset/{state}',

  scope: 'admin',

  stateChangingGet: 'POST /DANE/workers/{task_key}/reset/{state}',
  operationId: 'massResetStateLegacy',
  params: ResetStateParamsSchema,
  deprecated: true,
});

export const workerRoutes = [
  workersList,
  workersTasks,
  workersReset,
  workersResetGet,
  workersResetState,
  workersResetStateGet,
];
