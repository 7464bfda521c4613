import { lambdaHandler } from '../../lib/invocation.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';

/** The EventBridge schedule (every minute; serverless-offline runs it locally too). */
export const handler = lambdaHandler(async (_event: unknown, context) =>
  sweep(
    new Date(),
    defaultSweepDeps(() => context.getRemainingTimeInMillis()),
  ),
);
