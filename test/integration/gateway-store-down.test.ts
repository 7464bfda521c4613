import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessGateway } from '../support/gateway.ts';

/**
 * The worker gateway while OpenSearch is down, without touching the shared OpenSearch: the gateway (the same
 * handler and function-URL adapter as `npm start`) is pointed at a port where nothing listens, and at a server
 * that accepts connections but never answers (a hung node). Both must give a prompt 503, never a hang.
 */

// Read by lib/config at first use, i.e. after this line: the hung node is given up on after 1.5 s.
process.env.OPENSEARCH_REQUEST_TIMEOUT_MS = '1500';

const WORKER = `Basic ${Buffer.from('elastic:changeme').toString('base64')}`;
const index = process.env.DANE_INDEX as string;
let hung: Server;
const sockets = new Set<Socket>();

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

beforeAll(async () => {
  hung = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

async function expect503(gatewayUrl: string, method: string, path: string, withinMs: number) {
  const started = Date.now();
  const response = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: { authorization: WORKER, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: '{"query":{"match_all":{}}}' } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const took = Date.now() - started;
  expect(response.status, `${method} ${path}`).toBe(503);
  expect(response.headers.get('retry-after')).toBe('5');
  if (method !== 'HEAD') {
    const body = (await response.json()) as { error: { reason: string } };
    expect(body.error.reason).toMatch(/OpenSearch\) is unavailable/);
  }
  expect(took, `${method} ${path} took ${took} ms`).toBeLessThan(withinMs);
}

describe('worker gateway with OpenSearch down', () => {
  it('answers 503 at once when nothing listens at the OpenSearch URL', async () => {
    // Bind and release a port, so that nothing listens there.
    const probe = createServer();
    const deadPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const gateway = await startInProcessGateway({ opensearchUrl: `http://127.0.0.1:${deadPort}` });
    try {
      // The product check, the worker's ping, and a search: all refused connections, answered within a second.
      await expect503(gateway.url, 'GET', '/', 1_000);
      await expect503(gateway.url, 'HEAD', '/', 1_000);
      await expect503(gateway.url, 'POST', `/${index}/_search`, 1_000);
    } finally {
      await gateway.close();
    }
  });

  it('answers 503 after the request timeout when OpenSearch accepts connections but never answers', async () => {
    const gateway = await startInProcessGateway({ opensearchUrl: `http://127.0.0.1:${await listen(hung)}` });
    try {
      // OPENSEARCH_REQUEST_TIMEOUT_MS is 1.5 s here; 5 s leaves room for a slow machine and still fails a hang.
      await expect503(gateway.url, 'POST', `/${index}/_search`, 5_000);
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      await gateway.close();
    }
  });
});
