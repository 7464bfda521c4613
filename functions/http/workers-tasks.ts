import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { workersTasks } from '../../lib/http/routes/workers.ts';
import type { WorkerTasks } from '../../lib/model/worker.ts';
import { encodeCursor } from '../../lib/store/paging.ts';
import { erroredTasks } from '../../lib/tasks/workers.ts';

/** GET /DANE/workers/{task_key}?limit=&cursor=: errored tasks of a key (default 20 a page), totals per state. */
export const handler = httpHandler(async (request) => {
  const { task_key } = parsePath(workersTasks, request);
  const { next, ...page } = await erroredTasks(task_key, parseQuery(workersTasks, request));
  const body: WorkerTasks = { ...page, next: next ? encodeCursor(next) : null };
  return json(200, body);
});
