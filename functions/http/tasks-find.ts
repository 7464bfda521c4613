import { httpHandler } from '../../lib/http/handler.ts';
import { pageResponse } from '../../lib/http/paging.ts';
import { parseQuery } from '../../lib/http/request.ts';
import { tasksFind } from '../../lib/http/routes/manage.ts';
import { findTasks } from '../../lib/tasks/bulk.ts';

/** GET /DANE/tasks?key=&state=&creator=&limit=&cursor=: the tasks a filter selects, a page at a time. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor, key, state, creator } = parseQuery(tasksFind, request);
  return pageResponse(request, await findTasks({ key, states: state, creator }, { limit, cursor }), limit);
});
