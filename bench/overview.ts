import { randomUUID } from 'node:crypto';
import { getConfig } from '../lib/config.ts';
import { taskId } from '../lib/model/ids.ts';
import { bootstrapIndex } from '../lib/store/bootstrap.ts';
import { getStoreClient } from '../lib/store/client.ts';
import { creatorCounts, keyCounts, stateCountsMatching, tasksMatching } from '../lib/store/task-filters.ts';
import { bulkAction } from '../lib/tasks/bulk.ts';

/**
 * The dashboard's queries at scale: N tasks (4 keys per document, 100 creators, states spread like a batch in
 * progress) loaded by raw `_bulk` into an index of their own, then the overview's two aggregation requests, the
 * dry-run count of a bulk action (one aggregation over a filter) and the first page of a filtered listing, each
 * timed over several runs; then one bulk reset of every done DOWNLOAD task (15 % of N), call after call. Run: `npx tsx bench/overview.ts [N]` (default 1,000,000) with the local stack up; the
 * index is deleted at the end.
 */
const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = 7;
process.env.DANE_INDEX = `dane-bench-overview-${randomUUID().slice(0, 8)}`;
process.env.LOG_LEVEL = 'warn';
// Loading and refreshing a million documents takes longer than an API request may.
process.env.OPENSEARCH_REQUEST_TIMEOUT_MS = '300000';

const client = getStoreClient();
const index = getConfig().opensearch.index;
const KEYS = ['ASR', 'SHOTDETECTION', 'DOWNLOAD', 'NER'];
const CREATORS = 100;
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Done 60 %, failed 10 %, back-off 5 %, queued 15 %, new 5 %, waiting 5 %. */
function stateOf(i: number): { state: number; due: boolean } {
  const r = (i * 7919) % 100;
  if (r < 60) return { state: 200, due: false };
  if (r < 70) return { state: 500, due: false };
  if (r < 75) return { state: 502, due: true };
  if (r < 90) return { state: 102, due: true };
  if (r < 95) return { state: 201, due: true };
  return { state: 412, due: true };
}

async function load() {
  await bootstrapIndex(client, index, 0);
  await client.indices.putSettings({ index, body: { index: { refresh_interval: '-1' } } });
  const documents = Math.ceil(N / KEYS.length);
  const batch = 2_500; // documents per request, with their tasks: ~12,500 lines
  const started = process.hrtime.bigint();
  let written = 0;
  const requests: Promise<void>[] = [];
  for (let d = 0; d < documents; d += batch) {
    const lines: unknown[] = [];
    for (let j = d; j < Math.min(documents, d + batch); j += 1) {
      const id = `doc${String(j).padStart(37, '0')}`;
      lines.push(
        { index: { _index: index, _id: id } },
        {
          target: { id: `ITEM${j}`, url: 'http://example.org/v.mp4', type: 'Video' },
          creator: { id: `CREATOR${j % CREATORS}`, type: 'Organization' },
          created_at: '2026-01-01T00:00:00',
          updated_at: '2026-01-01T00:00:00',
          role: 'document',
        },
      );
      for (let k = 0; k < KEYS.length && j * KEYS.length + k < N; k += 1) {
        const key = KEYS[k] as string;
        const { state, due } = stateOf(j * KEYS.length + k);
        lines.push(
          { index: { _index: index, _id: taskId(id, key), routing: id } },
          {
            task: { key, state, msg: `state ${state}`, priority: 1 },
            role: { name: 'task', parent: id },
            created_at: '2026-01-01T00:00:00',
            updated_at: '2026-01-01T00:00:00',
            dane: { attempt: 1, retries: 0, due_at: due ? 1_900_000_000_000 : null, last_error: null },
          },
        );
        written += 1;
      }
    }
    const request = client.bulk({ body: lines as Record<string, unknown>[] }).then((response) => {
      if ((response.body as { errors: boolean }).errors) throw new Error('bulk load had errors');
    });
    requests.push(request);
    // Two requests in flight: enough to keep a 2-core OpenSearch busy without queueing rejections.
    if (requests.length >= 2) await requests.shift();
  }
  await Promise.all(requests);
  await client.indices.putSettings({ index, body: { index: { refresh_interval: '1s' } } });
  await client.indices.refresh({ index });
  return { written, documents, loadSeconds: seconds(started) };
}

async function time(name: string, fn: () => Promise<unknown>) {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    // Each run pays the whole cost: OpenSearch would otherwise answer a repeated size-0 search from its cache.
    await client.indices.clearCache({ index, request: true });
    const started = process.hrtime.bigint();
    await fn();
    runs.push(seconds(started) * 1000);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `${name.padEnd(58)} first ${runs[0]?.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms   best ${sorted[0]?.toFixed(0).padStart(6)} ms`,
  );
}

try {
  const { written, documents, loadSeconds } = await load();
  console.log(
    `loaded ${written.toLocaleString('en')} tasks on ${documents.toLocaleString('en')} documents by raw _bulk in ${loadSeconds.toFixed(1)} s (${Math.round(written / loadSeconds).toLocaleString('en')} tasks/s)`,
  );
  const counts = await keyCounts({ maxKeys: 1_000, recentMinutes: 10 });
  const total = counts.reduce((sum, k) => sum + k.total, 0);
  if (total !== written) throw new Error(`overview counted ${total} tasks, ${written} were loaded`);
  await time('GET /DANE/overview: keys x states (1 aggregation)', () =>
    keyCounts({ maxKeys: 1_000, recentMinutes: 10 }),
  );
  await time('GET /DANE/overview/creators: creators x states (join)', () =>
    creatorCounts({ maxCreators: 100, recentMinutes: 10 }),
  );
  await time('bulk dry run: ASR tasks in 500/502 (1 aggregation)', () =>
    stateCountsMatching({ key: 'ASR', states: [500, 502] }),
  );
  await time('bulk dry run: one creator, any state (has_parent)', () =>
    stateCountsMatching({ creator: 'CREATOR7' }),
  );
  await time('listing: first page of 100 failed ASR tasks, exact total', () =>
    tasksMatching({ key: 'ASR', states: [500] }, 100),
  );
  // A bulk action over a large selection: every done DOWNLOAD task reset, call after call as the dashboard does.
  const selection = { key: 'DOWNLOAD', states: [200] };
  const dry = await bulkAction('reset', selection, { dryRun: true });
  const started = process.hrtime.bigint();
  let calls = 0;
  let affected = 0;
  let cursor: Awaited<ReturnType<typeof bulkAction>>['next'];
  do {
    const result = await bulkAction('reset', selection, { cursor });
    calls += 1;
    affected += result.affected;
    cursor = result.next;
  } while (cursor);
  const took = seconds(started);
  if (affected !== dry.affected) throw new Error(`reset ${affected} tasks, the dry run said ${dry.affected}`);
  console.log(
    `bulk reset by filter: ${affected.toLocaleString('en')} tasks in ${took.toFixed(1)} s, ${calls} calls of at most 20 s (${Math.round(affected / took).toLocaleString('en')} tasks/s)`,
  );
} finally {
  if (process.env.BENCH_KEEP_INDEX === 'true') console.log(`kept index ${index}`);
  else await client.indices.delete({ index }, { ignore: [404] });
}
