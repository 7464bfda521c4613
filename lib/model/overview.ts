import { z } from 'zod';

/** What the operator's overview answers (GET /DANE/overview and /DANE/overview/creators). */

export const STATE_CATEGORIES = [
  'new',
  'queued',
  'done',
  'failed',
  'waiting',
  'unroutable',
  'backoff',
] as const;
export type StateCategory = (typeof STATE_CATEGORIES)[number];

const CountsShape = {
  total: z.number().int(),
  states: z.record(z.string(), z.number().int()).meta({ description: 'Tasks per state code' }),
  categories: z
    .object(
      Object.fromEntries(STATE_CATEGORIES.map((c) => [c, z.number().int()])) as Record<
        StateCategory,
        z.ZodNumber
      >,
    )
    .meta({
      id: 'StateCategories',
      description:
        'new: 201/205 not yet published; queued: 102; done: 200; failed: failed for good (a final error, or ' +
        '502/503 with no retry left); waiting: 412 on dependencies; unroutable: 422; backoff: 502/503 due again',
    }),
  done_per_minute: z.number().meta({ description: 'Tasks done per minute over the last recent_minutes' }),
};

export const OverviewSchema = z
  .object({
    generated_at: z.string(),
    recent_minutes: z.number().int(),
    queues_error: z.string().nullable().meta({
      description: 'Why the worker queues are unknown (the broker is unreachable); null when known',
    }),
    keys: z.array(
      z.object({
        key: z.string(),
        ...CountsShape,
        queue: z
          .object({ name: z.string(), consumers: z.number().int(), messages: z.number().int() })
          .nullable()
          .meta({ description: 'The worker queue named after the key; null when there is none' }),
        warning: z
          .string()
          .nullable()
          .meta({ description: 'Set when tasks wait for the key and no consumer is bound to its queue' }),
      }),
    ),
  })
  .meta({ id: 'Overview' });
export type Overview = z.infer<typeof OverviewSchema>;

export const CreatorsOverviewSchema = z
  .object({
    generated_at: z.string(),
    recent_minutes: z.number().int(),
    creators: z
      .array(z.object({ creator: z.string(), documents: z.number().int(), ...CountsShape }))
      .meta({ description: 'The 100 creators with the most documents' }),
    other_creator_documents: z.number().int().meta({ description: 'Documents of the creators not listed' }),
  })
  .meta({ id: 'CreatorsOverview' });
export type CreatorsOverview = z.infer<typeof CreatorsOverviewSchema>;

/** The counts of one key or creator. */
export type OverviewCounts = Omit<CreatorsOverview['creators'][number], 'creator' | 'documents'>;
