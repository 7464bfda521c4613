import { registerDocuments } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';

/** POST /DANE/documents */
export const handler = httpHandler(async (request) =>
  json(200, await registerDocuments(request.rawBody, request.body)),
);
