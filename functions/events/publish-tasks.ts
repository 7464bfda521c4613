import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../../lib/log.ts';
import { getTasks } from '../../lib/store/tasks.ts';
import { claimAndPublish } from '../../lib/tasks/publish.ts';

const EventSchema = z.object({ taskIds: z.array(z.string().min(1)).max(10_000) });

/** Publishes the tasks of a large batch, invoked asynchronously by POST /DANE/task (lib/tasks/dispatch.ts). */
export const handler = async (event: unknown, context: Context) => {
  const log = logger.child({ requestId: context.awsRequestId, function: 'publishTasks' });
  const { taskIds } = EventSchema.parse(event);
  let published = 0;
  for (let i = 0; i < taskIds.length; i += 1_000) {
    const hits = await getTasks(taskIds.slice(i, i + 1_000));
    const outcomes = await claimAndPublish([...hits.values()], 'run');
    published += [...outcomes.values()].filter((o) => o === 'published').length;
  }
  log.info('Batch published', { tasks: taskIds.length, published });
  return { tasks: taskIds.length, published };
};
