import { listDocumentsOfCreator } from '../../lib/documents/service.ts';
import { httpHandler } from '../../lib/http/handler.ts';
import { pageResponse } from '../../lib/http/paging.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { creatorDocs } from '../../lib/http/routes/documents.ts';

/** GET /DANE/creator/{creator_id}/docs?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { creator_id } = parsePath(creatorDocs, request);
  const page = parseQuery(creatorDocs, request);
  return pageResponse(request, await listDocumentsOfCreator(creator_id, page), page.limit);
});
