import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { taskAction } from '../../lib/http/routes/tasks.ts';
import { applyTaskAction } from '../../lib/tasks/actions.ts';

/** POST (and, for existing clients, GET) /DANE/task/{task_id}/{retry|forceretry|reset}. */
export const handler = httpHandler(async (request) => {
  const { task_id, action } = parsePath(taskAction, request);
  return json(200, await applyTaskAction(task_id, action));
});
