import { httpHandler, json } from '../../lib/http/handler.ts';
import { applyTaskAction, parseAction } from '../../lib/tasks/actions.ts';

/** POST (and, for existing clients, GET) /DANE/task/{task_id}/{retry|forceretry|reset}. */
export const handler = httpHandler(async (request) => {
  const action = parseAction(request.pathParameters.action ?? '');
  return json(200, await applyTaskAction(request.pathParameters.task_id ?? '', action));
});
