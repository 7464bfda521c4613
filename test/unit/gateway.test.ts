import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { configuredWorkerCredential } from '../../lib/auth/worker-credentials.ts';
import { parseConfig } from '../../lib/config.ts';
import {
  type Forwarder,
  type ForwardRequest,
  type ForwardResponse,
  ResponseTooLargeError,
  StoreUnavailableError,
} from '../../lib/gateway/forward.ts';
import {
  type GatewayDeps,
  type GatewayHttpRequest,
  handleGatewayRequest,
  LAMBDA_PAYLOAD_LIMIT_BYTES,
} from '../../lib/gateway/gateway.ts';
import type { Logger } from '../../lib/log.ts';

/** The gateway's decisions with its ports stubbed: the forwarder (OpenSearch) and the credential check. */

const INDEX = 'dane-index';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const WORKER = basic('elastic', 'changeme');

function harness(options: { anonymousRead?: boolean; forward?: Forwarder; maxBodyBytes?: number } = {}) {
  const forwarded: ForwardRequest[] = [];
  const lines: Record<string, unknown>[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (message, fields) => lines.push({ message, ...fields }),
    warn: (message, fields) => lines.push({ message, ...fields }),
    error: (message, fields) => lines.push({ message, ...fields }),
    child: () => log,
  };
  const forward: Forwarder =
    options.forward ??
    (async (request): Promise<ForwardResponse> => {
      forwarded.push(request);
      if (request.path === '/') {
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(
            '{"name":"n1","cluster_name":"c1","cluster_uuid":"u1","version":{"distribution":"opensearch"}}',
          ),
        };
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-upstream': 'yes' },
        body: Buffer.from('{"ok":1}'),
      };
    });
  const deps: GatewayDeps = {
    index: INDEX,
    anonymousRead: options.anonymousRead ?? true,
    checkWorker: configuredWorkerCredential({ username: 'elastic', password: 'changeme' }),
    forward,
    log,
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
  };
  const send = (
    method: string,
    path: string,
    init: { auth?: string; body?: Buffer | string; headers?: Record<string, string>; query?: string } = {},
  ) => {
    const request: GatewayHttpRequest = {
      method,
      path,
      rawQuery: init.query ?? '',
      headers: { ...(init.auth ? { authorization: init.auth } : {}), ...init.headers },
      body: init.body === undefined ? undefined : Buffer.from(init.body),
    };
    return handleGatewayRequest(request, deps);
  };
  return { send, forwarded, lines };
}

const json = (response: { body: Buffer }) => JSON.parse(response.body.toString('utf8'));

