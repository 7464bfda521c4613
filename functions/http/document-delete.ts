import { removeDocument } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { documentDelete } from '../../lib/http/routes/documents.ts';

/** DELETE /DANE/document/{doc_id}, and GET /DANE/document/{doc_id}/delete (0.2.2) */
export const handler = httpHandler(async (request) => {
  const { doc_id } = parsePath(documentDelete, request);
  await removeDocument(doc_id);
  return json(200, '');
});
