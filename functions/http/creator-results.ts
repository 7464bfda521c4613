import { httpHandler } from '../../lib/http/handler.ts';
import { pageResponse } from '../../lib/http/paging.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { creatorResults } from '../../lib/http/routes/tasks.ts';
import { resultsOfCreator } from '../../lib/tasks/queries.ts';

/** GET /DANE/creator/{creator_id}/{task_key}/results?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { creator_id, task_key } = parsePath(creatorResults, request);
  const page = parseQuery(creatorResults, request);
  return pageResponse(request, await resultsOfCreator(creator_id, task_key, page), page.limit);
});
