import { z } from 'zod';
import { ApiTaskSchema } from './task.ts';

/** The workers view (spec §7.2.15-17): what its routes answer. */

export const WorkerSchema = z
  .object({
    name: z.string().meta({ description: 'Queue name (by convention the task key)' }),
    active_workers: z.number().int().meta({ description: 'Consumers on the queue' }),
    in_queue: z.number().int().meta({ description: 'Messages waiting in the queue' }),
  })
  .meta({ id: 'Worker' });

export const WorkerTasksSchema = z
  .object({
    total: z.number().int(),
    states: z
      .record(z.string(), z.number().int())
      .meta({ description: 'Tasks of this key per state (all states)' }),
    tasks: z.array(ApiTaskSchema),
    next: z.string().nullable().meta({ description: 'Cursor of the next page, null on the last' }),
  })
  .meta({ id: 'WorkerTasks' });

export const MassResetResultSchema = z
  .object({ total: z.number().int(), error: z.string() })
  .meta({ id: 'MassResetResult' });

export type WorkerQueueInfo = z.infer<typeof WorkerSchema>;
export type WorkerTasks = z.infer<typeof WorkerTasksSchema>;
export type MassResetResult = z.infer<typeof MassResetResultSchema>;
