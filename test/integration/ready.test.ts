import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { handler as health } from '../../functions/http/health.ts';
import { handler as ready } from '../../functions/http/ready.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { call } from '../support/http.ts';

const rabbit = (action: 'start' | 'stop') =>
  execFileSync('bash', ['localstack/rabbitmq.sh', action], { stdio: 'inherit', timeout: 170_000 });

afterAll(async () => {
  rabbit('start');
  await closeBroker();
});

describe('GET /health and GET /ready (real OpenSearch and RabbitMQ)', () => {
  it('/health answers 200 without touching dependencies', async () => {
    const response = await call(health, 'GET', '/health');
    expect(response.status).toBe(200);
  });

  it('/ready is 200 when both dependencies are up', async () => {
    const response = await call(ready, 'GET', '/ready');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ database: '200 OK', messagequeue: '200 OK' });
  });

  it('/ready is 503 naming the message queue while RabbitMQ is stopped, and recovers after', async () => {
    rabbit('stop');
    const started = Date.now();
    const down = await call(ready, 'GET', '/ready');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ database: '200 OK', messagequeue: '502 Bad Gateway' });
    expect((down.body as { message: string }).message).toContain('messagequeue');

    rabbit('start');
    const up = await call(ready, 'GET', '/ready');
    expect(up.status).toBe(200);
  });
});
