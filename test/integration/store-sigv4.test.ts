import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.ts';
import { createStoreClient } from '../../lib/store/client.ts';

// Amazon OpenSearch Service with IAM access: every request is signed with the function role's credentials (here
// the dummy ones of the test environment). The local node ignores signatures, so the client talks to it through
// a recording pass-through proxy: the request is real, and what went over the wire can be checked.
process.env.OPENSEARCH_AUTH = 'sigv4';

const seen: IncomingHttpHeaders[] = [];
const upstream = new URL(getConfig().opensearch.url);
const proxy = createServer((incoming, outgoing) => {
  seen.push(incoming.headers);
  const forward = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: incoming.url,
      method: incoming.method,
      headers: incoming.headers,
    },
    (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    },
  );
  incoming.pipe(forward);
});

beforeAll(async () => {
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
});

describe('OpenSearch client with OPENSEARCH_AUTH=sigv4', () => {
  it('signs every request with AWS Signature Version 4', async () => {
    expect(getConfig().opensearch.auth).toBe('sigv4');
    const client = createStoreClient(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    const health = await client.cluster.health({});
    expect(health.statusCode).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-1\/es\/aws4_request/,
    );
    expect(seen[0]?.['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    await client.close();
  });
});
