import { httpHandler, json } from '../../lib/http/handler.ts';

/** Liveness: answers without touching any dependency. */
export const handler = httpHandler(() => json(200, { status: 'ok' }));
