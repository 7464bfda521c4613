import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { taskGet } from '../../lib/http/routes/tasks.ts';
import { findTask } from '../../lib/tasks/queries.ts';

export const handler = httpHandler(async (request) =>
  json(200, await findTask(parsePath(taskGet, request).task_id)),
);
