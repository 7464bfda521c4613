import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { taskDocument } from '../../lib/http/routes/tasks.ts';
import { documentOfTask } from '../../lib/tasks/queries.ts';

export const handler = httpHandler(async (request) =>
  json(200, await documentOfTask(parsePath(taskDocument, request).task_id)),
);
