import { findDocument } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { documentGet } from '../../lib/http/routes/documents.ts';

/** GET /DANE/document/{doc_id} */
export const handler = httpHandler(async (request) => {
  const { doc_id } = parsePath(documentGet, request);
  return json(200, await findDocument(doc_id));
});
