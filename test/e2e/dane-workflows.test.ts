import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { getConfig } from '../../lib/config.ts';
import { documentId, taskId } from '../../lib/model/ids.ts';
import { secretParts } from '../support/log-capture.ts';
import { type Offline, startOffline, type TestKey, workerCredential } from '../support/offline.ts';
import {
  ensurePythonVenv,
  type PythonWorker,
  startPythonWorker,
  stopAllPythonWorkers,
} from '../support/python-worker.ts';
import { type Api, apiClient } from './offline-api.ts';

/**
 * dane-workflows 0.2.3 from PyPI, unmodified (test/compat/workflow.py runs its own TaskScheduler with its
 * SQLiteStatusHandler, ExampleDataProvider, DANEEnvironment and ExampleExporter), end to end against the server
 * as `npm start` runs it, with real `dane` 0.4.3 workers: it registers a batch (as JSON-encoded documents),
 * assigns ASR, which depends on DOWNLOAD (412 first), and monitors the batch to the end through its own direct
 * index queries, which go through the worker gateway anonymously. A second run over the same items finds
 * everything already there and finishes too.
 *
 * dane-workflows only knows fixed task keys (ASR, DOWNLOAD, ...), so this run has an exchange and a response
 * queue of its own: its workers never see anybody else's ASR tasks.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const python = join(root, 'test/compat/.venv-workflows/bin/python');
const run = randomUUID().slice(0, 8);
const exchange = `DANE-exchange-wf-${run}`;
const responseQueue = `DANE-response-queue-wf-${run}`;
const amqpEnv = { DANE_EXCHANGE: exchange, DANE_RESPONSE_QUEUE: responseQueue };
const index = getConfig().opensearch.index;
const prefix = `wf-${run}`;
const creatorId = `${prefix}_0`;
// Each 412 reply costs the server about a second (it waits for a refresh before publishing the dependency), so
// the batch is kept small.
const items = Array.from({ length: 10 }, (_, i) => ({
  id: `wf-${run}-item-${i}`,
  url: `http://example.org/${run}/item ${i}.mp4`,
}));
const workdir = mkdtempSync(join(tmpdir(), 'dane-workflows-'));
// dane-workflows sends no credentials of its own: its `requests` session takes Basic auth from ~/.netrc, as a
// user's would. HOME points at a folder of this run, so the user's own ~/.netrc is neither read nor touched.
const home = join(workdir, 'home');
let clientKey: TestKey;

let offline: Offline;
let api: Api;
let asr: PythonWorker;
let download: PythonWorker;

beforeAll(async () => {
  [offline] = await Promise.all([
    startOffline({ env: { SWEEP_ENABLED: 'false', LOG_LEVEL: 'info', ...amqpEnv } }),
    ensurePythonVenv(),
  ]);
  api = apiClient(offline);
  // write: registering documents and assigning tasks (what the scheduler does), and reading them back.
  clientKey = await offline.createKey('workflows', ['write']);
  mkdirSync(home);
  writeFileSync(
    join(home, '.netrc'),
    `machine ${new URL(offline.baseUrl).hostname}\nlogin ${clientKey.name}\npassword ${clientKey.key}\n`,
    { mode: 0o600 },
  );
  // Worker queues bound to the leaf key and its dependency; ASR saves a result (dane-workflows fetches results).
  [asr, download] = await Promise.all([
    startPythonWorker({
      gatewayUrl: offline.gatewayUrl,
      credential: workerCredential(offline),
      key: 'ASR',
      queue: `ASR_${run}`,
      dependsOn: ['DOWNLOAD'],
      saveResult: true,
      env: amqpEnv,
    }),
    startPythonWorker({
      gatewayUrl: offline.gatewayUrl,
      credential: workerCredential(offline),
      key: 'DOWNLOAD',
      queue: `DOWNLOAD_${run}`,
      env: amqpEnv,
    }),
  ]);
  writeFileSync(join(workdir, 'items.json'), JSON.stringify(items));
});

afterAll(async () => {
  await stopAllPythonWorkers();
  if (api) {
    for (const item of items) {
      await api('DELETE', `/DANE/document/${documentId(item.id, creatorId)}`).catch(() => undefined);
    }
  }
  await offline?.stop();
  const connection = await amqp.connect(getConfig().amqp.url).catch(() => undefined);
  if (connection) {
    const channel = await connection.createChannel();
    await channel.deleteQueue(responseQueue).catch(() => undefined);
    await channel.deleteExchange(exchange).catch(() => undefined);
    await connection.close().catch(() => undefined);
  }
  rmSync(workdir, { recursive: true, force: true });
});

interface Summary {
  exit: number;
  rows: { target_id: string; status: string; proc_id: string | null; proc_batch_id: number }[];
}

/** One run of the scheduler in a fresh status database; resolves with its summary line. */
function runWorkflow(name: string): Promise<{ summary: Summary; stderr: string }> {
  const api = new URL(offline.baseUrl);
  const gateway = new URL(offline.gatewayUrl);
  const args = [
    '-u',
    join(root, 'test/compat/workflow.py'),
    ['--api', api.host],
    ['--es-host', gateway.hostname],
    ['--es-port', gateway.port],
    ['--index', index],
    ['--task', 'ASR'],
    ['--prefix', prefix],
    ['--items', join(workdir, 'items.json')],
    ['--workdir', join(workdir, name)],
  ].flat();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, {
      cwd: workdir,
      env: { ...process.env, HOME: home, PYTHONUNBUFFERED: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.length > 400_000) stderr = stderr.slice(-200_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 160_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolvePromise({ summary: JSON.parse(last) as Summary, stderr });
      } catch {
        reject(
          new Error(
            `workflow ${name} exited ${code} without a summary.\nstdout: ${stdout.slice(-2000)}\n` +
              `stderr: ${stderr.slice(-6000)}\nserver: ${offline.output().slice(-4000)}`,
          ),
        );
      }
    });
  });
}

