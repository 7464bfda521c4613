import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyMatches, apiKeyName, generateApiKey, hashApiKey } from '../../lib/auth/api-keys.ts';
import { KeyExistsError, KeyNotFoundError, MemoryKeyStore } from '../../lib/auth/key-store.ts';
import { createKey, InvalidKeyNameError, KeyVerifier, requirePepper } from '../../lib/auth/keys.ts';
import { ConfigError, LOCAL_DEVELOPMENT_PEPPER, parseConfig } from '../../lib/config.ts';
import { captureLogs, secretParts } from '../support/log-capture.ts';

const PEPPER = 'unit-test-pepper-0123456789abcdefghij';
const logs = captureLogs();
const issued: string[] = [];
afterAll(() => logs.stop());

describe('API key format and hashing', () => {
  it('generates dane_<name>_<64 hex> keys from fresh randomness', () => {
    const a = generateApiKey('ci-bot');
    const b = generateApiKey('ci-bot');
    expect(a).toMatch(/^dane_ci-bot_[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(apiKeyName(a)).toBe('ci-bot');
    expect(apiKeyName(generateApiKey('a_b.c'))).toBe('a_b.c');
  });

  it.each(['', 'Upper', '-lead', 'space name', 'x'.repeat(65), 'ключ'])('refuses the key name %j', (name) => {
    expect(() => generateApiKey(name)).toThrow();
  });

  it.each([
    'dane_ci_abc',
    `dane_ci_${'g'.repeat(64)}`,
    `dane__${'a'.repeat(64)}`,
    `DANE_ci_${'a'.repeat(64)}`,
    `dane_ci_${'a'.repeat(64)}x`,
    'eyJhbGciOiJIUzI1NiJ9.e30.x',
  ])('does not take %j for a key', (text) => {
    expect(apiKeyName(text)).toBeUndefined();
  });

  it('stores a keyed hash that matches only the same key under the same pepper', () => {
    const key = generateApiKey('ci');
    const hash = hashApiKey(key, PEPPER);
    expect(hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(hash).not.toContain(key.slice(-64));
    expect(hashApiKey(key, PEPPER)).toBe(hash);
    expect(apiKeyMatches(key, hash, PEPPER)).toBe(true);
    expect(apiKeyMatches(key, hash, `${PEPPER}x`)).toBe(false);
    expect(apiKeyMatches(generateApiKey('ci'), hash, PEPPER)).toBe(false);
    // One flipped hex digit of the secret.
    const last = key.at(-1) === '0' ? '1' : '0';
    expect(apiKeyMatches(`${key.slice(0, -1)}${last}`, hash, PEPPER)).toBe(false);
  });

  it.each(['', 'hmac-sha256:', 'hmac-sha256:zz', `sha1:${'0'.repeat(64)}`, `hmac-sha256:${'0'.repeat(63)}`])(
    'never matches a malformed stored hash %j (and does not throw)',
    (stored) => {
      expect(apiKeyMatches(generateApiKey('ci'), stored, PEPPER)).toBe(false);
    },
  );
});

describe('auth settings', () => {
  it('has a development value on stage local only', () => {
    expect(requirePepper(parseConfig({}))).toBe(LOCAL_DEVELOPMENT_PEPPER);
    expect(() => requirePepper(parseConfig({ DANE_STAGE: 'prod' }))).toThrow(
      /AUTH_KEY_PEPPER must be set on stage prod/,
    );
    expect(requirePepper(parseConfig({ DANE_STAGE: 'prod', AUTH_KEY_PEPPER: PEPPER }))).toBe(PEPPER);
    expect(() => parseConfig({ AUTH_KEY_PEPPER: 'short' })).toThrow(ConfigError);
  });

  it('keeps the key index apart from the DANE index', () => {
    expect(parseConfig({}).auth.keysIndex).toBe('dane-auth-keys');
    expect(() => parseConfig({ DANE_INDEX: 'shared', AUTH_KEYS_INDEX: 'shared' })).toThrow(
      /AUTH_KEYS_INDEX: must differ from DANE_INDEX/,
    );
    expect(() => parseConfig({ AUTH_KEYS_INDEX: 'Keys' })).toThrow(/AUTH_KEYS_INDEX/);
  });
});

describe('createKey', () => {
  it('stores the hash and scopes, returns the key once, refuses a taken name', async () => {
    const store = new MemoryKeyStore();
    const now = new Date('2026-12-01T10:00:00Z');
    const { info, key } = await createKey(store, PEPPER, { name: 'ci', scopes: ['read', 'write'] }, now);
    issued.push(key);
    expect(info).toEqual({
      name: 'ci',
      scopes: ['read', 'write'],
      createdAt: '2026-12-01T10:00:00.000Z',
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(info)).not.toContain('hash');
    const stored = store.records.get('ci');
    expect(stored?.hash).toBe(hashApiKey(key, PEPPER));
    expect(JSON.stringify(stored)).not.toContain(key.slice(-64));
    await expect(createKey(store, PEPPER, { name: 'ci', scopes: ['read'] })).rejects.toThrow(KeyExistsError);
    await store.revoke('ci', now.toISOString());
    await expect(createKey(store, PEPPER, { name: 'ci', scopes: ['read'] })).rejects.toThrow(
      /revoked key named "ci" exists/,
    );
    await expect(createKey(store, PEPPER, { name: 'Bad Name', scopes: ['read'] })).rejects.toThrow(
      InvalidKeyNameError,
    );
    await expect(store.revoke('nobody', now.toISOString())).rejects.toThrow(KeyNotFoundError);
  });
});

describe('KeyVerifier', () => {
  let clock = Date.parse('2026-12-01T10:00:00Z');
  const now = () => clock;
  let store: MemoryKeyStore;
  let key: string;

  beforeAll(async () => {
    store = new MemoryKeyStore();
    ({ key } = await createKey(store, PEPPER, { name: 'ci', scopes: ['write'] }));
    issued.push(key);
  });

  it('accepts the key (as Bearer, or as Basic password with its own name as user)', async () => {
    const verifier = new KeyVerifier({ store, pepper: PEPPER, now });
    expect(await verifier.verify(key)).toEqual({ ok: true, name: 'ci', scopes: ['write'] });
    expect(await verifier.verify(key, 'ci')).toEqual({ ok: true, name: 'ci', scopes: ['write'] });
  });

  it('refuses with a reason that names the key, never its secret', async () => {
    const verifier = new KeyVerifier({ store, pepper: PEPPER, now });
    const cases: [string, string | undefined, RegExp][] = [
      ['not-a-key', undefined, /not a DANE API key/],
      [key, 'someone-else', /Basic user name is not the name of the key/],
      [generateApiKey('ci'), undefined, /Wrong secret for key "ci"/],
      [generateApiKey('ghost'), undefined, /No key named "ghost"/],
    ];
    for (const [presented, user, reason] of cases) {
      const check = await verifier.verify(presented, user);
      expect(check.ok).toBe(false);
      if (!check.ok) {
        expect(check.reason).toMatch(reason);
        expect(check.reason).not.toContain(presented.slice(-64));
      }
    }
    expect(await new KeyVerifier({ store, pepper: `${PEPPER}!`, now }).verify(key)).toMatchObject({
      ok: false,
    });
  });

  it('writes last-used at most once per interval', async () => {
    const verifier = new KeyVerifier({ store, pepper: PEPPER, now, lastUsedIntervalMs: 60_000 });
    store.calls.touch = 0;
    const record = store.records.get('ci');
    if (record) record.lastUsedAt = null;
    for (let i = 0; i < 20; i += 1) await verifier.verify(key);
    expect(store.calls.touch).toBe(1);
    expect(store.records.get('ci')?.lastUsedAt).toBe(new Date(clock).toISOString());
    clock += 59_000;
    await verifier.verify(key);
    expect(store.calls.touch).toBe(1);
    clock += 1_000;
    await verifier.verify(key);
    expect(store.calls.touch).toBe(2);
    // Another container (a new verifier) sees the stored time and does not write either.
    await new KeyVerifier({ store, pepper: PEPPER, now, lastUsedIntervalMs: 60_000 }).verify(key);
    expect(store.calls.touch).toBe(2);
  });

  it('does not fail a request when the last-used write fails', async () => {
    const failing = Object.assign(Object.create(store) as MemoryKeyStore, {
      touch: async () => {
        throw new Error('store hiccup');
      },
    });
    clock += 3_600_000;
    const verifier = new KeyVerifier({ store: failing, pepper: PEPPER, now });
    expect(await verifier.verify(key)).toMatchObject({ ok: true });
  });

  it('revocation takes effect on the next check without a cache, after the bound with one', async () => {
    const local = new MemoryKeyStore();
    const { key: k } = await createKey(local, PEPPER, { name: 'temp', scopes: ['read'] });
    issued.push(k);
    const uncached = new KeyVerifier({ store: local, pepper: PEPPER, now });
    const cached = new KeyVerifier({ store: local, pepper: PEPPER, now, cacheMs: 5_000 });
    expect(await uncached.verify(k)).toMatchObject({ ok: true });
    expect(await cached.verify(k)).toMatchObject({ ok: true });
    local.calls.get = 0;
    expect(await cached.verify(k)).toMatchObject({ ok: true });
    expect(local.calls.get).toBe(0);

    await local.revoke('temp', new Date(clock).toISOString());
    expect(await uncached.verify(k)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });
    // Within the documented bound the cached record still lets it through; at the bound it no longer does.
    clock += 4_999;
    expect(await cached.verify(k)).toMatchObject({ ok: true });
    clock += 1;
    expect(await cached.verify(k)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });
  });

  it('lets a store outage through as an error, not as a bad key', async () => {
    const down = Object.assign(Object.create(store) as MemoryKeyStore, {
      get: async () => {
        throw new Error('OpenSearch down');
      },
    });
    await expect(new KeyVerifier({ store: down, pepper: PEPPER, now }).verify(key)).rejects.toThrow(
      'OpenSearch down',
    );
  });
});

// Last in the file: every test above has run and logged by now.
it('wrote no key or secret to any log line', () => {
  const lines = logs.lines();
  expect(lines.some((line) => line.includes('Could not record the use of an API key'))).toBe(true);
  expect(issued.length).toBeGreaterThan(2);
  const leaked = lines.filter((line) => issued.flatMap(secretParts).some((secret) => line.includes(secret)));
  expect(leaked).toEqual([]);
});
