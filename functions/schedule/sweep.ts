import type { Context } from 'aws-lambda';
import { logger } from '../../lib/log.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';

/** The EventBridge schedule (every minute; serverless-offline runs it locally too). */
export const handler = async (_event: unknown, context: Context) => {
  const log = logger.child({ requestId: context.awsRequestId, function: 'sweep' });
  return sweep(
    new Date(),
    defaultSweepDeps(() => context.getRemainingTimeInMillis(), log),
  );
};
