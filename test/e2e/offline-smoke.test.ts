import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Offline, startOffline } from '../support/offline.ts';

// The path a developer takes after `npm start`: the handlers bundled and served by serverless-offline,
// answering over real HTTP against the local OpenSearch and RabbitMQ.
let offline: Offline;

beforeAll(async () => {
  offline = await startOffline();
});

afterAll(async () => {
  await offline?.stop();
});

describe('serverless offline (npm start)', () => {
  it('answers GET /health', async () => {
    const response = await fetch(`${offline.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers GET /ready with both dependencies up', async () => {
    const response = await fetch(`${offline.baseUrl}/ready`);
    const body = await response.json();
    expect({ status: response.status, body }, offline.output().slice(-3000)).toEqual({
      status: 200,
      body: { database: '200 OK', messagequeue: '200 OK' },
    });
  });
});
