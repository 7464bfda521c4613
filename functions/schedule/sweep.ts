import { getBroker } from '../../lib/broker/connection.ts';
import { lambdaHandler } from '../../lib/invocation.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';

/** The EventBridge schedule (every minute; serverless-offline runs it locally too). */
export const handler = lambdaHandler(async (_event: unknown, context) => {
  // Every new AMQP session declares the exchange and the response queue: the first sweep after a deployment (within
  // a minute) creates them for the replies event source, and a sweep after a broker restart re-creates the
  // non-durable exchange. An outage is logged by getBroker and only delays what the sweep would publish.
  await getBroker().catch(() => undefined);
  return sweep(
    new Date(),
    defaultSweepDeps(() => context.getRemainingTimeInMillis()),
  );
});
