import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVerifier } from '../../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { getStoreClient, resetStoreClient } from '../../lib/store/client.ts';
import { secretParts } from '../support/log-capture.ts';

// `npm run keys` as an operator runs it, against the real OpenSearch and an index of this file's own.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INDEX = `${process.env.AUTH_KEYS_INDEX ?? 'dane-test-auth-keys'}-cli`;
const PEPPER = 'cli-test-pepper-0123456789abcdefghijkl';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
const outputs: Run[] = [];

function keys(args: string[], env: Record<string, string> = {}, viaNpm = false): Promise<Run> {
  const [command, argv] = viaNpm
    ? ['npm', ['run', 'keys', '--', ...args]]
    : [resolve(root, 'node_modules/.bin/tsx'), ['scripts/keys.ts', ...args]];
  return new Promise((done, fail) => {
    const child = spawn(command, argv, {
      cwd: root,
      env: {
        ...process.env,
        AUTH_KEYS_INDEX: INDEX,
        AUTH_KEY_PEPPER: PEPPER,
        LOG_LEVEL: 'debug',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const run = { code, stdout, stderr };
      outputs.push(run);
      done(run);
    });
  });
}

const dropIndex = () => getStoreClient().indices.delete({ index: INDEX, ignore_unavailable: true });
beforeAll(dropIndex);
afterAll(async () => {
  await dropIndex();
  await resetStoreClient();
});

const created: string[] = [];

describe('npm run keys', () => {
  it('create prints the key once, alone on the last line, and the key works', async () => {
    const run = await keys(['create', 'ci-bot', '--scopes', 'read,write'], {}, true);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const key = lines.at(-1) ?? '';
    expect(key).toMatch(/^dane_ci-bot_[0-9a-f]{64}$/);
    created.push(key);
    expect(lines.slice(0, -1).join('\n')).not.toContain(key.slice(-64));
    expect(run.stdout).toContain(`Created key "ci-bot" with scopes read, write in index ${INDEX}`);

    const verifier = new KeyVerifier({ store: new OpenSearchKeyStore(INDEX, 0), pepper: PEPPER });
    expect(await verifier.verify(key)).toEqual({ ok: true, name: 'ci-bot', scopes: ['read', 'write'] });
  });

  it('list shows names, scopes, created and last used, never a secret or hash', async () => {
    const key = await createdKey('ops', 'admin');
    const run = await keys(['list']);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+SCOPES\s+CREATED\s+LAST USED\s+REVOKED$/);
    expect(rows).toHaveLength(2);
    // ci-bot was used by the verifier above; ops never was.
    expect(rows[0]).toMatch(/^ci-bot\s+read,write\s+\d{4}-\d\d-\d\dT\S+Z\s+\d{4}-\d\d-\d\dT\S+Z\s+-$/);
    expect(rows[1]).toMatch(/^ops\s+admin\s+\S+Z\s+-\s+-$/);
    expect(run.stdout).not.toContain('hmac-sha256');
    for (const secret of [...created, key].flatMap(secretParts)) expect(run.stdout).not.toContain(secret);
  });

  it('revoke refuses the key from then on and shows in the list', async () => {
    const run = await keys(['revoke', 'ci-bot']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Key "ci-bot" is revoked \(since \S+Z\)/);
    const verifier = new KeyVerifier({ store: new OpenSearchKeyStore(INDEX, 0), pepper: PEPPER });
    expect(await verifier.verify(created[0] ?? '')).toMatchObject({ ok: false, reason: /revoked/ });
    const list = await keys(['list']);
    expect(list.stdout).toMatch(/^ci-bot\s+read,write\s+\S+Z\s+\S+Z\s+\d{4}-\S+Z$/m);
  });

  it.each([
    [['create', 'ops', '--scopes', 'read'], 1, /A key named "ops" already exists/],
    [['create', 'ci-bot', '--scopes', 'read'], 1, /A revoked key named "ci-bot" exists/],
    [
      ['create', 'new', '--scopes', 'read,root'],
      1,
      /Unknown scope "root"; choose from read, write, admin, worker/,
    ],
    [['create', 'Not Valid', '--scopes', 'read'], 1, /Invalid key name/],
    [['revoke', 'nobody'], 1, /No key named "nobody"/],
    [['create', 'new'], 2, /create needs --scopes/],
    [['create'], 2, /create needs a key NAME/],
    [['rotate', 'ops'], 2, /Unknown command "rotate"/],
    [['create', 'new', '--scope', 'read'], 2, /Unknown option '--scope'/],
  ])('%j fails with exit %i and a clear message', async (args, code, message) => {
    const run = await keys(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('says so when OpenSearch is unreachable, and changes nothing', async () => {
    const run = await keys(['create', 'offline', '--scopes', 'read'], {
      OPENSEARCH_URL: 'http://127.0.0.1:9',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'keys: OpenSearch at http://127.0.0.1:9 is unavailable; nothing was changed.',
    );
    expect(await new OpenSearchKeyStore(INDEX, 0).get('offline')).toBeUndefined();
  });

  it('a deployed stage without a pepper refuses to create keys', async () => {
    const run = await keys(['create', 'nopepper', '--scopes', 'read'], {
      DANE_STAGE: 'prod',
      AUTH_KEY_PEPPER: '',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AUTH_KEY_PEPPER must be set on stage prod');
  });
});

it('printed no secret anywhere but the last line of its create', () => {
  const secrets = created.concat(extraKeys).flatMap(secretParts);
  expect(secrets.length).toBeGreaterThanOrEqual(4);
  const everything = outputs.map((run) => {
    const stdout = run.stdout.trimEnd().split('\n');
    // The one place a key belongs: the last stdout line of a successful create.
    if (run.code === 0 && /^dane_\S+_[0-9a-f]{64}$/.test(stdout.at(-1) ?? '')) stdout.pop();
    return [...stdout, ...run.stderr.split('\n')].join('\n');
  });
  expect(everything.join('\n')).toContain('Created the API key index');
  for (const text of everything) for (const secret of secrets) expect(text).not.toContain(secret);
});

const extraKeys: string[] = [];
async function createdKey(name: string, scopes: string): Promise<string> {
  const run = await keys(['create', name, '--scopes', scopes]);
  expect(run.code, run.stderr).toBe(0);
  const key = run.stdout.trimEnd().split('\n').at(-1) ?? '';
  extraKeys.push(key);
  return key;
}
