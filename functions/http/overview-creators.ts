import { httpHandler, json } from '../../lib/http/handler.ts';
import { creatorsOverview } from '../../lib/tasks/overview.ts';

/** GET /DANE/overview/creators: the dashboard's counts per creator (batch). */
export const handler = httpHandler(async () => json(200, await creatorsOverview()));
