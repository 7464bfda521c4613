import { z } from 'zod';

/** `_source` of a result (spec §2.2), written by Python workers (routing = task id) or by us. */
export const StoredResultSchema = z.object({
  result: z.object({
    generator: z.looseObject({
      id: z.unknown().optional(),
      name: z.unknown().optional(),
      type: z.unknown().optional(),
      homepage: z.unknown().optional(),
    }),
    payload: z.record(z.string(), z.unknown()).nullish(),
  }),
  role: z.object({ name: z.literal('result'), parent: z.string() }),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
});
export type StoredResult = z.infer<typeof StoredResultSchema>;

/** A result as the API returns it: payload whole, timestamps read from the index (the original lost them). */
export const ApiResultSchema = z
  .object({
    _id: z.string(),
    generator: z.looseObject({
      id: z.unknown().optional(),
      name: z.unknown().optional(),
      type: z.unknown().optional(),
      homepage: z.unknown().optional(),
    }),
    payload: z.record(z.string(), z.unknown()),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    task_id: z.string().meta({
      description: 'The task this result belongs to (not in the original, which had no way to tell)',
    }),
  })
  .meta({ id: 'Result' });
export type ApiResult = z.infer<typeof ApiResultSchema>;

export function toApiResult(id: string, source: StoredResult): ApiResult {
  return {
    _id: id,
    generator: source.result.generator,
    payload: source.result.payload ?? {},
    created_at: source.created_at ?? null,
    updated_at: source.updated_at ?? null,
    task_id: source.role.parent,
  };
}
