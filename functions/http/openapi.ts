import { httpHandler, json } from '../../lib/http/handler.ts';
import { getOpenApiDocument } from '../../lib/http/openapi.ts';

/** GET /DANE/openapi.json */
export const handler = httpHandler(() => json(200, getOpenApiDocument()));
