import { httpHandler, json } from '../../lib/http/handler.ts';
import { deleteTask } from '../../lib/tasks/queries.ts';

/** DELETE /DANE/task/{task_id}: the task and its results; 200 `""` as the original answered. */
export const handler = httpHandler(async (request) => {
  await deleteTask(request.pathParameters.task_id ?? '');
  return json(200, '');
});
