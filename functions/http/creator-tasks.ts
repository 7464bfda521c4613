import { httpHandler } from '../../lib/http/handler.ts';
import { pageResponse } from '../../lib/http/paging.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { creatorTasks } from '../../lib/http/routes/tasks.ts';
import { tasksOfCreator } from '../../lib/tasks/queries.ts';

/** GET /DANE/creator/{creator_id}/{task_key}/tasks?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { creator_id, task_key } = parsePath(creatorTasks, request);
  const page = parseQuery(creatorTasks, request);
  return pageResponse(request, await tasksOfCreator(creator_id, task_key, page), page.limit);
});
