import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { workersReset, workersResetState } from '../../lib/http/routes/workers.ts';
import { massReset } from '../../lib/tasks/workers.ts';

/** POST (and GET, for existing clients) /DANE/workers/{task_key}/reset[/{state}]. */
export const handler = httpHandler(async (request) => {
  if (request.pathParameters.state === undefined) {
    return json(200, await massReset(parsePath(workersReset, request).task_key, 500));
  }
  const { task_key, state } = parsePath(workersResetState, request);
  return json(200, await massReset(task_key, state));
});
