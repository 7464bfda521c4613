import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { taskDelete } from '../../lib/http/routes/tasks.ts';
import { deleteTask } from '../../lib/tasks/queries.ts';

/** DELETE /DANE/task/{task_id} (and the 0.2.2 GET .../delete): the task and its results; 200 `""`. */
export const handler = httpHandler(async (request) => {
  await deleteTask(parsePath(taskDelete, request).task_id);
  return json(200, '');
});
