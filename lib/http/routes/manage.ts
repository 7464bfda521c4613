import { z } from 'zod';
import { CreatorsOverviewSchema, OverviewSchema } from '../../model/overview.ts';
import { ApiTaskSchema } from '../../model/task.ts';
import { decodeCursor, type SortValues } from '../../store/paging.ts';
import { BULK_ACTIONS } from '../../tasks/bulk.ts';
import { PageQuerySchema, pageHeaders } from '../paging.ts';
import { defineRoute, errorResponse, storeErrors } from './types.ts';

/**
 * What the operator's dashboard needs beyond the original's routes (issue 12): the overview's counts, tasks
 * selected by a filter and bulk actions on them, who the caller is; and the dashboard and API reference pages.
 */

const badRequest = errorResponse('A parameter or the body is invalid; `message` names it');
const brokerErrors = {
  503: {
    ...errorResponse('OpenSearch or RabbitMQ is unavailable; retry later'),
    headers: { 'retry-after': { description: 'Seconds to wait', schema: z.string() } },
  },
};

const stateCode = z.number().int().min(100).max(999);
/** Query text: `state=500&state=502` or `state=500,502`. */
const statesText = z
  .array(z.string())
  .optional()
  .transform((values, ctx) => {
    if (values === undefined) return undefined;
    const parts = values.flatMap((v) => v.split(',')).map((v) => v.trim());
    const states = parts.filter((v) => v !== '').map(Number);
    if (states.length === 0 || states.some((s) => !stateCode.safeParse(s).success)) {
      ctx.addIssue({ code: 'custom', message: 'must be 3-digit task states, repeated or comma-separated' });
    }
    return states;
  })
  .meta({ description: 'Task state(s); repeat the parameter or separate them with commas' });

export const TaskFilterQuerySchema = z.object({
  key: z.string().min(1).optional().meta({ description: 'Task key, exactly' }),
  state: statesText,
  creator: z.string().min(1).optional().meta({ description: "creator.id of the task's document, exactly" }),
  ...PageQuerySchema(100).shape,
});

export const tasksFind = defineRoute({
  method: 'get',
  path: '/DANE/tasks',
  scope: 'read',
  function: 'tasksFind',
  operationId: 'findTasks',
  summary: 'Tasks selected by key, state(s) and creator, in id order, a page at a time',
  description: 'The selection that POST /DANE/tasks/{action} acts on, with the same filter.',
  tags: ['manage'],
  query: TaskFilterQuerySchema,
  responses: {
    200: { description: 'One page of tasks', schema: z.array(ApiTaskSchema), headers: pageHeaders },
    400: badRequest,
    ...storeErrors,
  },
});

const cursorText = z
  .string()
  .optional()
  .transform((cursor, ctx): SortValues | undefined => {
    if (cursor === undefined) return undefined;
    const values = decodeCursor(cursor);
    if (!values) ctx.addIssue({ code: 'custom', message: 'is not a `next` of a previous answer' });
    return values;
  });

export const BulkBodySchema = z
  .strictObject({
    key: z.string().min(1).optional(),
    state: z
      .union([stateCode, z.array(stateCode).min(1)])
      .optional()
      .transform((s) => (s === undefined ? undefined : Array.isArray(s) ? s : [s])),
    creator: z.string().min(1).optional(),
    ids: z.array(z.string().min(1)).min(1).max(10_000).optional(),
    dry_run: z.boolean().default(false),
    cursor: cursorText.meta({ description: '`next` of the previous answer, to go on where it stopped' }),
  })
  .refine(
    (b) => b.key !== undefined || b.state !== undefined || b.creator !== undefined || b.ids !== undefined,
    {
      message: 'name at least one of key, state, creator, ids (an action on every task is not offered)',
    },
  )
  .meta({
    id: 'BulkSelection',
    description:
      'Tasks selected by all the criteria given (key and creator exactly, state any of those given)',
  });

export const BulkActionParamsSchema = z.object({
  action: z.enum(BULK_ACTIONS).meta({ description: BULK_ACTIONS.join(', ') }),
});

export const BulkResultSchema = z
  .object({
    action: z.enum(BULK_ACTIONS),
    dry_run: z.boolean(),
    matched: z.number().int().meta({ description: 'Tasks selected (not a dry run: read by this call)' }),
    affected: z.number().int().meta({ description: 'Tasks changed (dry run: that would be changed)' }),
    skipped: z
      .number()
      .int()
      .meta({ description: 'Selected but not changed: not eligible in their state, or changed meanwhile' }),
    next: z.string().nullable().meta({
      description: 'When the call ran out of time: send it back as `cursor` to go on; null when done',
    }),
  })
  .meta({ id: 'BulkResult' });

