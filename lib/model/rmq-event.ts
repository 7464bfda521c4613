import { z } from 'zod';

/**
 * The event the Amazon MQ (RabbitMQ) event source hands a Lambda: messages grouped by `<queue>::<vhost>`, bodies
 * base64-encoded. `@types/aws-lambda` has no type for it, so it is declared (and checked) here.
 */
export const RmqMessageSchema = z.object({
  basicProperties: z
    .looseObject({
      correlationId: z.string().nullish(),
      replyTo: z.string().nullish(),
    })
    .default({}),
  redelivered: z.boolean().optional(),
  data: z.string(),
});

export const RmqEventSchema = z.object({
  eventSource: z.literal('aws:rmq'),
  eventSourceArn: z.string().optional(),
  rmqMessagesByQueue: z.record(z.string(), z.array(RmqMessageSchema)),
});
export type RmqEvent = z.infer<typeof RmqEventSchema>;
