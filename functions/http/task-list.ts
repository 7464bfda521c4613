import { httpHandler } from '../../lib/http/handler.ts';
import { pagedArray, pageParams } from '../../lib/http/paging.ts';
import { unfinishedTasks } from '../../lib/tasks/queries.ts';

/** GET /DANE/task: unfinished tasks, every one of them, a page at a time. */
export const handler = httpHandler(async (request) => {
  const page = pageParams(request);
  return pagedArray(request, page, await unfinishedTasks(page));
});
