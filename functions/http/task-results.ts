import { httpHandler, json } from '../../lib/http/handler.ts';
import { pageHeaders } from '../../lib/http/page-headers.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { taskResults } from '../../lib/http/routes/tasks.ts';
import { resultsOfTask } from '../../lib/tasks/queries.ts';

/** GET /DANE/task/{task_id}/results?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { task_id } = parsePath(taskResults, request);
  const page = parseQuery(taskResults, request);
  const { items, total, next } = await resultsOfTask(task_id, page);
  return json(
    200,
    items,
    pageHeaders(request, total, next ? { cursor: next, limit: String(page.limit) } : undefined),
  );
});
