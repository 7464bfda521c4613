import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createKey, KeyVerifier, requirePepper } from '../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../lib/auth/opensearch-key-store.ts';
import { getConfig } from '../lib/config.ts';
import { resetStoreClient } from '../lib/store/client.ts';

// `npm start` on stage local: the newcomer's admin key. The first start creates one (when the key index holds no
// usable admin key yet) and keeps it in FILE (mode 600, outside the repository); every start prints it with a
// ready curl line, so that a fresh checkout is usable with auth on. Never on a deployed stage.

const file = process.argv[2];
const port = process.env.HTTP_PORT ?? '5500';

async function main(): Promise<void> {
  if (!file) throw new Error('usage: tsx scripts/local-admin-key.ts FILE');
  const config = getConfig();
  if (config.stage !== 'local')
    throw new Error(`local admin keys are for stage local only (stage ${config.stage})`);
  if (config.auth.mode === 'none') {
    console.log('AUTH_MODE=none: every request is let through, no key needed (local experiments only).');
    return;
  }
  const store = new OpenSearchKeyStore();
  const pepper = requirePepper(config);
  let key = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  let fresh = false;
  if (key !== '') {
    const check = await new KeyVerifier({ store, pepper }).verify(key);
    if (!check.ok) {
      console.log(`The key in ${file} no longer works (${check.reason}); creating another.`);
      key = '';
    }
  }
  if (key === '') {
    const active = (await store.list()).filter((k) => k.revokedAt === null && k.scopes.includes('admin'));
    if (active.length > 0 && !existsSync(file)) {
      console.log(
        `Admin key(s) ${active.map((k) => k.name).join(', ')} exist in index ${store.index}; none created. ` +
          'Create one with: npm run keys -- create NAME --scopes admin',
      );
      return;
    }
    // Names are never reused (revoked ones included), hence the time in the name.
    const name = `local-admin-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    key = (await createKey(store, pepper, { name, scopes: ['admin'] })).key;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    fresh = true;
  }
  console.log(
    `${fresh ? 'Created a local admin key' : 'Local admin key'} (scope admin), kept in ${file} (mode 600):\n` +
      `  ${key}\n` +
      `Try: curl -H "Authorization: Bearer $(cat ${file})" http://127.0.0.1:${port}/DANE/workers`,
  );
}

main()
  .catch((error: unknown) => {
    console.error(`local admin key: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => resetStoreClient());
