import { httpHandler, json } from '../../lib/http/handler.ts';
import { listWorkers } from '../../lib/tasks/workers.ts';

export const handler = httpHandler(async () => json(200, await listWorkers()));
