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
});
export type TaskBookkeeping = z.infer<typeof TaskBookkeepingSchema>;

/** `_source` of a task (spec §2.2). */
export const StoredTaskSchema = z.object({
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

/** A task as the API returns it (the original's field order; `state` an integer, `args` always an object). */
export interface ApiTask {
  _id: string;
  key: string;
  state: number;
  msg: string | null;
  priority: number;
  created_at: string | null;
  updated_at: string | null;
  args: Record<string, unknown>;
}

export function toApiTask(
  id: string,
  source: Pick<StoredTask, 'task' | 'created_at' | 'updated_at'>,
): ApiTask {
  return {
    _id: id,
    key: source.task.key,
    state: source.task.state,
    msg: source.task.msg ?? null,
    priority: source.task.priority ?? 1,
    created_at: source.created_at ?? null,
    updated_at: source.updated_at ?? null,
    args: source.task.args ?? {},
  };
}
