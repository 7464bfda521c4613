import { SEARCH_PAGE_SIZE, search } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { pageLinkHeaders } from '../../lib/http/paging.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { searchAlias, searchDocuments } from '../../lib/http/routes/documents.ts';

/** GET /DANE/search/document?target_id=&creator_id=&page=, and GET /DANE/search/{target_id}/{creator_id} (0.2.2) */
export const handler = httpHandler(async (request) => {
  if (request.pathParameters.target_id === undefined) {
    const { target_id, creator_id, page } = parseQuery(searchDocuments, request);
    return json(200, await search(target_id, creator_id, page));
  }
  const { target_id, creator_id } = parsePath(searchAlias, request);
  const { page } = parseQuery(searchAlias, request);
  const { total, hits } = await search(target_id, creator_id, page);
  const more = page * SEARCH_PAGE_SIZE < total;
  return json(200, hits, pageLinkHeaders(request, total, more ? { page: String(page + 1) } : undefined));
});
