import { listTasksOfDocument } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { documentTasks } from '../../lib/http/routes/documents.ts';

/** GET /DANE/document/{doc_id}/tasks */
export const handler = httpHandler(async (request) => {
  const { doc_id } = parsePath(documentTasks, request);
  return json(200, await listTasksOfDocument(doc_id));
});
