import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.ts';
import { type Offline, startOffline } from '../support/offline.ts';
import { ensurePythonVenv } from '../support/python-worker.ts';

/**
 * The worker gateway as `npm start` serves it (the function-URL adapter invoking the `workerGateway` function of
 * serverless-offline), probed with the real `elasticsearch7` 7.17 client of the DANE worker library, unpatched:
 * it passes the client's product check, serves the DANE index, and refuses everything else with the reason.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const python = join(root, 'test/compat/.venv/bin/python');
const index = getConfig().opensearch.index;
const WORKER = `Basic ${Buffer.from('elastic:changeme').toString('base64')}`;

let offline: Offline;

beforeAll(async () => {
  [offline] = await Promise.all([
    startOffline({ env: { SWEEP_ENABLED: 'false', LOG_LEVEL: 'info' }, emulateEvents: false }),
    ensurePythonVenv(),
  ]);
});

afterAll(async () => {
  await offline?.stop();
});

// Each call is one client (a fresh product check); errors are reported as the client raises them.
const PROBE = `
import json, sys, warnings
from elasticsearch7 import Elasticsearch, ElasticsearchWarning, TransportError
host, port, user, password, index, call = sys.argv[1:7]
auth = (user, password) if user else None
es = Elasticsearch(host=host, port=int(port), http_auth=auth, max_retries=0)
def run():
    if call == "info": return es.info()
    if call == "ping": return es.ping()
    if call == "exists": return es.indices.exists(index=index)
    if call == "search": return es.search(index=index, body={"query": {"match_all": {}}}, size=1)["hits"]["total"]
    if call == "count_other": return es.count(index="other-index")
    if call == "cluster_health": return es.cluster.health()
    if call == "delete_index": return es.indices.delete(index=index)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always", ElasticsearchWarning)
    try:
        out = {"ok": run()}
    except TransportError as e:
        out = {"status": e.status_code, "error": e.error, "reason": (e.info or {}).get("error", {}).get("reason") if isinstance(e.info, dict) else None}
    except Exception as e:
        out = {"exception": type(e).__name__, "message": str(e)}
out["warnings"] = [str(w.message) for w in seen if issubclass(w.category, ElasticsearchWarning)]
print(json.dumps(out))
`;

function probe(call: string, user = 'elastic', password = 'changeme'): Promise<Record<string, unknown>> {
  const url = new URL(offline.gatewayUrl);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, ['-c', PROBE, url.hostname, url.port, user, password, index, call]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => {
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`probe ${call} exited ${code}: ${out}\n${err}`));
      }
    });
  });
}

describe('worker gateway through serverless-offline, with the elasticsearch7 client', () => {
  it('passes the product check (no warning, no UnsupportedProductError) and serves the DANE index', async () => {
    const info = await probe('info');
    expect(info).toMatchObject({
      ok: { version: { number: '7.17.0', build_flavor: 'default' }, tagline: 'You Know, for Search' },
      warnings: [],
    });
    expect(await probe('ping')).toEqual({ ok: true, warnings: [] });
    // The index exists: the test setup's store bootstrap or an earlier test created it through the API.
    expect(await probe('exists')).toHaveProperty('ok');
    expect(await probe('search')).toMatchObject({ ok: { relation: expect.any(String) } });
    // dane-workflows' client: no credentials, read-only (anonymous mode is on locally).
    expect(await probe('search', '', '')).toMatchObject({ ok: { relation: expect.any(String) } });
  });

  it('refuses another index, cluster admin APIs and index deletion with 403 naming why', async () => {
    expect(await probe('count_other')).toMatchObject({
      status: 403,
      error: 'security_exception',
      reason: `Refused: \`other-index\` is another index; only the DANE index \`${index}\` is served`,
    });
    expect(await probe('cluster_health')).toMatchObject({
      status: 403,
      reason: expect.stringMatching(/^Cluster and node APIs \(\/_cluster\) are not available/),
    });
    expect(await probe('delete_index')).toMatchObject({
      status: 403,
      reason: expect.stringContaining('DELETE'),
    });
    // Out of scope for anyone: 403 without credentials too (credentials would not help).
    expect(await probe('delete_index', '', '')).toMatchObject({ status: 403 });
  });

  it('accepts a worker-scoped key (user = key name, password = key) and refuses keys of any other scope', async () => {
    const worker = offline.keys.worker;
    expect(await probe('search', worker.name, worker.key)).toMatchObject({
      ok: { relation: expect.any(String) },
      warnings: [],
    });
    // An operator's admin key is no worker key; nor is a key under another key's name.
    for (const [user, password] of [
      [offline.keys.admin.name, offline.keys.admin.key],
      [offline.keys.admin.name, worker.key],
    ] as const) {
      const response = await fetch(`${offline.gatewayUrl}/${index}/_count`, {
        headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      });
      expect(response.status).toBe(401);
    }
    for (const key of [worker, offline.keys.admin])
      expect(offline.output()).not.toContain(key.key.slice(-64));
  });

  it('refuses wrong credentials with 401 and a Basic challenge', async () => {
    // The client treats a 401 on its product check as "cannot verify" and goes on; its request then gets the 401.
    expect(await probe('search', 'elastic', 'wrong')).toMatchObject({
      status: 401,
      error: 'security_exception',
      reason: 'Wrong worker user name or password',
      warnings: [expect.stringContaining('unable to verify that the server is Elasticsearch')],
    });
    const response = await fetch(`${offline.gatewayUrl}/${index}/_search`, {
      headers: { authorization: `Basic ${Buffer.from('elastic:wrong').toString('base64')}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Basic realm="dane-worker-gateway", charset="UTF-8"',
    );
  });

  it("answers 413 for a request body over Lambda's 6 MiB payload limit, before invoking anything", async () => {
    const response = await fetch(`${offline.gatewayUrl}/${index}/_bulk`, {
      method: 'POST',
      headers: { authorization: WORKER, 'content-type': 'application/x-ndjson' },
      body: 'x'.repeat(6 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { reason: string } };
    expect(body.error.reason).toMatch(/over Lambda's payload limit of 6291456 bytes/);
  });

  it('logs one line per request: method, path, status, ms and no credentials', async () => {
    await fetch(`${offline.gatewayUrl}/${index}/_count`, { headers: { authorization: WORKER } });
    const lines = offline
      .output()
      .split('\n')
      .filter((line) => line.includes('"gateway request"') && line.includes(`"/${index}/_count"`));
    expect(lines.length).toBeGreaterThan(0);
    const line = JSON.parse((lines.at(-1) as string).replace(/^\[\w+\] /, '')) as Record<string, unknown>;
    expect(line).toMatchObject({ method: 'GET', path: `/${index}/_count`, status: 200, auth: 'worker' });
    expect(typeof line.ms).toBe('number');
    expect(offline.output()).not.toContain('changeme');
    expect(offline.output()).not.toContain(WORKER.slice(6));
  });
});
