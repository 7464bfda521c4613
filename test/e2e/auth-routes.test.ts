import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { routeKeyOf } from '../../lib/auth/route-scopes.ts';
import type { Scope } from '../../lib/auth/scopes.ts';
import { routes } from '../../lib/http/routes/index.ts';
import type { RouteSpec } from '../../lib/http/routes/types.ts';
import { secretParts } from '../support/log-capture.ts';
import { type Offline, startOffline, type TestKey } from '../support/offline.ts';

/**
 * The registry walk: every route of lib/http/routes, through serverless-offline with serverless.yml's
 * authorizer, as API Gateway would answer it. Without credentials 401 (the gateway itself, the header is the
 * identity source); a malformed, an unknown-secret and a revoked key 403 (an HTTP API authorizer's `false` is
 * always 403: README "401 and 403"); a key without the route's scope 403; a key with it anything but 401/403
 * (the route then runs: ids that exist nowhere, so it answers 404/400/200 and changes nothing real).
 */

let offline: Offline;
let apiMade: TestKey | undefined;
const keys: Partial<Record<'read' | 'write' | 'admin' | 'worker' | 'revoked', TestKey>> = {};

beforeAll(async () => {
  offline = await startOffline({ env: { SWEEP_ENABLED: 'false', LOG_LEVEL: 'info' }, emulateEvents: false });
  for (const scope of ['read', 'write', 'admin', 'worker'] as const) {
    keys[scope] = await offline.createKey(`walk-${scope}`, [scope]);
  }
  keys.revoked = await offline.createKey('walk-revoked', ['admin']);
}, 180_000);

afterAll(async () => {
  await offline?.stop();
});

const run = Math.random().toString(36).slice(2, 8);
const samples: Record<string, string> = {
  action: 'retry',
  state: '102',
  proxy: `walk-${run}/tasks`,
  task_key: `WALK${run.toUpperCase()}`,
  name: `walk-missing-${run}`,
};

/** A concrete path of the route, with ids that exist nowhere. */
const pathOf = (route: RouteSpec) =>
  route.path.replace(/\{(\w+)\+?\}/g, (_, name: string) => samples[name] ?? `walk-${run}-${name}`);

async function call(route: RouteSpec, authorization?: string) {
  const response = await fetch(`${offline.baseUrl}${pathOf(route)}`, {
    method: route.method.toUpperCase(),
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(route.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(route.body ? { body: '{}' } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  await response.text();
  return response.status;
}

/** A scope held by no key that may call a route needing `required`. */
const lacking: Record<Scope, 'read' | 'write' | 'worker'> = {
  read: 'worker',
  write: 'read',
  admin: 'write',
  worker: 'read',
};

const bearer = (key: TestKey) => `Bearer ${key.key}`;
const basic = (key: TestKey) => `Basic ${Buffer.from(`${key.name}:${key.key}`).toString('base64')}`;
const must = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('missing test key');
  return value;
};

describe('every route of the registry behind the authorizer', () => {
  it('revokes the key the walk uses as revoked (it worked before)', async () => {
    const store = new OpenSearchKeyStore(offline.keyIndex, 0);
    const revoked = must(keys.revoked);
    const probe = routes.find((route) => routeKeyOf(route) === 'GET /DANE/workers') as RouteSpec;
    expect(await call(probe, bearer(revoked))).toBe(200);
    await store.revoke(revoked.name, new Date().toISOString());
    // Takes effect on the next request: the authorizer has no cache (resultTtlInSeconds 0, AUTH_KEY_CACHE_MS 0).
    expect(await call(probe, bearer(revoked))).toBe(403);
  });

  const protectedRoutes = routes.filter((route) => route.scope !== 'public');
  it.each(protectedRoutes.map((route) => [routeKeyOf(route), route] as const))('%s', async (_, route) => {
    const required = route.scope as Scope;
    const withScope = must(keys[required]);
    const without = must(keys[lacking[required]]);
    const statuses = {
      none: await call(route),
      malformed: await call(route, 'Bearer not-a-key'),
      garbageBasic: await call(route, 'Basic %%%'),
      wrongSecret: await call(route, `Bearer ${withScope.key.slice(0, -64)}${'0'.repeat(64)}`),
      revoked: await call(route, bearer(must(keys.revoked))),
      lackingScope: await call(route, bearer(without)),
    };
    expect(statuses).toEqual({
      none: 401,
      malformed: 403,
      garbageBasic: 403,
      wrongSecret: 403,
      revoked: 403,
      lackingScope: 403,
    });
    for (const authorization of [bearer(withScope), basic(withScope)]) {
      const status = await call(route, authorization);
      expect({ route: routeKeyOf(route), status, ok: status !== 401 && status !== 403 }).toMatchObject({
        ok: true,
      });
    }
  });

  it.each(routes.filter((route) => route.scope === 'public').map(routeKeyOf))(
    '%s is public: it answers without credentials',
    async (key) => {
      const route = routes.find((r) => routeKeyOf(r) === key) as RouteSpec;
      expect([401, 403]).not.toContain(await call(route));
    },
  );

  it('manages keys over the API with an admin key: create (shown once), list (never secrets), revoke', async () => {
    const admin = { authorization: bearer(must(keys.admin)), 'content-type': 'application/json' };
    const name = `api-made-${run}`;
    const created = await fetch(`${offline.baseUrl}/DANE/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name, scopes: ['read'] }),
    });
    const body = (await created.json()) as { name: string; scopes: string[]; key: string };
    expect({ status: created.status, name: body.name, scopes: body.scopes }).toEqual({
      status: 201,
      name,
      scopes: ['read'],
    });
    apiMade = { name, key: body.key, authorization: `Bearer ${body.key}` };
    const workers = routes.find((route) => routeKeyOf(route) === 'GET /DANE/workers') as RouteSpec;
    expect(await call(workers, apiMade.authorization)).toBe(200);

    const listed = await fetch(`${offline.baseUrl}/DANE/keys`, { headers: admin });
    const text = await listed.text();
    expect(listed.status).toBe(200);
    expect(JSON.parse(text)).toEqual(
      expect.arrayContaining([expect.objectContaining({ name, scopes: ['read'], revokedAt: null })]),
    );
    expect(text).not.toContain(body.key.slice(-64));
    expect(text).not.toContain('hmac-sha256');

    // A taken name is a 409 (a key without admin is refused: the walk above).
    const again = await fetch(`${offline.baseUrl}/DANE/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name, scopes: ['read'] }),
    });
    expect(again.status).toBe(409);

    const revoked = await fetch(`${offline.baseUrl}/DANE/keys/${name}`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    expect(await call(workers, apiMade.authorization)).toBe(403);
    const audit = offline
      .output()
      .split('\n')
      .filter((line) => line.includes('"message":"audit"') && line.includes('/DANE/keys'));
    expect(audit.join('\n')).toContain(`"principal":"${must(keys.admin).name}"`);
    expect(audit.join('\n')).toContain(`"answered":["${name}"]`);
  });

  it('never writes a key or its secret to a log line', () => {
    const output = offline.output();
    expect(output).toContain('denied');
    for (const key of [...Object.values(keys), apiMade]) {
      for (const secret of secretParts(must(key).key)) expect(output).not.toContain(secret);
    }
  });
});
