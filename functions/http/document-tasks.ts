import { documentIdOfTasksPath, listTasksOfDocument } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { documentTasks, documentTasksDoubleSlash } from '../../lib/http/routes/documents.ts';

/** GET /DANE/document/{doc_id}/tasks, and GET /DANE/document//{doc_id}/tasks as dane-workflows sends it */
export const handler = httpHandler(async (request) => {
  const docId =
    request.pathParameters.proxy === undefined
      ? parsePath(documentTasks, request).doc_id
      : documentIdOfTasksPath(parsePath(documentTasksDoubleSlash, request).proxy);
  return json(200, await listTasksOfDocument(docId));
});
