import { httpHandler, json } from '../../lib/http/handler.ts';
import { checkReadiness } from '../../lib/ops/readiness.ts';

export const handler = httpHandler(async () => {
  const { ready, database, messagequeue } = await checkReadiness();
  const down = [database !== '200 OK' && 'database', messagequeue !== '200 OK' && 'messagequeue'].filter(
    Boolean,
  );
  return json(ready ? 200 : 503, {
    database,
    messagequeue,
    ...(ready ? {} : { message: `Not ready: ${down.join(' and ')} unavailable` }),
  });
});
