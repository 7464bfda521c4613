import { removeDocuments } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parseQuery } from '../../lib/http/request.ts';
import { documentsDelete, idsFrom } from '../../lib/http/routes/documents.ts';

/** DELETE /DANE/documents?docs=...&docs[]=... */
export const handler = httpHandler(async (request) => {
  await removeDocuments(idsFrom(parseQuery(documentsDelete, request), ['docs', 'docs[]', 'doc', 'doc[]']));
  return json(200, '');
});
