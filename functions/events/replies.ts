import { lambdaHandler } from '../../lib/invocation.ts';
import { RmqEventSchema } from '../../lib/model/rmq-event.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';

/**
 * Worker replies from DANE-response-queue through the Amazon MQ event source (locally: localstack's bridge).
 * Per-message problems are recorded and acknowledged; only an outage (OpenSearch down or not answering for some
 * tasks) fails the invocation, with a DependencyUnavailableError, so that the batch is delivered again rather
 * than lost.
 */
export const handler = lambdaHandler(async (event: unknown) => {
  const parsed = RmqEventSchema.parse(event);
  const raws = Object.values(parsed.rmqMessagesByQueue)
    .flat()
    .map((message) => ({
      correlationId: message.basicProperties.correlationId,
      body: Buffer.from(message.data, 'base64').toString('utf8'),
    }));
  return (await handleReplies(raws, new Date())).counts;
});
