import { findResult } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { resultGet } from '../../lib/http/routes/documents.ts';

/** GET /DANE/result/{result_id} */
export const handler = httpHandler(async (request) => {
  const { result_id } = parsePath(resultGet, request);
  return json(200, await findResult(result_id));
});
