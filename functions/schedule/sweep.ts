import type { Context } from 'aws-lambda';
import { getBroker } from '../../lib/broker/connection.ts';
import { logger } from '../../lib/log.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';

/** The EventBridge schedule (every minute; serverless-offline runs it locally too). */
export const handler = async (_event: unknown, context: Context) => {
  const log = logger.child({ requestId: context.awsRequestId, function: 'sweep' });
  // Every new AMQP session declares the exchange and the response queue: the first sweep after a deployment (within a
  // minute) creates them for the replies event source, and a sweep after a broker restart re-creates the
  // non-durable exchange. An outage is logged by getBroker and only delays what the sweep would publish.
  await getBroker().catch(() => undefined);
  return sweep(
    new Date(),
    defaultSweepDeps(() => context.getRemainingTimeInMillis(), log),
  );
};
