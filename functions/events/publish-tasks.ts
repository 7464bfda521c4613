import { lambdaHandler } from '../../lib/invocation.ts';
import { logger } from '../../lib/log.ts';
import { PublishTasksEventSchema } from '../../lib/model/task.ts';
import { publishTasksById } from '../../lib/tasks/publish.ts';

/** Publishes the tasks of a large batch, invoked asynchronously by POST /DANE/task (lib/tasks/dispatch.ts). */
export const handler = lambdaHandler(async (event: unknown) => {
  const { taskIds } = PublishTasksEventSchema.parse(event);
  const published = await publishTasksById(taskIds);
  logger.info('Batch published', { tasks: taskIds.length, published });
  return { tasks: taskIds.length, published };
});
