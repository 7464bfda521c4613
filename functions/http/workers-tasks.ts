import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { workersTasks } from '../../lib/http/routes/workers.ts';
import { erroredTasks } from '../../lib/tasks/workers.ts';

/** GET /DANE/workers/{task_key}?limit=&cursor=: errored tasks of a key (default 20 a page), totals per state. */
export const handler = httpHandler(async (request) => {
  const { task_key } = parsePath(workersTasks, request);
  const { limit, cursor } = parseQuery(workersTasks, request);
  return json(200, await erroredTasks(task_key, limit, cursor));
});
