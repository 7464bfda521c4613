import { httpHandler, json } from '../../lib/http/handler.ts';
import { findTask } from '../../lib/tasks/queries.ts';

export const handler = httpHandler(async (request) =>
  json(200, await findTask(request.pathParameters.task_id ?? '')),
);
