import { listDocumentsOfCreator } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { pageHeaders } from '../../lib/http/page-headers.ts';
import { parsePath, parseQuery } from '../../lib/http/request.ts';
import { creatorDocs } from '../../lib/http/routes/documents.ts';

/** GET /DANE/creator/{creator_id}/docs?limit=&cursor= */
export const handler = httpHandler(async (request) => {
  const { creator_id } = parsePath(creatorDocs, request);
  const { limit, cursor } = parseQuery(creatorDocs, request);
  const { total, docs, next } = await listDocumentsOfCreator(creator_id, limit, cursor);
  const nextQuery = next ? { cursor: next, limit: String(limit) } : undefined;
  return json(200, docs, pageHeaders(request, total, nextQuery));
});
