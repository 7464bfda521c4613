import type { Context } from 'aws-lambda';
import { logger } from '../../lib/log.ts';
import { RmqEventSchema } from '../../lib/model/rmq-event.ts';
import { handleReplies } from '../../lib/tasks/replies.ts';

/**
 * Worker replies from DANE-response-queue through the Amazon MQ event source (locally: localstack's bridge).
 * Per-message problems are recorded and acknowledged; only an outage (OpenSearch down) fails the invocation,
 * so that the batch is delivered again rather than lost.
 */
export const handler = async (event: unknown, context: Context) => {
  const log = logger.child({ requestId: context.awsRequestId, function: 'replies' });
  const parsed = RmqEventSchema.parse(event);
  const raws = Object.values(parsed.rmqMessagesByQueue)
    .flat()
    .map((message) => ({
      correlationId: message.basicProperties.correlationId,
      body: Buffer.from(message.data, 'base64').toString('utf8'),
    }));
  const report = await handleReplies(raws, new Date(), log);
  return report.counts;
};
