import { httpHandler, json } from '../../lib/http/handler.ts';
import { pageHeaders } from '../../lib/http/page-headers.ts';
import { parseQuery } from '../../lib/http/request.ts';
import { taskList } from '../../lib/http/routes/tasks.ts';
import { unfinishedTasks } from '../../lib/tasks/queries.ts';

/** GET /DANE/task?limit=&cursor=: unfinished tasks, every one of them, a page at a time. */
export const handler = httpHandler(async (request) => {
  const page = parseQuery(taskList, request);
  const { items, total, next } = await unfinishedTasks(page);
  return json(
    200,
    items,
    pageHeaders(request, total, next ? { cursor: next, limit: String(page.limit) } : undefined),
  );
});
