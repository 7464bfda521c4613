import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { getConfig } from '../config.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import { declareTopology } from './topology.ts';

/**
 * One AMQP connection and one confirm channel per warm container, created lazily. When the broker closes
 * either (restart, heartbeat loss, a channel error such as a failed declaration) the cached session is dropped
 * and the next caller connects again, with a bounded connect timeout so no request waits for minutes.
 */
export interface BrokerSession {
  connection: ChannelModel;
  channel: ConfirmChannel;
}

let session: Promise<BrokerSession> | undefined;
let current: BrokerSession | undefined;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function open(): Promise<BrokerSession> {
  const { url, connectTimeoutMs } = getConfig().amqp;
  // noDelay: amqplib leaves Nagle's algorithm on, and a small frame that waits for the ACK of the one before
  // (a channel opened after a passive declaration of a missing queue closed the last one) waited some 40 ms.
  const connecting = amqp.connect(url, { timeout: connectTimeoutMs, noDelay: true });
  // If the race below times out, a late connection must not leak.
  connecting.catch(() => undefined);
  const connection = await withTimeout(connecting, connectTimeoutMs, 'AMQP connect').catch((error) => {
    connecting.then((late) => late.close().catch(() => undefined)).catch(() => undefined);
    throw error;
  });
  const drop = (reason: string) => (error?: Error) => {
    if (current?.connection === connection) {
      logger.warn('AMQP session dropped', { reason, error });
      current = undefined;
      session = undefined;
    }
  };
  connection.on('close', drop('connection closed'));
  connection.on('error', drop('connection error'));
  try {
    const channel = await withTimeout(connection.createConfirmChannel(), connectTimeoutMs, 'AMQP channel');
    channel.on('close', () => {
      if (current?.channel === channel) {
        drop('channel closed')();
        connection.close().catch(() => undefined);
      }
    });
    channel.on('error', (error: Error) => logger.warn('AMQP channel error', { error }));
    await withTimeout(declareTopology(channel), connectTimeoutMs, 'AMQP topology');
    current = { connection, channel };
    return current;
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

/** The shared session; rejects with a DependencyUnavailableError when the broker cannot be reached. */
export function getBroker(): Promise<BrokerSession> {
  session ??= open().catch((error: unknown) => {
    session = undefined;
    logger.error('RabbitMQ unavailable', { error });
    throw new DependencyUnavailableError(
      'messagequeue',
      'The message queue (RabbitMQ) is unavailable; try again later',
      error,
    );
  });
  return session;
}

export async function closeBroker(): Promise<void> {
  const old = current;
  current = undefined;
  session = undefined;
  await old?.connection.close().catch(() => undefined);
}
