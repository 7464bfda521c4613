import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../lib/auth/api-keys.ts';
import { KeyExistsError, KeyNotFoundError } from '../../lib/auth/key-store.ts';
import { createKey, KeyVerifier } from '../../lib/auth/keys.ts';
import { keyIndexMappings, OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { getStoreClient, resetStoreClient } from '../../lib/store/client.ts';
import { captureLogs, secretParts } from '../support/log-capture.ts';

// The key store against the real OpenSearch, in an index of this file's own (AUTH_KEYS_INDEX, else a fixed test
// name), dropped before and after.
const INDEX = `${process.env.AUTH_KEYS_INDEX ?? 'dane-test-auth-keys'}-store`;
const PEPPER = 'integration-test-pepper-0123456789abcdef';
// Everything the code logs, debug included, so that the last test can prove no secret is among it. Set before
// the first getConfig() (the config is read once, lazily) and put back for the files that run after this one.
const logLevel = process.env.LOG_LEVEL;
process.env.LOG_LEVEL = 'debug';
const logs = captureLogs();
const issued: string[] = [];

const dropIndex = () => getStoreClient().indices.delete({ index: INDEX, ignore_unavailable: true });

beforeAll(dropIndex);
afterAll(async () => {
  logs.stop();
  if (logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = logLevel;
  await dropIndex();
  await resetStoreClient();
});

describe('OpenSearch key store', () => {
  const store = new OpenSearchKeyStore(INDEX, 0);

  it('finds no key and lists none before the index exists, without creating it', async () => {
    expect(await store.get('anyone')).toBeUndefined();
    expect(await store.list()).toEqual([]);
    expect((await getStoreClient().indices.exists({ index: INDEX })).body).toBe(false);
  });

  it('creates its index on the first key, with a strict mapping', async () => {
    const { key } = await createKey(store, PEPPER, { name: 'ci', scopes: ['read', 'write'] });
    issued.push(key);
    const { body } = await getStoreClient().indices.getMapping({ index: INDEX });
    expect(body[INDEX]?.mappings).toMatchObject(JSON.parse(JSON.stringify(keyIndexMappings)));
    await expect(
      getStoreClient().index({ index: INDEX, id: 'x', body: { name: 'x', secret: 'oops' } }),
    ).rejects.toThrow(/strict_dynamic_mapping_exception/);
  });

  it('refuses a second key of the same name', async () => {
    await expect(createKey(store, PEPPER, { name: 'ci', scopes: ['admin'] })).rejects.toThrow(KeyExistsError);
    expect((await store.get('ci'))?.scopes).toEqual(['read', 'write']);
  });

  it('verifies a key, records its use, and refuses it as soon as it is revoked', async () => {
    const { key } = await createKey(store, PEPPER, { name: 'temp', scopes: ['admin'] });
    issued.push(key);
    const verifier = new KeyVerifier({ store, pepper: PEPPER, cacheMs: 0 });
    expect(await verifier.verify(key)).toEqual({ ok: true, name: 'temp', scopes: ['admin'] });
    expect((await store.get('temp'))?.lastUsedAt).not.toBeNull();
    expect(await verifier.verify(generateApiKey('temp'))).toMatchObject({
      ok: false,
      reason: /Wrong secret/,
    });

    const revoked = await store.revoke('temp', '2026-12-01T12:00:00.000Z');
    expect(revoked.revokedAt).toBe('2026-12-01T12:00:00.000Z');
    // The very next check, with no refresh and no wait: GET by id is real time.
    expect(await verifier.verify(key)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });
    // Revoking again keeps the first time; a revoked name stays taken.
    expect((await store.revoke('temp', '2026-12-02T00:00:00.000Z')).revokedAt).toBe(
      '2026-12-01T12:00:00.000Z',
    );
    await expect(createKey(store, PEPPER, { name: 'temp', scopes: ['read'] })).rejects.toThrow(/revoked key/);
    await expect(store.revoke('nobody', '2026-12-01T12:00:00.000Z')).rejects.toThrow(KeyNotFoundError);
  });

  it('keeps a revocation when a last-used write races it', async () => {
    const { key } = await createKey(store, PEPPER, { name: 'racer', scopes: ['read'] });
    issued.push(key);
    await Promise.all([
      store.touch('racer', new Date().toISOString()),
      store.revoke('racer', new Date().toISOString()),
    ]);
    const record = await store.get('racer');
    expect(record?.revokedAt).not.toBeNull();
    expect(record?.lastUsedAt).not.toBeNull();
  });

  it('lists names, scopes and times by name, never a hash or a secret', async () => {
    const keys = await store.list();
    expect(keys.map((k) => k.name)).toEqual(['ci', 'racer', 'temp']);
    expect(keys[0]).toEqual({
      name: 'ci',
      scopes: ['read', 'write'],
      createdAt: expect.any(String),
      lastUsedAt: null,
      revokedAt: null,
    });
    const text = JSON.stringify(keys);
    expect(text).not.toContain('hmac-sha256');
    for (const secret of issued.flatMap(secretParts)) expect(text).not.toContain(secret);
  });

  it('lists past one page of keys', async () => {
    const many = new OpenSearchKeyStore(`${INDEX}-many`, 0);
    try {
      const client = getStoreClient();
      await many.create({
        name: 'k0000',
        scopes: ['read'],
        hash: 'hmac-sha256:x',
        createdAt: new Date().toISOString(),
        lastUsedAt: null,
        revokedAt: null,
      });
      const body = Array.from({ length: 1_050 }, (_, i) => i + 1).flatMap((i) => [
        { index: { _index: `${INDEX}-many`, _id: `k${String(i).padStart(4, '0')}` } },
        {
          name: `k${String(i).padStart(4, '0')}`,
          scopes: ['read'],
          hash: 'hmac-sha256:x',
          createdAt: new Date().toISOString(),
          lastUsedAt: null,
          revokedAt: null,
        },
      ]);
      await client.bulk({ body, refresh: true });
      const names = (await many.list()).map((k) => k.name);
      expect(names).toHaveLength(1_051);
      expect(names.at(-1)).toBe('k1050');
      expect(new Set(names).size).toBe(1_051);
    } finally {
      await getStoreClient().indices.delete({ index: `${INDEX}-many`, ignore_unavailable: true });
    }
  });
});

it('wrote no key or secret to any log line', () => {
  const lines = logs.lines();
  expect(lines.some((line) => line.includes('Created the API key index'))).toBe(true);
  const secrets = issued.flatMap(secretParts);
  expect(secrets.length).toBeGreaterThanOrEqual(6);
  expect(lines.filter((line) => secrets.some((secret) => line.includes(secret)))).toEqual([]);
});