describe('worker gateway', () => {
  it('answers the info request as Elasticsearch 7.17, the way the elasticsearch7 client checks it', async () => {
    const { send } = harness();
    const response = await send('GET', '/', { auth: WORKER });
    expect(response.status).toBe(200);
    expect(response.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(json(response)).toMatchObject({
      name: 'n1',
      cluster_name: 'c1',
      cluster_uuid: 'u1',
      version: { number: '7.17.0', build_flavor: 'default' },
      tagline: 'You Know, for Search',
    });
    const head = await send('HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('forwards path, query string, body and content type unchanged, and the answer with its headers', async () => {
    const { send, forwarded } = harness();
    const body = '{"query":{"match_all":{}}}';
    const response = await send('POST', `/${INDEX}/_search`, {
      auth: WORKER,
      body,
      query: 'size=5&q=a+b%20c',
      headers: { 'content-type': 'application/vnd.elasticsearch+json; compatible-with=7' },
    });
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'x-upstream': 'yes', 'x-elastic-product': 'Elasticsearch' });
    expect(forwarded).toEqual([
      {
        method: 'POST',
        path: `/${INDEX}/_search`,
        querystring: 'size=5&q=a+b%20c',
        body,
        contentType: 'application/json',
      },
    ]);
  });

  it('inflates a gzip body, so the scope rules read what OpenSearch would', async () => {
    const { send, forwarded } = harness();
    const body = JSON.stringify({ query: { terms: { a: { index: 'other', id: '1', path: 'b' } } } });
    const response = await send('POST', `/${INDEX}/_search`, {
      auth: WORKER,
      body: gzipSync(body),
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    });
    expect(response.status).toBe(403);
    expect(forwarded).toEqual([]);
  });

  it('401 with a Basic challenge for wrong or unusable credentials, whatever the request', async () => {
    const { send, forwarded } = harness();
    for (const auth of [
      basic('elastic', 'wrong'),
      basic('other', 'changeme'),
      'Bearer abc',
      'Basic bm9jb2xvbg==',
    ]) {
      const response = await send('GET', `/${INDEX}/_search`, { auth });
      expect(response.status, auth).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="dane-worker-gateway"/);
      expect(json(response).error.type).toBe('security_exception');
    }
    expect(forwarded).toEqual([]);
  });

  it('anonymous mode: reads pass, writes need the credential (401), out-of-scope requests are 403', async () => {
    const { send, forwarded } = harness({ anonymousRead: true });
    expect((await send('POST', `/${INDEX}/_search`, { body: '{}' })).status).toBe(200);
    expect((await send('GET', `/${INDEX}/_doc/x`)).status).toBe(200);
    const write = await send('PUT', `/${INDEX}/_doc/x`, { body: '{}' });
    expect(write.status).toBe(401);
    expect(json(write).error.reason).toMatch(/anonymous access is read-only/);
    expect((await send('GET', '/_cluster/health')).status).toBe(403);
    expect(forwarded.map((f) => f.path)).toEqual([`/${INDEX}/_search`, `/${INDEX}/_doc/x`]);
  });

  it('without the anonymous mode every request needs the credential, the info request too', async () => {
    const { send, forwarded } = harness({ anonymousRead: false });
    for (const [method, path] of [
      ['GET', '/'],
      ['POST', `/${INDEX}/_search`],
    ] as const) {
      const response = await send(method, path);
      expect(response.status, path).toBe(401);
      expect(json(response).error.reason).toMatch(/worker credential is required/);
    }
    expect(forwarded).toEqual([]);
    expect((await send('POST', `/${INDEX}/_search`, { auth: WORKER })).status).toBe(200);
  });

  it('403 names the reason in the Elasticsearch error shape', async () => {
    const { send } = harness();
    const response = await send('GET', '/other/_search', { auth: WORKER });
    expect(response.status).toBe(403);
    expect(json(response)).toEqual({
      error: {
        root_cause: [
          { type: 'security_exception', reason: expect.stringContaining('`other` is another index') },
        ],
        type: 'security_exception',
        reason: expect.stringContaining('only the DANE index `dane-index` is served'),
      },
      status: 403,
    });
  });

  it('413 for a body over the limit, before anything is forwarded', async () => {
    const { send, forwarded } = harness({ maxBodyBytes: 100 });
    const response = await send('POST', `/${INDEX}/_bulk`, { auth: WORKER, body: 'x'.repeat(101) });
    expect(response.status).toBe(413);
    expect(json(response).error.reason).toMatch(
      /The request body \(101 bytes\) is over Lambda's payload limit of 100 bytes/,
    );
    expect(forwarded).toEqual([]);
    expect(LAMBDA_PAYLOAD_LIMIT_BYTES).toBe(6 * 1024 * 1024);
  });

  it('413 when the answer would not fit in a Lambda response; 503 when OpenSearch does not answer', async () => {
    const big = harness({
      forward: async () => {
        throw new ResponseTooLargeError(10);
      },
    });
    const tooBig = await big.send('POST', `/${INDEX}/_search`, { auth: WORKER });
    expect(tooBig.status).toBe(413);
    expect(json(tooBig).error.reason).toMatch(/The response is over Lambda's payload limit/);

    const down = harness({
      forward: async () => {
        throw new StoreUnavailableError('connect ECONNREFUSED');
      },
    });
    const unavailable = await down.send('POST', `/${INDEX}/_search`, { auth: WORKER });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('5');
    expect(json(unavailable).error.reason).toMatch(/OpenSearch\) is unavailable/);
    expect((await down.send('GET', '/', { auth: WORKER })).status).toBe(503);
  });

  it('logs one line per request with method, path, status and ms, never credentials or bodies', async () => {
    const { send, lines } = harness();
    await send('POST', `/${INDEX}/_search`, {
      auth: WORKER,
      body: '{"secret-query":1}',
      query: 'q=secret-term',
    });
    await send('GET', '/', { auth: basic('elastic', 'wrong-password') });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      method: 'POST',
      path: `/${INDEX}/_search`,
      status: 200,
      operation: 'search',
      auth: 'worker',
    });
    expect(typeof lines[0]?.ms).toBe('number');
    expect(lines[1]).toMatchObject({ method: 'GET', path: '/', status: 401 });
    const text = JSON.stringify(lines);
    for (const secret of ['changeme', 'wrong-password', 'secret-query', 'secret-term', WORKER.slice(6)]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('worker gateway configuration', () => {
  it('locally: the DANE library default credential and anonymous reads, unless set', () => {
    expect(parseConfig({}).gateway).toEqual({
      worker: { username: 'elastic', password: 'changeme' },
      anonymousRead: true,
      localPort: 9201,
    });
    expect(
      parseConfig({
        GATEWAY_WORKER_USERNAME: 'w',
        GATEWAY_WORKER_PASSWORD: 'p',
        GATEWAY_ANONYMOUS_READ: 'false',
        GATEWAY_PORT: '9300',
      }).gateway,
    ).toEqual({ worker: { username: 'w', password: 'p' }, anonymousRead: false, localPort: 9300 });
  });

  it('deployed: no default credential and no anonymous reads unless set', () => {
    expect(parseConfig({ DANE_STAGE: 'prod' }).gateway).toMatchObject({
      worker: undefined,
      anonymousRead: false,
    });
    expect(
      parseConfig({
        DANE_STAGE: 'prod',
        GATEWAY_WORKER_USERNAME: 'w',
        GATEWAY_WORKER_PASSWORD: 'p',
        GATEWAY_ANONYMOUS_READ: 'true',
      }).gateway,
    ).toMatchObject({
      worker: { username: 'w', password: 'p' },
      anonymousRead: true,
    });
    expect(() => parseConfig({ GATEWAY_ANONYMOUS_READ: 'yes' })).toThrow(/GATEWAY_ANONYMOUS_READ/);
  });

  it('compares credentials exactly', async () => {
    const check = configuredWorkerCredential({ username: 'elastic', password: 'changeme' });
    expect(await check('elastic', 'changeme')).toBe(true);
    expect(await check('elastic', 'changeme ')).toBe(false);
    expect(await check('Elastic', 'changeme')).toBe(false);
    expect(await configuredWorkerCredential(undefined)('elastic', 'changeme')).toBe(false);
  });
});
