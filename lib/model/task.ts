import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';
import { type ApiDocument, ApiDocumentSchema } from './document.ts';

/** ProcState codes (spec §1.4). Workers may reply with any integer; unknown codes are stored verbatim. */
export const TaskState = {
  QUEUED: 102,
  SUCCESS: 200,
  CREATED: 201,
  TASK_RESET: 205,
  BAD_REQUEST: 400,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  UNFINISHED_DEPENDENCY: 412,
  NO_ROUTE_TO_QUEUE: 422,
  /**
   * Ours (HTTP's "Failed Dependency"): released because a dependency failed for good; the original left such
   * tasks at 412 forever.
   */
  DEPENDENCY_FAILED: 424,
  ERROR: 500,
  ERROR_INVALID_INPUT: 502,
  ERROR_PROXY: 503,
} as const;

/**
 * Our bookkeeping, stored beside `task` at the top level of the task's `_source`. Python workers read task
 * sources through a parser that turns unknown top-level keys into `args`, which they never look at, so this
 * never breaks them; the API and the task message never show it as args.
 */
export const TaskBookkeepingSchema = z.object({
  /** Incremented every time the task is claimed for publishing; carried in the message's correlation id. */
  attempt: z.number().int().min(0).default(0),
  /** Epoch ms at which the sweep should look at this task again (retry, lease expiry); absent: not due. */
  due_at: z.number().int().nullish(),
  /** Auto-retries used since the last success or manual action. */
  retries: z.number().int().min(0).default(0),
  last_error: z.string().nullish(),
  /** Dependency keys a 412 task waits for, so a dependency that fails for good can release it. */
  waiting_on: z.array(z.string()).nullish(),
  /**
   * A random token per claim, carried in the correlation id beside the attempt: a task deleted and assigned again
   * starts counting attempts anew, and a reply to the old incarnation's message must not pass for the new one's.
   */
  claim: z.string().nullish(),
  /** The attempt whose publish was not confirmed: the message may still have reached a worker, so its reply counts. */
  unconfirmed: z.number().int().nullish(),
  /**
   * The `creator.id` of the task's document, as that keyword field indexes it, so that counting tasks per creator
   * needs no join. Absent on tasks written by the original server or by our versions before it.
   */
  creator: z.string().nullish(),
});
export type TaskBookkeeping = z.infer<typeof TaskBookkeepingSchema>;

/** `_source` of a task (spec §2.2). */
// Loose: a task source is replaced whole when it is claimed, so keys we do not know must survive the round trip.
export const StoredTaskSchema = z.looseObject({
  task: z.looseObject({
    key: z.string(),
    state: z.coerce.number().int(),
    msg: z.string().nullish(),
    priority: z.coerce.number().int().nullish(),
    args: z.record(z.string(), z.unknown()).nullish(),
  }),
  role: z.object({ name: z.literal('task'), parent: z.string() }),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  dane: TaskBookkeepingSchema.partial().nullish(),
});
export type StoredTask = z.infer<typeof StoredTaskSchema>;

/**
 * A task as the API returns it: the original's fields in its order (`state` an integer, `args` always an
 * object), plus `retry`, what the sweep knows of it, so that every give-up is visible through the API.
 */
