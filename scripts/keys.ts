import { parseArgs } from 'node:util';
import type { KeyInfo } from '../lib/auth/key-store.ts';
import { createKey, pepperSource } from '../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../lib/auth/opensearch-key-store.ts';
import { parseScopeList } from '../lib/auth/scopes.ts';
import { getConfig } from '../lib/config.ts';
import { DependencyUnavailableError, DomainError } from '../lib/errors.ts';
import { resetStoreClient } from '../lib/store/client.ts';

// API key management against the configured OpenSearch (OPENSEARCH_URL, AUTH_KEYS_INDEX, AUTH_KEY_PEPPER).
// `create` prints the new key alone on the last line of its output, so that scripts can take it with `tail -1`.

const USAGE = `Usage:
  npm run keys -- create NAME --scopes read,write   scopes: read, write, admin, worker
  npm run keys -- list
  npm run keys -- revoke NAME`;

class UsageError extends Error {}

function table(keys: KeyInfo[]): string {
  const rows = [
    ['NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [k.name, k.scopes.join(','), k.createdAt, k.lastUsedAt ?? '-', k.revokedAt ?? '-']),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function run(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { scopes: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, name, ...extra] = positionals;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  const config = getConfig();
  const store = new OpenSearchKeyStore();
  const where = `index ${store.index} at ${config.opensearch.url}`;
  switch (command) {
    case 'create': {
      if (name === undefined) throw new UsageError('create needs a key NAME');
      if (values.scopes === undefined)
        throw new UsageError('create needs --scopes, e.g. --scopes read,write');
      const scopes = parseScopeList(values.scopes);
      const { info, key } = await createKey(store, await pepperSource(config)(), { name, scopes });
      console.log(`Created key "${info.name}" with scopes ${info.scopes.join(', ')} in ${where}.`);
      console.log(
        'It is shown only now and stored only as a hash; keep it in a password manager or secret store.',
      );
      console.log(key);
      return;
    }
    case 'list': {
      if (name !== undefined) throw new UsageError('list takes no NAME');
      const keys = await store.list();
      console.log(keys.length === 0 ? `No keys in ${where}.` : table(keys));
      return;
    }
    case 'revoke': {
      if (name === undefined) throw new UsageError('revoke needs a key NAME');
      const info = await store.revoke(name, new Date().toISOString());
      console.log(`Key "${info.name}" is revoked (since ${info.revokedAt}); requests with it are refused.`);
      return;
    }
    case undefined:
      throw new UsageError('No command given');
    default:
      throw new UsageError(`Unknown command "${command}"`);
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  const parseArgsError =
    error instanceof Error && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
  if (error instanceof UsageError || parseArgsError) {
    console.error(`keys: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof DependencyUnavailableError) {
    console.error(`keys: OpenSearch at ${getConfig().opensearch.url} is unavailable; nothing was changed.`);
    process.exitCode = 1;
  } else if (error instanceof DomainError || (error instanceof Error && error.name === 'ConfigError')) {
    console.error(`keys: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error('keys: unexpected error:', error);
    process.exitCode = 1;
  }
} finally {
  await resetStoreClient();
}
