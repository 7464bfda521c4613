import { findDocuments } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parseQuery } from '../../lib/http/request.ts';
import { documentsGet, idsFrom } from '../../lib/http/routes/documents.ts';

/** GET /DANE/documents?doc=...&doc[]=... */
export const handler = httpHandler(async (request) => {
  const ids = idsFrom(parseQuery(documentsGet, request), ['doc', 'doc[]']);
  return json(200, await findDocuments(ids));
});
