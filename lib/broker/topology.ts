import type { Channel } from 'amqplib';
import { getConfig } from '../config.ts';

/**
 * Declares what the server owns. The exchange arguments must equal what Python workers declare (topic,
 * non-durable, no arguments), or RabbitMQ refuses one side with PRECONDITION_FAILED. The response queue is
 * durable so replies survive a broker restart. Worker queues are the workers' own and are never declared here.
 */
export async function declareTopology(channel: Channel): Promise<void> {
  const { exchange, responseQueue } = getConfig().amqp;
  await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false, internal: false });
  await channel.assertQueue(responseQueue, { durable: true, exclusive: false, autoDelete: false });
}
