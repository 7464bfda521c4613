import type { Context } from 'aws-lambda';
import { getConfig } from './config.ts';
import { withLogContext } from './log.ts';

/**
 * The wrapper of every function. Creating it parses the configuration, at module load, i.e. at cold start: a
 * missing or malformed variable fails the function's initialisation with the variable's name, before any request
 * is taken. Each invocation runs with its request id and function name on every log line written meanwhile.
 */
export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  getConfig();
  return (event: E, context: Context): Promise<R> =>
    withLogContext({ requestId: context.awsRequestId, function: context.functionName }, () =>
      fn(event, context),
    );
}