const describeRun = (summary: Summary, stderr: string) =>
  `${JSON.stringify(summary.rows.filter((r) => r.status !== 'FINISHED')).slice(0, 2000)}\n${stderr.slice(-4000)}`;

describe('dane-workflows 0.2.3 with real dane workers, through serverless-offline and the worker gateway', () => {
  it('registers a batch, runs ASR after its DOWNLOAD dependency, monitors it to FINISHED', async () => {
    const { summary, stderr } = await runWorkflow('first');
    expect(summary.exit, describeRun(summary, stderr)).toBe(0);
    expect(summary.rows).toHaveLength(items.length);
    expect(
      summary.rows.map((r) => r.status),
      describeRun(summary, stderr),
    ).toEqual(items.map(() => 'FINISHED'));
    // Its proc ids are our document ids, taken from the batch answer.
    expect(summary.rows.map((r) => r.proc_id).sort()).toEqual(
      items.map((i) => documentId(i.id, creatorId)).sort(),
    );

    // Every ASR task was refused with 412 first, then ran once its DOWNLOAD had succeeded.
    for (const item of items) {
      const docId = documentId(item.id, creatorId);
      const asrId = taskId(docId, 'ASR');
      const replies = asr.replies.filter((r) => r.correlationId?.startsWith(asrId));
      expect(replies.map((r) => (r.reply as { state: number }).state)).toEqual([412, 200]);
      const downloads = download.replies.filter((r) =>
        r.correlationId?.startsWith(taskId(docId, 'DOWNLOAD')),
      );
      expect(downloads.map((r) => (r.reply as { state: number }).state)).toEqual([200]);
    }
    expect(asr.results).toHaveLength(items.length);

    // Its monitoring read the index through the gateway without credentials.
    expect(offline.output()).toMatch(
      /"gateway request".*"path":"\/[^"]+\/_search".*"auth":"anonymous".*"status":200/,
    );
    // dane-workflows logged no exception on the way (it logs and carries on where it can).
    expect(stderr).not.toMatch(/Traceback/);
    // It called the API with the key from ~/.netrc (the only place it could take it from), which was recorded
    // as used; neither that key nor the workers' appears in any log line of the run.
    expect(
      (await new OpenSearchKeyStore(offline.keyIndex, 0).get(clientKey.name))?.lastUsedAt,
    ).not.toBeNull();
    for (const key of [clientKey, offline.keys.worker, offline.keys.admin]) {
      for (const secret of secretParts(key.key)) {
        expect(offline.output()).not.toContain(secret);
        expect(stderr).not.toContain(secret);
      }
    }
  }, 180_000);

  it('runs again over the same items: documents and tasks exist already, and the batch finishes too', async () => {
    const before = asr.received.length;
    const { summary, stderr } = await runWorkflow('second');
    expect(summary.exit, describeRun(summary, stderr)).toBe(0);
    expect(
      summary.rows.map((r) => r.status),
      describeRun(summary, stderr),
    ).toEqual(items.map(() => 'FINISHED'));
    expect(summary.rows.map((r) => r.proc_id).sort()).toEqual(
      items.map((i) => documentId(i.id, creatorId)).sort(),
    );
    // Nothing ran again: the tasks were already done.
    expect(asr.received.length).toBe(before);
  }, 180_000);
});
