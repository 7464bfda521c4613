import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call } from '../support/http.ts';

// A port on loopback where nothing listens: OpenSearch is unreachable for this process only, so the shared
// test cluster keeps running for the other files. The config is read once per process, hence the fresh import.
let ready: unknown;
let closeBroker: () => Promise<void>;

beforeAll(async () => {
  vi.resetModules();
  process.env.OPENSEARCH_URL = 'http://127.0.0.1:1';
  ({ handler: ready } = await import('../../functions/http/ready.ts'));
  ({ closeBroker } = await import('../../lib/broker/connection.ts'));
});

afterAll(async () => {
  await closeBroker();
  delete process.env.OPENSEARCH_URL;
});

describe('GET /ready with OpenSearch unreachable', () => {
  it('is 503 naming the database, promptly', async () => {
    const started = Date.now();
    const response = await call(ready, 'GET', '/ready');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ database: '502 Bad Gateway', messagequeue: '200 OK' });
    expect((response.body as { message: string }).message).toContain('database');
  });
});