export const tasksBulk = defineRoute({
  method: 'post',
  path: '/DANE/tasks/{action}',
  scope: 'admin',
  function: 'tasksBulk',
  operationId: 'bulkTaskAction',
  summary: 'retry, forceretry, reset or delete every task a filter (or a list of ids) selects',
  description:
    'Each task goes through the rules of the single action (POST /DANE/task/{task_id}/{action}, DELETE ' +
    '/DANE/task/{task_id}), written conditionally on the version read: a task that changed meanwhile is ' +
    'skipped. `dry_run: true` answers the counts only. A call works for at most about 20 s; when more tasks ' +
    'remain it answers `next`, to be sent back as `cursor`.',
  tags: ['manage'],
  params: BulkActionParamsSchema,
  body: BulkBodySchema,
  responses: {
    200: { description: 'How many tasks were (or would be) affected', schema: BulkResultSchema },
    400: badRequest,
    ...brokerErrors,
  },
});

export const overview = defineRoute({
  method: 'get',
  path: '/DANE/overview',
  scope: 'read',
  function: 'overview',
  operationId: 'overview',
  summary: 'Tasks per key × state, with the worker queue of every key',
  description:
    'One aggregation request for the counts, plus the worker queues (as GET /DANE/workers). When the broker ' +
    'cannot be reached the counts are still answered, with `queues_error` set.',
  tags: ['manage'],
  responses: { 200: { description: 'The overview per key', schema: OverviewSchema }, ...storeErrors },
});

export const overviewCreators = defineRoute({
  method: 'get',
  path: '/DANE/overview/creators',
  scope: 'read',
  function: 'overviewCreators',
  operationId: 'overviewOfCreators',
  summary: 'Tasks per creator × state (the 100 creators with most documents)',
  description:
    'Two aggregation requests, no join: the creators with most documents, then their tasks per state by the ' +
    'creator id each task carries. Tasks written by the original server carry none and are counted under their ' +
    "document's creator: by document id when there are up to 10,000, else through the join (seconds at a " +
    'million tasks).',
  tags: ['manage'],
  responses: {
    200: { description: 'The overview per creator', schema: CreatorsOverviewSchema },
    ...storeErrors,
  },
});

export const MeSchema = z
  .object({
    name: z.string().meta({ description: 'Key name or OIDC subject; "anonymous" without an authorizer' }),
    scopes: z.array(z.string()).meta({ description: 'Every scope held, implied ones included' }),
    mode: z.string().meta({ description: 'key, oidc, anonymous (AUTH_MODE=none), or none (no authorizer)' }),
  })
  .meta({ id: 'Me' });

export const authMe = defineRoute({
  method: 'get',
  path: '/DANE/auth/me',
  scope: 'read',
  function: 'authMe',
  operationId: 'whoAmI',
  summary: 'Who the credential sent belongs to, and its scopes',
  tags: ['auth'],
  responses: { 200: { description: 'The caller', schema: MeSchema } },
});

const WebFileParamsSchema = z.object({ file: z.string().min(1).meta({ description: 'Asset file name' }) });

export const managePage = defineRoute({
  method: 'get',
  path: '/DANE/manage',
  scope: 'public',
  function: 'web',
  operationId: 'dashboard',
  summary: "The operator's dashboard (HTML)",
  tags: ['manage'],
  responses: { 200: { description: 'text/html' } },
});

export const docsPage = defineRoute({
  method: 'get',
  path: '/DANE/docs',
  scope: 'public',
  function: 'web',
  operationId: 'apiReference',
  summary: 'This API reference, as Swagger UI (HTML)',
  tags: ['ops'],
  responses: { 200: { description: 'text/html' } },
});

export const webAsset = defineRoute({
  method: 'get',
  path: '/DANE/assets/{file}',
  scope: 'public',
  function: 'web',
  operationId: 'webAsset',
  summary: 'Scripts and styles of the dashboard and the API reference',
  tags: ['ops'],
  params: WebFileParamsSchema,
  responses: { 200: { description: 'The file' }, 404: errorResponse('No such file') },
});

export const manageRoutes = [
  overview,
  overviewCreators,
  tasksFind,
  tasksBulk,
  authMe,
  managePage,
  docsPage,
  webAsset,
];
