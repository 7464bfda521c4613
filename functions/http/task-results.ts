import { httpHandler } from '../../lib/http/handler.ts';
import { pagedArray, pageParams } from '../../lib/http/paging.ts';
import { resultsOfTask } from '../../lib/tasks/queries.ts';

/** GET /DANE/task/{task_id}/results: new; the original had no way to list the results of a task. */
export const handler = httpHandler(async (request) => {
  const page = pageParams(request);
  return pagedArray(request, page, await resultsOfTask(request.pathParameters.task_id ?? '', page));
});
