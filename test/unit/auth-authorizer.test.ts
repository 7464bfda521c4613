import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizerHandler } from '../../functions/http/authorizer.ts';
import {
  type AuthorizerDeps,
  decide,
  normaliseRouteKey,
  principalOf,
  toSimpleResponse,
} from '../../lib/auth/authorizer.ts';
import { createJwtVerifier } from '../../lib/auth/jwt.ts';
import { MemoryKeyStore } from '../../lib/auth/key-store.ts';
import { createKey, KeyVerifier } from '../../lib/auth/keys.ts';
import { captureLogs, secretParts } from '../support/log-capture.ts';

const PEPPER = 'unit-test-pepper-0123456789abcdefghij';
const routeScopes = {
  'GET /DANE/task/{task_id}': 'read',
  'POST /DANE/task': 'write',
  'DELETE /DANE/documents': 'admin',
  'GET /DANE/document/{proxy+}': 'read',
  'POST /gateway/_bulk': 'worker',
} as const;

const logs = captureLogs();
afterAll(() => logs.stop());

const store = new MemoryKeyStore();
const keys: Record<string, string> = {};
let deps: AuthorizerDeps;
let jwtFor: (scope: string) => Promise<string>;

beforeAll(async () => {
  for (const [name, scopes] of [
    ['reader', ['read']],
    ['writer', ['write']],
    ['boss', ['admin']],
    ['worker-1', ['worker']],
    ['gone', ['admin']],
  ] as const) {
    keys[name] = (await createKey(store, PEPPER, { name, scopes: [...scopes] })).key;
  }
  await store.revoke('gone', new Date().toISOString());
  const pair = await generateKeyPair('ES256');
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k' }] });
  jwtFor = (scope) =>
    new SignJWT({ scope })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .setIssuer('https://idp.example')
      .setAudience('dane')
      .setSubject('carol')
      .setExpirationTime('5m')
      .sign(pair.privateKey);
  deps = {
    mode: 'keys',
    routeScopes,
    keys: new KeyVerifier({ store, pepper: PEPPER }),
    jwt: createJwtVerifier(
      {
        issuer: 'https://idp.example',
        audience: 'dane',
        jwksUrl: 'https://idp.example/jwks',
        scopesClaim: 'scope',
        scopePrefix: '',
        nameClaim: 'sub',
      },
      jwks,
    ),
  };
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const key = (name: string) => keys[name] ?? '';

describe('decide', () => {
  it.each([
    ['reader', 'GET /DANE/task/{task_id}'],
    ['writer', 'GET /DANE/task/{task_id}'],
    ['writer', 'POST /DANE/task'],
    ['boss', 'POST /DANE/task'],
    ['boss', 'DELETE /DANE/documents'],
    ['worker-1', 'POST /gateway/_bulk'],
  ])('lets %s through %s', async (name, routeKey) => {
    const decision = await decide({ routeKey, headers: bearer(key(name)) }, deps);
    expect(decision).toMatchObject({ allow: true, principal: { name, kind: 'key' } });
  });

  it.each([
    ['reader', 'POST /DANE/task', /reader has scope read; POST \/DANE\/task needs write/],
    ['writer', 'DELETE /DANE/documents', /needs admin/],
    ['boss', 'POST /gateway/_bulk', /needs worker/],
    ['worker-1', 'GET /DANE/task/{task_id}', /needs read/],
  ])('refuses %s on %s with 403', async (name, routeKey, reason) => {
    const decision = await decide({ routeKey, headers: bearer(key(name)) }, deps);
    expect(decision).toMatchObject({ allow: false, status: 403, principal: { name } });
    expect(decision.reason).toMatch(reason);
  });

  it('takes Basic with the key name as user and the key as password (dane-workflows, DANE workers)', async () => {
    const ok = await decide({ routeKey: 'POST /DANE/task', headers: basic('writer', key('writer')) }, deps);
    expect(ok).toMatchObject({ allow: true, principal: { name: 'writer' } });
    const wrongUser = await decide(
      { routeKey: 'POST /DANE/task', headers: basic('boss', key('writer')) },
      deps,
    );
    expect(wrongUser).toMatchObject({ allow: false, status: 401 });
    const notKey = await decide({ routeKey: 'POST /DANE/task', headers: basic('writer', 'hunter2') }, deps);
    expect(notKey).toMatchObject({ allow: false, status: 401, reason: 'Credential is not a DANE API key' });
  });

  it.each([
    ['no header', () => ({}), /No credentials/],
    ['an empty header', () => ({ authorization: '' }), /No credentials/],
    ['a malformed header', () => ({ authorization: 'Bearer' }), /without credentials/],
    ['another scheme', () => ({ authorization: 'Digest x' }), /Bearer or Basic/],
    ['a revoked key', () => bearer(key('gone')), /revoked/],
    ['a key with a wrong secret', () => bearer(`dane_reader_${'0'.repeat(64)}`), /Wrong secret/],
    ['an unknown key', () => bearer(`dane_nobody_${'0'.repeat(64)}`), /No key named "nobody"/],
    ['a random token', () => bearer('abc'), /neither a DANE API key nor a JWT/],
  ])('refuses %s with 401', async (_what, headers, reason) => {
    const decision = await decide({ routeKey: 'GET /DANE/task/{task_id}', headers: headers() }, deps);
    expect(decision).toMatchObject({ allow: false, status: 401 });
    expect(decision.reason).toMatch(reason);
  });

  it('refuses a route that declares no scope, whoever asks (fail closed)', async () => {
    const decision = await decide({ routeKey: 'GET /DANE/new-route', headers: bearer(key('boss')) }, deps);
    expect(decision).toEqual({
      allow: false,
      status: 403,
      reason: 'Route GET /DANE/new-route declares no scope',
    });
  });

  it('takes OIDC tokens with their scopes when configured, and refuses them otherwise', async () => {
    const jwt = await jwtFor('read write');
    expect(await decide({ routeKey: 'POST /DANE/task', headers: bearer(jwt) }, deps)).toMatchObject({
      allow: true,
      principal: { name: 'oidc:carol', kind: 'oidc', scopes: ['read', 'write'] },
    });
    expect(await decide({ routeKey: 'DELETE /DANE/documents', headers: bearer(jwt) }, deps)).toMatchObject({
      allow: false,
      status: 403,
    });
    const noOidc = { ...deps, jwt: undefined };
    expect(await decide({ routeKey: 'POST /DANE/task', headers: bearer(jwt) }, noOidc)).toMatchObject({
      allow: false,
      status: 401,
      reason: expect.stringMatching(/not a DANE API key/),
    });
  });

  it('lets everything through in AUTH_MODE=none', async () => {
    const decision = await decide(
      { routeKey: 'DELETE /DANE/documents', headers: {} },
      { ...deps, mode: 'none' },
    );
    expect(decision).toMatchObject({ allow: true, principal: { name: 'anonymous' } });
  });

  it('matches route keys in the form serverless-offline reports them', async () => {
    expect(normaliseRouteKey('get /DANE/document/{proxy*}')).toBe('GET /DANE/document/{proxy+}');
    expect(normaliseRouteKey('GET /DANE/task/{task_id}/')).toBe('GET /DANE/task/{task_id}');
    expect(normaliseRouteKey('GET /')).toBe('GET /');
    const decision = await decide(
      { routeKey: 'GET /DANE/document/{proxy*}', headers: bearer(key('reader')) },
      deps,
    );
    expect(decision.allow).toBe(true);
  });
});

describe('simple responses', () => {
  it('carries the principal as string context on allow, nothing on deny', () => {
    expect(
      toSimpleResponse({
        allow: true,
        principal: { name: 'ci', kind: 'key', scopes: ['read', 'write'] },
        required: 'read',
        reason: '',
      }),
    ).toEqual({ isAuthorized: true, context: { principal: 'ci', kind: 'key', scopes: 'read,write' } });
    expect(toSimpleResponse({ allow: false, status: 401, reason: 'x' })).toEqual({ isAuthorized: false });
  });

  it('reads the principal back from the route function’s event', () => {
    const event = {
      requestContext: { authorizer: { lambda: { principal: 'ci', kind: 'key', scopes: 'read,write' } } },
    };
    expect(principalOf(event)).toEqual({ name: 'ci', kind: 'key', scopes: ['read', 'write'] });
    expect(principalOf({ requestContext: {} })).toBeUndefined();
  });
});

describe('authorizer handler', () => {
  const handler = () => createAuthorizerHandler(() => deps);

  // As serverless-offline 14.8.2 builds it (createAuthScheme.js): raw header case, hapi's path in the route key.
  const offlineEvent = (headers: Record<string, string>, routeKey: string) =>
    ({
      version: '2.0',
      type: 'REQUEST',
      headers: { Host: '127.0.0.1:3000', ...headers },
      identitySource: [headers.Authorization ?? ''],
      routeKey,
      requestContext: { routeKey, http: { method: routeKey.split(' ')[0] } },
    }) as unknown as APIGatewayRequestAuthorizerEventV2;

  // As API Gateway sends it: lowercased header names.
  const awsEvent = (headers: Record<string, string>, routeKey: string) =>
    ({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/$default/GET/x',
      identitySource: [headers.authorization ?? ''],
      routeKey,
      rawPath: '/x',
      rawQueryString: '',
      cookies: [],
      headers,
      requestContext: { routeKey },
    }) as unknown as APIGatewayRequestAuthorizerEventV2;

  it('answers the same for the offline and the AWS event shapes', async () => {
    const h = handler();
    const ctx = { awsRequestId: 'r-1' };
    expect(
      await h(offlineEvent({ Authorization: `Bearer ${key('reader')}` }, 'GET /DANE/document/{proxy*}'), ctx),
    ).toEqual({ isAuthorized: true, context: { principal: 'reader', kind: 'key', scopes: 'read' } });
    expect(
      await h(awsEvent({ authorization: `Bearer ${key('reader')}` }, 'GET /DANE/document/{proxy+}'), ctx),
    ).toEqual({ isAuthorized: true, context: { principal: 'reader', kind: 'key', scopes: 'read' } });
    expect(
      await h(offlineEvent({ Authorization: `Bearer ${key('reader')}` }, 'POST /DANE/task'), ctx),
    ).toEqual({
      isAuthorized: false,
    });
    expect(await h(awsEvent({}, 'POST /DANE/task'), ctx)).toEqual({ isAuthorized: false });
  });

  it('logs each denial with its reason and principal, and throws (never allows) when the store is down', async () => {
    const h = handler();
    await h(awsEvent({ authorization: `Bearer ${key('reader')}` }, 'POST /DANE/task'), {
      awsRequestId: 'r-2',
    });
    const denial = logs.lines().find((line) => line.includes('"requestId":"r-2"'));
    expect(JSON.parse(denial ?? '{}')).toMatchObject({
      message: 'denied',
      routeKey: 'POST /DANE/task',
      principal: 'reader',
      status: 403,
      required: 'write',
    });

    const down = new MemoryKeyStore();
    down.get = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    const broken = createAuthorizerHandler(() => ({
      ...deps,
      keys: new KeyVerifier({ store: down, pepper: PEPPER }),
    }));
    await expect(
      broken(awsEvent({ authorization: `Bearer ${key('reader')}` }, 'GET /DANE/task/{task_id}'), {
        awsRequestId: 'r-3',
      }),
    ).rejects.toThrow('Authorizer unavailable');
    expect(
      logs.lines().some((line) => line.includes('"requestId":"r-3"') && line.includes('could not decide')),
    ).toBe(true);
  });
});

// Last in the file: every request above has been decided and logged by now.
it('wrote no key or secret to any log line', () => {
  const secrets = Object.values(keys).flatMap(secretParts);
  expect(secrets.length).toBe(10);
  const lines = logs.lines();
  expect(lines.some((line) => line.includes('"message":"denied"'))).toBe(true);
  expect(lines.filter((line) => secrets.some((secret) => line.includes(secret)))).toEqual([]);
});
