import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { getStoreClient, resetStoreClient } from '../../lib/store/client.ts';
import { secretParts } from '../support/log-capture.ts';
import { freePorts } from '../support/offline.ts';

// functions/http/authorizer.ts under serverless-offline 14.8.2, in front of an echo function (test/e2e/auth/
// serverless.yml), with keys in the real OpenSearch. What API Gateway does is in the comments of each check.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INDEX = `${process.env.AUTH_KEYS_INDEX ?? 'dane-test-auth-keys'}-e2e`;
const PEPPER = 'e2e-test-pepper-0123456789abcdefghijklmn';

let child: ChildProcess;
let output = '';
let baseUrl = '';
const keys: Record<string, string> = {};
const store = new OpenSearchKeyStore(INDEX, 0);

beforeAll(async () => {
  await getStoreClient().indices.delete({ index: INDEX, ignore_unavailable: true });
  for (const [name, scopes] of [
    ['reader', ['read']],
    ['writer', ['write']],
    ['boss', ['admin']],
  ] as const) {
    keys[name] = (await createKey(store, PEPPER, { name, scopes: [...scopes] })).key;
  }
  // Below the ephemeral range, so no outgoing connection takes them before serverless-offline binds them.
  const port = await freePorts(2);
  const lambdaPort = port + 1;
  baseUrl = `http://127.0.0.1:${port}`;
  child = spawn(
    resolve(root, 'node_modules/.bin/serverless'),
    ['offline', 'start', '--httpPort', String(port), '--lambdaPort', String(lambdaPort)],
    {
      // The service directory must hold its serverless.yml; handler paths are relative to it.
      cwd: resolve(root, 'test/e2e/auth'),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AUTH_KEYS_INDEX: INDEX,
        AUTH_KEY_PEPPER: PEPPER,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
    },
  );
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`serverless offline did not start:\n${output}`);
    const ok = await fetch(`${baseUrl}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((wait) => setTimeout(wait, 250));
  }
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((done) => child.once('exit', done));
    process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  await getStoreClient().indices.delete({ index: INDEX, ignore_unavailable: true });
  await resetStoreClient();
});

const call = async (method: string, path: string, authorization?: string) => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: authorization === undefined ? {} : { authorization },
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
};
const bearer = (name: string) => `Bearer ${keys[name]}`;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the authorizer under serverless-offline', () => {
  it('leaves routes without the authorizer open', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('answers 401 without an Authorization header, before the authorizer runs (as API Gateway does)', async () => {
    expect((await call('GET', '/DANE/task/t1')).status).toBe(401);
  });

  it('lets a key with the scope through and hands its name to the route function', async () => {
    const read = await call('GET', '/DANE/task/t1', bearer('reader'));
    expect(read).toEqual({
      status: 200,
      body: {
        routeKey: 'GET /DANE/task/{task_id}',
        principal: { name: 'reader', kind: 'key', scopes: ['read'] },
      },
    });
    expect((await call('POST', '/DANE/task', bearer('writer'))).body.principal).toMatchObject({
      name: 'writer',
    });
    expect((await call('DELETE', '/DANE/documents', bearer('boss'))).status).toBe(200);
  });

  it('takes Basic credentials as dane-workflows sends them from ~/.netrc', async () => {
    const response = await call('GET', '/DANE/task/t1', basic('reader', keys.reader ?? ''));
    expect(response.status).toBe(200);
    expect(response.body.principal).toMatchObject({ name: 'reader' });
  });

  it('matches greedy routes (dane-workflows’ double slash) to their declared scope', async () => {
    const response = await call('GET', '/DANE/document//doc1/tasks', bearer('reader'));
    expect(response.status).toBe(200);
    expect(response.body.principal).toMatchObject({ name: 'reader' });
  });

  it.each([
    ['a key without the scope', 'POST', '/DANE/task', () => bearer('reader')],
    ['a write key on an admin route', 'DELETE', '/DANE/documents', () => bearer('writer')],
    ['a malformed header', 'GET', '/DANE/task/t1', () => 'Bearer'],
    ['an unknown key', 'GET', '/DANE/task/t1', () => `Bearer dane_nobody_${'0'.repeat(64)}`],
    ['a wrong secret', 'GET', '/DANE/task/t1', () => `Bearer dane_reader_${'0'.repeat(64)}`],
    ['a route that declares no scope', 'GET', '/DANE/undeclared', () => bearer('boss')],
  ])('refuses %s with 403 (isAuthorized: false, as on AWS)', async (_what, method, path, authorization) => {
    expect((await call(method, path, authorization())).status).toBe(403);
  });

  it('refuses a revoked key on its very next request', async () => {
    expect((await call('POST', '/DANE/task', bearer('writer'))).status).toBe(200);
    await store.revoke('writer', new Date().toISOString());
    expect((await call('POST', '/DANE/task', bearer('writer'))).status).toBe(403);
  });

  it('logged its decisions and no secret', () => {
    expect(output).toMatch(
      /"message":"denied".*"reason":"reader has scope read; POST \/DANE\/task needs write"/,
    );
    expect(output).toMatch(/"message":"authorized".*"principal":"boss"/);
    for (const secret of Object.values(keys).flatMap(secretParts)) expect(output).not.toContain(secret);
  });
});
