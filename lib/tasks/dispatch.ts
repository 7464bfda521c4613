import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import type { PublishTasksEvent } from '../model/task.ts';

/**
 * Hands the publishing of a large batch to the `publishTasks` function, invoked asynchronously, so the HTTP
 * request answers as soon as the tasks are stored. Async invoke payloads are limited to 256 KB, hence chunks.
 * If an invoke fails the tasks stay at 201 with a due time, and the sweep publishes them: nothing is lost.
 * 5,000 ids of 40 hex digits make a payload of about 215 KB. Each invocation works its ids in concurrent chunks
 * (PUBLISH_CONCURRENCY), so fewer, larger invocations publish as fast with fewer cold starts: measured through
 * serverless-offline, 5 cold invocations of 2,000 spent 4-5 s starting before their first publish.
 */
export const DISPATCH_CHUNK = 5_000;

let lambda: LambdaClient | undefined;

function client(): LambdaClient {
  const { lambdaEndpoint } = getConfig().publishing;
  lambda ??= new LambdaClient(lambdaEndpoint ? { endpoint: lambdaEndpoint } : {});
  return lambda;
}

export async function dispatchPublishing(
  taskIds: readonly string[],
): Promise<{ dispatched: number; failed: number }> {
  const { functionName } = getConfig().publishing;
  let dispatched = 0;
  let failed = 0;
  for (let i = 0; i < taskIds.length; i += DISPATCH_CHUNK) {
    const chunk = taskIds.slice(i, i + DISPATCH_CHUNK);
    const payload: PublishTasksEvent = { taskIds: chunk };
    try {
      await client().send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      dispatched += chunk.length;
    } catch (error) {
      failed += chunk.length;
      logger.error('Could not hand tasks to the publisher; the sweep will publish them', {
        functionName,
        tasks: chunk.length,
        error,
      });
    }
  }
  return { dispatched, failed };
}