export const ApiTaskSchema = z
  .object({
    _id: z.string(),
    key: z.string(),
    state: z.number().int(),
    msg: z.string().nullable(),
    priority: z.number().int(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    args: z.record(z.string(), z.unknown()),
    retry: z
      .object({
        attempt: z.number().int().meta({ description: 'How often the task was published' }),
        retries: z
          .number()
          .int()
          .meta({ description: 'Automatic retries used since the last success or reset' }),
        next_try: z
          .string()
          .nullable()
          .meta({ description: 'When the sweep looks at the task again (ISO 8601); null: never by itself' }),
        last_error: z.string().nullable(),
        waiting_on: z
          .array(z.string())
          .nullable()
          .meta({ description: 'Keys of the dependencies a 412 waits for; null when it waits for none' }),
      })
      .meta({ id: 'TaskRetry' }),
  })
  .meta({ id: 'Task' });
export type ApiTask = z.infer<typeof ApiTaskSchema>;

/** What POST /DANE/task answers for a list of documents: every document id accounted for. */
export const BatchTasksResultSchema = z
  .object({
    success: z.array(ApiTaskSchema),
    failed: z.array(z.object({ document_id: z.string(), error: z.string() })),
  })
  .meta({ id: 'BatchTasksResult' });
export type BatchAssignment = z.infer<typeof BatchTasksResultSchema>;

export function toApiTask(
  id: string,
  source: Pick<StoredTask, 'task' | 'created_at' | 'updated_at'> & Partial<Pick<StoredTask, 'dane'>>,
): ApiTask {
  const dane = source.dane ?? {};
  return {
    _id: id,
    key: source.task.key,
    state: source.task.state,
    msg: source.task.msg ?? null,
    priority: source.task.priority ?? 1,
    created_at: source.created_at ?? null,
    updated_at: source.updated_at ?? null,
    args: source.task.args ?? {},
    retry: {
      attempt: dane.attempt ?? 0,
      retries: dane.retries ?? 0,
      next_try: dane.due_at == null ? null : new Date(dane.due_at).toISOString(),
      last_error: dane.last_error ?? null,
      waiting_on: dane.waiting_on ?? null,
    },
  };
}

const KNOWN_TASK_FIELDS = new Set(['key', 'priority', '_id', 'state', 'msg', 'created_at', 'updated_at']);

const PrioritySchema = z
  .union([z.number(), z.string().regex(/^\s*[+-]?\d+\s*$/, 'must be an integer')], {
    error: 'must be an integer between 0 and 10',
  })
  .transform((value) => Math.min(10, Math.max(0, Math.trunc(Number(value)))));

/** The task part of a POST /task body once the original's folding rules (spec §1.2) have been applied. */
export const TaskSpecSchema = z.object({
  key: z
    .string({ error: 'is required and must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .regex(/^[^\s#*.]+$/, 'must not contain whitespace, ".", "*" or "#" (it is part of a routing key)')
    .transform((key) => key.toUpperCase()),
  priority: PrioritySchema.default(1),
  args: z.record(z.string(), z.unknown(), { error: 'must be an object' }).default({}),
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

/**
 * Applies the Python library's `Task.from_json` folding: a nested `task` object is merged with the outer keys
 * (outer keys win); unknown keys become `args`, except a lone `args` key whose value is the args. `_id` is
 * refused (the server assigns it); `state`, `msg` and timestamps are ignored (a new task is always 201).
 */
export function foldTaskFields(fields: Record<string, unknown>): Record<string, unknown> {
  let merged = fields;
  if ('task' in fields) {
    const inner = fields.task;
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
      throw InvalidInputError.at(['task'], 'must be an object');
    }
    const { task: _ignored, ...outer } = fields;
    merged = { ...(inner as Record<string, unknown>), ...outer };
  }
  if ('_id' in merged) throw InvalidInputError.at(['_id'], 'is assigned by the server and must not be sent');
  const unknown = Object.keys(merged).filter((key) => !KNOWN_TASK_FIELDS.has(key));
  const args =
    unknown.length === 1 && unknown[0] === 'args'
      ? merged.args
      : Object.fromEntries(unknown.map((key) => [key, merged[key]]));
  return { key: merged.key, priority: merged.priority, args };
}

/** A task given by key or as a task object (a 412 reply's dependencies); undefined when it names no valid task. */
export function taskSpecOf(value: string | Record<string, unknown>): TaskSpec | undefined {
  try {
    const parsed = TaskSpecSchema.safeParse(
      typeof value === 'string' ? { key: value } : foldTaskFields(value),
    );
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    if (error instanceof InvalidInputError) return undefined;
    throw error;
  }
}

const DocumentIdSchema = z.string().min(1);

/**
 * POST /task body: `document_id` a string (single) or a list (batch), plus the task, flat or nested. This one
 * schema is enforced and is what the OpenAPI document shows.
 */
export const AssignBodySchema = z
  .looseObject(
    {
      document_id: z
        .union([DocumentIdSchema, z.array(DocumentIdSchema).min(1)], {
          error: 'is required: a non-empty string, or a non-empty list of non-empty strings',
        })
        .meta({ description: 'One document id (answer 201), or a list (answer 200 with success/failed)' }),
      key: z
        .string({ error: 'must be a string' })
        .optional()
        .meta({ description: 'The task key (upper-cased); or give it in `task`' }),
      priority: z
        .union([z.number(), z.string()])
        .optional()
        .meta({ description: 'An integer, clamped to 0-10; default 1' }),
      task: z
        .looseObject(
          { key: z.string().optional(), priority: z.union([z.number(), z.string()]).optional() },
          { error: 'must be an object' },
        )
        .optional()
        .meta({ description: 'The nested form of the task; outer keys win' }),
      args: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
    },
    { error: 'must be a JSON object' },
  )
  .transform((body, ctx) => {
    const { document_id, ...rest } = body;
    let folded: Record<string, unknown>;
    try {
      folded = foldTaskFields(rest);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      for (const issue of error.issues)
        ctx.addIssue({ code: 'custom', path: issue.path.split('.'), message: issue.message });
      return z.NEVER;
    }
    const task = TaskSpecSchema.safeParse(folded);
    if (!task.success) {
      for (const issue of task.error.issues) ctx.addIssue({ ...issue, code: 'custom' } as never);
      return z.NEVER;
    }
    return { documentIds: document_id, task: task.data };
  })
  .meta({ id: 'TaskAssignment' });

/**
 * A task message (spec §4.2): `{task, document}` as Python's `Task.to_json` and `Document.to_json` write them
 * (null fields omitted from the task). Every message is checked against it before it is published.
 */
export const TaskMessageSchema = z.strictObject({
  task: z.strictObject({
    key: z.string().min(1),
    _id: z.string().min(1),
    state: z.number().int(),
    msg: z.string().optional(),
    created_at: z.string().optional(),
    updated_at: z.string().optional(),
    priority: z.number().int(),
    args: z.record(z.string(), z.unknown()).optional(),
  }),
  document: ApiDocumentSchema,
});
export type TaskMessage = z.infer<typeof TaskMessageSchema>;

/** The message for a task of `document`, carrying the task as stored in `source`. */
export function taskMessage(id: string, source: StoredTask, document: ApiDocument): TaskMessage {
  const { task } = source;
  const message: TaskMessage = {
    task: {
      key: task.key,
      _id: id,
      state: task.state,
      ...(task.msg != null ? { msg: task.msg } : {}),
      ...(source.created_at != null ? { created_at: source.created_at } : {}),
      ...(source.updated_at != null ? { updated_at: source.updated_at } : {}),
      priority: task.priority ?? 1,
      ...(task.args && Object.keys(task.args).length > 0 ? { args: task.args } : {}),
    },
    document: {
      target: document.target,
      creator: document.creator,
      created_at: document.created_at,
      updated_at: document.updated_at,
      _id: document._id,
    },
  };
  return message;
}

function messageText(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message === null) return 'None';
  return typeof message === 'object' ? JSON.stringify(message) : String(message);
}

/**
 * A worker reply (spec §4.4). `state` is coerced like Python's `int()`; extra keys are ignored; dependencies may
 * be task keys or task objects.
 */
export const ReplySchema = z.looseObject({
  state: z
    .union([z.number(), z.string().regex(/^\s*[+-]?\d+(\.0*)?\s*$/)])
    .transform((s) => Math.trunc(Number(s))),
  // The original stored whatever `message` held; only its absence was an error.
  message: z
    .unknown()
    .refine((m) => m !== undefined, 'is required')
    .transform(messageText),
  // Entries that are neither a key nor a task object are left out rather than failing the whole reply.
  dependencies: z
    .array(z.unknown())
    .optional()
    .transform((list) =>
      list?.filter(
        (d): d is string | Record<string, unknown> =>
          typeof d === 'string' || (d !== null && typeof d === 'object' && !Array.isArray(d)),
      ),
    ),
});
export type Reply = z.infer<typeof ReplySchema>;

/** The event POST /DANE/task hands the asynchronous `publishTasks` function (lib/tasks/dispatch.ts). */
export const PublishTasksEventSchema = z.object({ taskIds: z.array(z.string().min(1)).max(10_000) });
export type PublishTasksEvent = z.infer<typeof PublishTasksEventSchema>;
