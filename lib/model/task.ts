import { z } from 'zod';

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
      })
      .meta({ id: 'TaskRetry' }),
  })
  .meta({ id: 'Task' });
export type ApiTask = z.infer<typeof ApiTaskSchema>;

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
    },
  };
}

/** States the sweep and `run` re-publish by themselves (spec §3.1): the original's whitelist. */
export const RUNNABLE_STATES: ReadonlySet<number> = new Set([201, 205, 412, 502, 503]);
/** States a worker reply may leave that the sweep retries with back-off. */
export const AUTO_RETRY_STATES: ReadonlySet<number> = new Set([502, 503]);
/**
 * Our own state for a task released because a dependency failed for good (HTTP's "Failed Dependency"); the
 * original left such tasks at 412 forever. It is re-run when that dependency later succeeds.
 */
export const DEPENDENCY_FAILED = 424;

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
      throw new z.ZodError([{ code: 'custom', path: ['task'], message: 'must be an object', input: inner }]);
    }
    const { task: _ignored, ...outer } = fields;
    merged = { ...(inner as Record<string, unknown>), ...outer };
  }
  if ('_id' in merged) {
    throw new z.ZodError([
      {
        code: 'custom',
        path: ['_id'],
        message: 'is assigned by the server and must not be sent',
        input: merged._id,
      },
    ]);
  }
  const unknown = Object.keys(merged).filter((key) => !KNOWN_TASK_FIELDS.has(key));
  const args =
    unknown.length === 1 && unknown[0] === 'args'
      ? merged.args
      : Object.fromEntries(unknown.map((key) => [key, merged[key]]));
  return { key: merged.key, priority: merged.priority, args };
}

/** POST /task body: `document_id` a string (single) or a list (batch), plus the task, flat or nested. */
export const AssignBodySchema = z
  .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
  .superRefine((body, ctx) => {
    const ids = body.document_id;
    if (ids === undefined) ctx.addIssue({ code: 'custom', path: ['document_id'], message: 'is required' });
    else if (Array.isArray(ids)) {
      if (ids.length === 0)
        ctx.addIssue({ code: 'custom', path: ['document_id'], message: 'must not be empty' });
      ids.forEach((id, i) => {
        if (typeof id !== 'string' || id === '')
          ctx.addIssue({ code: 'custom', path: ['document_id', i], message: 'must be a non-empty string' });
      });
    } else if (typeof ids !== 'string' || ids === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['document_id'],
        message: 'must be a string or a list of strings',
      });
    }
  })
  .transform((body) => {
    const { document_id, ...rest } = body;
    return {
      documentIds: document_id as string | string[],
      task: TaskSpecSchema.parse(foldTaskFields(rest)),
    };
  });

/** The task part of a task message, as Python's `Task.to_json` writes it (null fields omitted). */
export function taskMessageJson(id: string, source: StoredTask): Record<string, unknown> {
  const out: Record<string, unknown> = { key: source.task.key, _id: id, state: source.task.state };
  if (source.task.msg != null) out.msg = source.task.msg;
  if (source.created_at != null) out.created_at = source.created_at;
  if (source.updated_at != null) out.updated_at = source.updated_at;
  out.priority = source.task.priority ?? 1;
  if (source.task.args && Object.keys(source.task.args).length > 0) out.args = source.task.args;
  return out;
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
