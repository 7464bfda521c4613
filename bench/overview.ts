import { randomUUID } from 'node:crypto';
import { getConfig } from '../lib/config.ts';
import { taskId } from '../lib/model/ids.ts';
import { bootstrapIndex } from '../lib/store/bootstrap.ts';
import { getStoreClient } from '../lib/store/client.ts';
import {
  creatorCounts,
  keyCounts,
  LEGACY_BY_DOCUMENT_LIMIT,
  stateCountsMatching,
  tasksMatching,
} from '../lib/store/task-filters.ts';
import { bulkAction } from '../lib/tasks/bulk.ts';

/**
 * The dashboard's queries at scale: N tasks (4 keys per document, 100 creators, states spread like a batch in
 * progress, each task carrying its creator as ours do) loaded by raw `_bulk` into an index of their own, then the
 * overview's requests (GET /DANE/overview and /DANE/overview/creators, and for comparison the per-creator counts
 * through the join, as they were before tasks carried their creator), the dry-run count of a bulk action (one
 * aggregation over a filter) and the first page of a filtered listing, each timed over several runs; then one bulk
 * reset of every done DOWNLOAD task (15 % of N), call after call; then the per-creator counts again with tasks
 * written by the original server (no creator) added: a few (counted by document id) and many (through the join).
 * Run: `npx tsx bench/overview.ts [N]` (default 1,000,000) with the local stack up; the index is deleted at the end.
 */
const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = 7;
// An index of its own: DANE_INDEX (default dane-bench-overview) with a random suffix.
process.env.DANE_INDEX = `${process.env.DANE_INDEX ?? 'dane-bench-overview'}-${randomUUID().slice(0, 8)}`;
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

/**
 * Documents `from`..`from + tasks / 4` with their tasks; `legacy`: the tasks as the original server wrote them
 * (no bookkeeping, so no creator).
 */
async function load(from: number, tasks: number, legacy = false) {
  const documents = Math.ceil(tasks / KEYS.length);
  const batch = 2_500; // documents per request, with their tasks: ~12,500 lines
  const started = process.hrtime.bigint();
  let written = 0;
  const requests: Promise<void>[] = [];
  for (let d = from; d < from + documents; d += batch) {
    const lines: unknown[] = [];
    for (let j = d; j < Math.min(from + documents, d + batch); j += 1) {
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
      for (let k = 0; k < KEYS.length && (j - from) * KEYS.length + k < tasks; k += 1) {
        const key = KEYS[k] as string;
        const { state, due } = stateOf(j * KEYS.length + k);
        const dane = {
          attempt: 1,
          retries: 0,
          due_at: due ? 1_900_000_000_000 : null,
          last_error: null,
          creator: `CREATOR${j % CREATORS}`,
        };
        lines.push(
          { index: { _index: index, _id: taskId(id, key), routing: id } },
          {
            task: { key, state, msg: `state ${state}`, priority: 1 },
            role: { name: 'task', parent: id },
            created_at: '2026-01-01T00:00:00',
            updated_at: '2026-01-01T00:00:00',
            ...(legacy ? {} : { dane }),
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
  await client.indices.refresh({ index });
  return { written, documents, loadSeconds: seconds(started) };
}

/** The per-creator counts as they were before tasks carried their creator: one aggregation through the join. */
const joinedCreatorCounts = () =>
  client.search({
    index,
    body: {
      size: 0,
      query: { exists: { field: 'creator.id' } },
      aggs: {
        creators: {
          terms: { field: 'creator.id', size: 100 },
          aggs: {
            tasks: {
              children: { type: 'task' },
              aggs: {
                states: {
                  terms: { field: 'task.state', size: 1_000 },
                  aggs: { due: { filter: { exists: { field: 'dane.due_at' } } } },
                },
                recent: {
                  filter: {
                    bool: {
                      filter: [
                        { term: { 'task.state': 200 } },
                        { range: { updated_at: { gte: 'now-10m' } } },
                      ],
                    },
                  },
                },
              },
            },
          },
        },
      },
    } as Record<string, unknown>,
  });

/** The per-creator counts must account for every task: all creators are listed. */
async function checkCreatorTotals(expected: number) {
  const { creators } = await creatorCounts({ maxCreators: 100, recentMinutes: 10 });
  const total = creators.reduce((sum, c) => sum + c.total, 0);
  if (total !== expected) throw new Error(`per-creator counts found ${total} tasks, ${expected} were loaded`);
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
    `${name.padEnd(66)} first ${runs[0]?.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms   best ${sorted[0]?.toFixed(0).padStart(6)} ms`,
  );
}

try {
  await bootstrapIndex(client, index, 0);
  // Refreshes while loading only slow it down; the load refreshes once at the end.
  await client.indices.putSettings({ index, body: { index: { refresh_interval: '-1' } } });
  const { written, documents, loadSeconds } = await load(0, N);
  await client.indices.putSettings({ index, body: { index: { refresh_interval: '1s' } } });
  console.log(
    `loaded ${written.toLocaleString('en')} tasks on ${documents.toLocaleString('en')} documents by raw _bulk in ${loadSeconds.toFixed(1)} s (${Math.round(written / loadSeconds).toLocaleString('en')} tasks/s)`,
  );
  const counts = await keyCounts({ maxKeys: 1_000, recentMinutes: 10 });
  const total = counts.reduce((sum, k) => sum + k.total, 0);
  if (total !== written) throw new Error(`overview counted ${total} tasks, ${written} were loaded`);
  await time('GET /DANE/overview: keys x states (1 aggregation)', () =>
    keyCounts({ maxKeys: 1_000, recentMinutes: 10 }),
  );
  await checkCreatorTotals(written);
  await time('GET /DANE/overview/creators: creators x states (2 aggregations)', () =>
    creatorCounts({ maxCreators: 100, recentMinutes: 10 }),
  );
  await time('  the same through the join, as before tasks carried creators', joinedCreatorCounts);
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

  // Tasks of the original server (or of our versions before tasks carried their creator), on documents of the
  // same creators: a few are counted by their documents' ids, many through the join.
  let loaded = written;
  let legacy = 0;
  for (const extra of [1_000, 2 * LEGACY_BY_DOCUMENT_LIMIT - 1_000]) {
    const more = await load(documents + legacy / KEYS.length, extra, true);
    loaded += more.written;
    legacy += more.written;
    await checkCreatorTotals(loaded);
    const how = legacy <= LEGACY_BY_DOCUMENT_LIMIT ? 'by document id' : 'through the join';
    await time(`  with ${legacy.toLocaleString('en')} tasks without a creator (${how})`, () =>
      creatorCounts({ maxCreators: 100, recentMinutes: 10 }),
    );
  }
} finally {
  if (process.env.BENCH_KEEP_INDEX === 'true') console.log(`kept index ${index}`);
  else await client.indices.delete({ index }, { ignore: [404] });
}
