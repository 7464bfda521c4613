import { parseInput } from '../../lib/errors.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { AssignBodySchema } from '../../lib/model/task.ts';
import { assignTask, assignTasks } from '../../lib/tasks/assign.ts';

/** POST /DANE/task: one document id → 201 with the task; a list → 200 `{success, failed}` (spec §7.2.9). */
export const handler = httpHandler(async (request) => {
  const { documentIds, task } = parseInput(AssignBodySchema, request.body);
  if (typeof documentIds === 'string') return json(201, await assignTask(documentIds, task));
  return json(200, await assignTasks(documentIds, task));
});
