import { httpHandler, json } from '../../lib/http/handler.ts';
import { overview } from '../../lib/tasks/overview.ts';

/** GET /DANE/overview: the dashboard's counts per key, with the worker queues. */
export const handler = httpHandler(async () => json(200, await overview()));
