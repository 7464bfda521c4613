import { httpHandler, json } from '../../lib/http/handler.ts';
import { pageHeaders } from '../../lib/http/page-headers.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { creatorResults } from '../../lib/http/routes/tasks.ts';
import { resultsOfCreator } from '../../lib/tasks/queries.ts';

/** GET /DANE/creator/{creator_id}/{task_key}/results?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { creator_id, task_key } = parsePath(creatorResults, request);
  const page = parseQuery(creatorResults, request);
  const { items, total, next } = await resultsOfCreator(creator_id, task_key, page);
  return json(
    200,
    items,
    pageHeaders(request, total, next ? { cursor: next, limit: String(page.limit) } : undefined),
  );
});
