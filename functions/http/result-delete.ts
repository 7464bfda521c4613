import { removeResult } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { resultDelete } from '../../lib/http/routes/documents.ts';

/** DELETE /DANE/result/{result_id} */
export const handler = httpHandler(async (request) => {
  const { result_id } = parsePath(resultDelete, request);
  await removeResult(result_id);
  return json(200, '');
});
