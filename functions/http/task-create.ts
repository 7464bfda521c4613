import { httpHandler, json } from '../../lib/http/handler.ts';
import { parseBody } from '../../lib/http/request.ts';
import { taskCreate } from '../../lib/http/routes/tasks.ts';
import { assignTask, assignTasks } from '../../lib/tasks/assign.ts';

/** POST /DANE/task: one document id → 201 with the task; a list → 200 `{success, failed}` (spec §7.2.9). */
export const handler = httpHandler(async (request) => {
  // The route's own body schema: what the OpenAPI document shows is what is enforced.
  const { documentIds, task } = parseBody(taskCreate, request);
  if (typeof documentIds === 'string') return json(201, await assignTask(documentIds, task));
  return json(200, await assignTasks(documentIds, task));
});
