import { httpHandler } from '../../lib/http/handler.ts';
import { pageResponse } from '../../lib/http/paging.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { taskResults } from '../../lib/http/routes/tasks.ts';
import { resultsOfTask } from '../../lib/tasks/queries.ts';

/** GET /DANE/task/{task_id}/results?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { task_id } = parsePath(taskResults, request);
  const page = parseQuery(taskResults, request);
  return pageResponse(request, await resultsOfTask(task_id, page), page.limit);
});
