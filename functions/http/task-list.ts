import { httpHandler } from '../../lib/http/handler.ts';
import { pageResponse } from '../../lib/http/paging.ts';
import { parseQuery } from '../../lib/http/request.ts';
import { taskList } from '../../lib/http/routes/tasks.ts';
import { unfinishedTasks } from '../../lib/tasks/queries.ts';

/** GET /DANE/task?limit=&cursor=: unfinished tasks, every one of them, a page at a time. */
export const handler = httpHandler(async (request) => {
  const page = parseQuery(taskList, request);
  return pageResponse(request, await unfinishedTasks(page), page.limit);
});
