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

  // serverless-offline parses a JSON body itself and hands over that value when it is falsy or a string; every
  // such body must still be a 400 that names the problem.
  it.each(['0', 'false', '"x"', 'null', '[]'])(
    'answers 400 for the JSON body %s where an object is needed',
    async (raw) => {
      for (const path of ['/DANE/task', '/DANE/document']) {
        const response = await fetch(`${offline.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: offline.keys.admin.authorization },
          body: raw,
        });
        const body = (await response.json()) as { message: string };
        expect({ path, status: response.status }, offline.output().slice(-3000)).toEqual({
          path,
          status: 400,
        });
        expect(body.message).toMatch(/^Invalid body: /);
      }
    },
  );
});
