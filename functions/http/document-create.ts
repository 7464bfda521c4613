import { registerDocument } from '../../lib/documents/service.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';

/** POST /DANE/document */
export const handler = httpHandler(async (request) => json(200, await registerDocument(request.rawBody)));
