import { httpHandler, json } from '../../lib/http/handler.ts';
import { documentOfTask } from '../../lib/tasks/queries.ts';

export const handler = httpHandler(async (request) =>
  json(200, await documentOfTask(request.pathParameters.task_id ?? '')),
);
