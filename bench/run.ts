import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { median, openSearch, progress, RssSampler } from './lib.ts';
import {
  createRawIndex,
  type RefreshProbe,
  type RoundTrips,
  rawBulkDocuments,
  rawBulkTasks,
  rawBulkUpdates,
  rawParents,
  rawPublish,
  rawRoundTrips,
  refreshProbe,
} from './raw.ts';
import { loadFinishedTasks, sweepMedian } from './sweep.ts';
import { amqpNames, startOriginal, startOurs, type Target } from './targets.ts';
import {
  assignBatch,
  documentsBatch,
  offlineFloor,
  replies,
  singleDocuments,
  singleInProcess,
  singleTasks,
} from './workloads.ts';

/**
 * `npm run bench [-- --n 10000 --rounds 3 --vs-original]`: every workload of issue 9 against the raw limits of
 * OpenSearch and RabbitMQ measured in the same run (and, with --vs-original, against DANE-server 0.3.1 from PyPI
 * on the same services), one table of medians and ratios on stdout, the same as JSON in --json. Progress on
 * stderr. Needs the local stack up (npm run stack:up); uses its own index (DANE_INDEX, default dane-bench, plus
 * -original and -raw) and the vhost of AMQP_URL, which it purges of its own queues first.
 */

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    'no-warmup': { type: 'boolean', default: false },
    'vs-original': { type: 'boolean', default: false },
    'original-n': { type: 'string' },
    single: { type: 'string', default: '50' },
    finished: { type: 'string', default: '100000' },
    'event-batch': { type: 'string' },
    'event-window-ms': { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string', default: 'bench/last-run.json' },
    port: { type: 'string', default: '5571' },
    'original-port': { type: 'string', default: '5573' },
  },
});

const N = Number(args.n);
const ROUNDS = Number(args.rounds);
const WARMUP = !args['no-warmup'];
const SINGLE = Number(args.single);
const FINISHED = Number(args.finished);
// The original assigns some 15-50 tasks and applies some 5-35 replies per second here (its scheduler publishes
// tasks a second time while its API thread is still at them, and every duplicate is replied to): 10,000 of each
// would take most of an hour a round. Its batch workloads run at this size unless told otherwise, compared per item.
const ORIGINAL_N = Number(args['original-n'] ?? Math.min(N, 500));
const WORKLOADS = ['raw', 'refresh', 'single', 'documents', 'assign', 'replies', 'sweep'] as const;
type Workload = (typeof WORKLOADS)[number];
const only = new Set((args.only?.split(',') ?? WORKLOADS) as Workload[]);
for (const w of only) if (!WORKLOADS.includes(w)) throw new Error(`--only: unknown workload ${w}`);
// Assigning needs documents, replies need assigned tasks.
if (only.has('replies')) only.add('assign');
if (only.has('assign')) only.add('documents');

const opensearchUrl = process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200';
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const baseIndex = process.env.DANE_INDEX ?? 'dane-bench';
const indices = { ours: baseIndex, original: `${baseIndex}-original`, raw: `${baseIndex}-raw` };

interface TargetRound {
  singleDocumentMs?: number;
  singleTaskMs?: number;
  /** Ours: the same requests' functions called in-process, and GET /health through serverless-offline. */
  singleDocumentInProcessMs?: number;
  singleTaskInProcessMs?: number;
  /** The raw round trips measured interleaved with the in-process calls (bench/single-inprocess.ts). */
  rawIndexInProcessMs?: number;
  rawGetIndexPublishInProcessMs?: number;
  healthMs?: number;
  /** GET /DANE/auth/me: the authorizer (with its key read) and one invocation without I/O. */
  authorizedFloorMs?: number;
  documentsMs?: number;
  assignMs?: number;
  assignAnsweredMs?: number;
  assignMessages?: number;
  repliesMs?: number;
  /** Ours: the same number of replies, all waiting in the response queue before the clock starts. */
  backlogMs?: number;
  error?: string;
  rssMiB: Record<string, Record<string, { peak: number; rise: number }>>;
}

interface RawRound {
  bulkDocuments: { none: number; true: number; waitFor: number };
  bulkTasks: { none: number; true: number; waitFor: number };
  bulkUpdates: { none: number; true: number; waitFor: number };
  publish: number;
  roundTrips: RoundTrips;
}

const client = openSearch(opensearchUrl);
const connection = await amqp.connect(amqpUrl);
const channel = await connection.createConfirmChannel();
channel.on('return', () => undefined);

progress(
  `n=${N}, rounds=${ROUNDS}, original=${args['vs-original'] ? `n=${ORIGINAL_N}` : 'no'}, index=${baseIndex}`,
);
for (const index of Object.values(indices)) await client.indices.delete({ index }, { ignore: [404] });
// Replies left over from an interrupted run would be applied to nothing, but they would cost time.
for (const queue of Object.values(indices).map((index) => amqpNames(index).responseQueue)) {
  const probe = await connection.createChannel();
  probe.on('error', () => undefined);
  await probe.deleteQueue(queue).catch(() => undefined);
  await probe.close().catch(() => undefined);
}

const targets: Target[] = [];
const sampler = new RssSampler(() => {
  const all = new Map<string, number[]>();
  for (const target of targets)
    for (const [name, pids] of target.processes()) all.set(`${target.name} ${name}`, pids);
  return all;
});

const results: {
  rounds: Array<{ raw?: RawRound; ours: TargetRound; original?: TargetRound }>;
  refresh: RefreshProbe[];
  sweep?: { emptyMs: number; finishedMs: number; finished: number; loadMs: number; readAtEmpty: number };
} = { rounds: [], refresh: [] };

try {
  targets.push(
    await startOurs({
      opensearchUrl,
      amqpUrl,
      index: indices.ours,
      port: Number(args.port),
      eventBatchSize: args['event-batch'] ? Number(args['event-batch']) : undefined,
      eventWindowMs: args['event-window-ms'] ? Number(args['event-window-ms']) : undefined,
    }),
  );
  if (args['vs-original'])
    targets.push(
      await startOriginal({
        opensearchUrl,
        amqpUrl,
        index: indices.original,
        port: Number(args['original-port']),
      }),
    );
  sampler.start();
  const ours = targets[0] as Target;

  await createRawIndex(client, indices.raw);
  const rawDocs = await rawParents(client, indices.raw, N);
  if (only.has('refresh')) {
    for (const clients of [1, 20])
      for (const refresh of [false, true, 'wait_for'] as const)
        results.refresh.push(
          await refreshProbe(client, indices.raw, refresh, {
            clients,
            perClient: clients === 1 ? 20 : refresh === 'wait_for' ? 5 : 20,
          }),
        );
  }

  const ourDocuments: string[] = [];
  if (WARMUP && (only.has('documents') || only.has('assign'))) {
    // Functions start cold (serverless-offline starts a worker thread per instance, as Lambda starts a container),
    // and a first batch would time those starts; one round of the batch workloads, not counted, warms every
    // function instance the rounds use. The original has no cold start.
    progress('warm-up round (ours, not counted)');
    const singleWanted = only.delete('single');
    await runRound(ours, N, 'warm-up: ours', { rssMiB: {} });
    if (singleWanted) only.add('single');
  }
  for (let round = 1; round <= ROUNDS; round += 1) {
    const entry: (typeof results.rounds)[number] = { ours: { rssMiB: {} } };
    results.rounds.push(entry);
    if (only.has('raw')) {
      progress(`round ${round}: raw limits`);
      const docsNone = await rawBulkDocuments(client, indices.raw, N, false);
      const docsTrue = await rawBulkDocuments(client, indices.raw, N, true);
      const docsWait = await rawBulkDocuments(client, indices.raw, N, 'wait_for');
      const tasksNone = await rawBulkTasks(client, indices.raw, rawDocs, false);
      const tasksTrue = await rawBulkTasks(client, indices.raw, rawDocs, true);
      const tasksWait = await rawBulkTasks(client, indices.raw, rawDocs, 'wait_for');
      const updatesNone = await rawBulkUpdates(client, indices.raw, tasksNone.tasks, false);
      const updatesTrue = await rawBulkUpdates(client, indices.raw, tasksTrue.tasks, true);
      const updatesWait = await rawBulkUpdates(client, indices.raw, tasksWait.tasks, 'wait_for');
      const publish = await rawPublish(channel, ours.exchange, N);
      const roundTrips = await rawRoundTrips(client, channel, indices.raw, ours.exchange, rawDocs, SINGLE);
      entry.raw = {
        bulkDocuments: { none: docsNone, true: docsTrue, waitFor: docsWait },
        bulkTasks: { none: tasksNone.ms, true: tasksTrue.ms, waitFor: tasksWait.ms },
        bulkUpdates: { none: updatesNone, true: updatesTrue, waitFor: updatesWait },
        publish,
        roundTrips,
      };
    }
    for (const target of targets) {
      const n = target.name === 'ours' ? N : ORIGINAL_N;
      const out: TargetRound = { rssMiB: {} };
      if (target.name === 'ours') entry.ours = out;
      else entry.original = out;
      const tag = `round ${round}: ${target.name}`;
      try {
        await runRound(target, n, tag, out);
      } catch (error) {
        // One failed workload should not cost the whole run: the table shows what was measured, the JSON why not.
        out.error = (error as Error).message;
        progress(`${tag}: FAILED: ${out.error}`);
      }
    }
  }

  async function runRound(target: Target, n: number, tag: string, out: TargetRound) {
    sampler.reset();
    if (only.has('single')) {
      progress(`${tag}: ${SINGLE} single POST /DANE/document, then ${SINGLE} single POST /DANE/task`);
      const docs = await singleDocuments(target, SINGLE);
      out.singleDocumentMs = docs.medianMs;
      out.singleTaskMs = (await singleTasks(target, channel, docs.ids)).medianMs;
      if (target.name === 'ours') {
        out.healthMs = await offlineFloor(target, SINGLE);
        out.authorizedFloorMs = await offlineFloor(target, SINGLE, true);
        const inProcess = singleInProcess(target, { opensearchUrl, amqpUrl }, SINGLE);
        out.singleDocumentInProcessMs = inProcess.documentMs;
        out.singleTaskInProcessMs = inProcess.taskMs;
        out.rawIndexInProcessMs = inProcess.rawIndexMs;
        out.rawGetIndexPublishInProcessMs = inProcess.rawGetIndexPublishMs;
      }
      out.rssMiB.single = sampler.reset();
    }
    if (only.has('documents')) {
      progress(`${tag}: POST /DANE/documents of ${n}`);
      const docs = await documentsBatch(target, n);
      out.documentsMs = docs.ms;
      out.rssMiB.documents = sampler.reset();
      if (target.name === 'ours') ourDocuments.push(...docs.ids);
      if (only.has('assign')) {
        progress(`${tag}: assign ${n} tasks, until all are in the worker queue`);
        const assigned = await assignBatch(target, channel, docs.ids);
        out.assignMs = assigned.ms;
        out.assignAnsweredMs = assigned.answeredMs;
        out.assignMessages = assigned.messages;
        out.rssMiB.assign = sampler.reset();
        if (only.has('replies')) {
          progress(`${tag}: ${n} worker replies, until all are applied`);
          const applied = await replies(target, client, channel, amqpUrl, assigned.queue, assigned.taskIds);
          out.repliesMs = applied.ms;
          out.rssMiB.replies = sampler.reset();
          if (target.pauseReplies) {
            progress(`${tag}: assign ${n} more, then drain ${n} replies waiting in the response queue`);
            const more = await assignBatch(target, channel, docs.ids);
            const drained = await replies(target, client, channel, amqpUrl, more.queue, more.taskIds, {
              backlog: true,
            });
            out.backlogMs = drained.ms;
            out.rssMiB.backlog = sampler.reset();
          }
        }
      }
    }
  }

  if (only.has('sweep')) {
    // Both runs at the same point, after the other workloads, so that they differ only by the finished tasks
    // (the tasks the workloads left queued cost the sweep a look at their keys' queues either way).
    progress('sweep: over the index as the workloads left it');
    const sweepEmpty = await sweepMedian(ours);
    const parents = ourDocuments.length > 0 ? ourDocuments : rawDocs;
    progress(`sweep: loading ${FINISHED} finished tasks by raw _bulk`);
    const loadMs = await loadFinishedTasks(client, ours.index, parents, FINISHED);
    progress(`sweep: over ${FINISHED}+ finished tasks`);
    const loaded = await sweepMedian(ours);
    results.sweep = {
      emptyMs: sweepEmpty.medianMs,
      finishedMs: loaded.medianMs,
      finished: FINISHED,
      loadMs,
      readAtEmpty: sweepEmpty.read,
    };
  }
} finally {
  sampler.stop();
  for (const target of targets) await target.stop().catch(() => undefined);
  await connection.close().catch(() => undefined);
}

// --- the table ----------------------------------------------------------------------------------------------

const med = (pick: (round: (typeof results.rounds)[number]) => number | undefined) => {
  const values = results.rounds.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v));
  return values.length > 0 ? median(values) : undefined;
};
const ms = (value: number | undefined) =>
  value === undefined ? '—' : value >= 1_000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
const rate = (n: number, value: number | undefined) =>
  value === undefined ? '' : ` (${Math.round(n / (value / 1000)).toLocaleString('en-US')}/s)`;
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}`;
const fmt = (n: number) => n.toLocaleString('en-US');

const raw = {
  docsNone: med((r) => r.raw?.bulkDocuments.none),
  docsTrue: med((r) => r.raw?.bulkDocuments.true),
  docsWait: med((r) => r.raw?.bulkDocuments.waitFor),
  tasksNone: med((r) => r.raw?.bulkTasks.none),
  tasksTrue: med((r) => r.raw?.bulkTasks.true),
  tasksWait: med((r) => r.raw?.bulkTasks.waitFor),
  updatesNone: med((r) => r.raw?.bulkUpdates.none),
  updatesTrue: med((r) => r.raw?.bulkUpdates.true),
  updatesWait: med((r) => r.raw?.bulkUpdates.waitFor),
  publish: med((r) => r.raw?.publish),
  index: med((r) => r.raw?.roundTrips.index),
  indexPublish: med((r) => r.raw?.roundTrips.indexPublish),
  getIndexPublish: med((r) => r.raw?.roundTrips.getIndexPublish),
};
const sum = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b;
const o = {
  singleDocument: med((r) => r.ours.singleDocumentMs),
  singleTask: med((r) => r.ours.singleTaskMs),
  singleDocumentInProcess: med((r) => r.ours.singleDocumentInProcessMs),
  singleTaskInProcess: med((r) => r.ours.singleTaskInProcessMs),
  rawIndexInProcess: med((r) => r.ours.rawIndexInProcessMs),
  rawGetIndexPublishInProcess: med((r) => r.ours.rawGetIndexPublishInProcessMs),
  health: med((r) => r.ours.healthMs),
  authorizedFloor: med((r) => r.ours.authorizedFloorMs),
  documents: med((r) => r.ours.documentsMs),
  assign: med((r) => r.ours.assignMs),
  assignAnswered: med((r) => r.ours.assignAnsweredMs),
  replies: med((r) => r.ours.repliesMs),
  backlog: med((r) => r.ours.backlogMs),
};
const g = {
  singleDocument: med((r) => r.original?.singleDocumentMs),
  singleTask: med((r) => r.original?.singleTaskMs),
  documents: med((r) => r.original?.documentsMs),
  assign: med((r) => r.original?.assignMs),
  replies: med((r) => r.original?.repliesMs),
  messages: med((r) => r.original?.assignMessages),
};
// Batch workloads of different sizes are compared per item.
const perItem = (value: number | undefined, n: number) => (value === undefined ? undefined : value / n);
const vsOriginal = (ours: number | undefined, original: number | undefined) =>
  ratio(perItem(ours, N), perItem(original, ORIGINAL_N));

const peak = (target: 'ours' | 'original', workloads: string[]) => {
  const out: Record<string, { peak: number; rise: number }> = {};
  for (const round of results.rounds) {
    const rss = (target === 'ours' ? round.ours : round.original)?.rssMiB ?? {};
    for (const w of workloads)
      for (const [name, { peak, rise }] of Object.entries(rss[w] ?? {})) {
        if (!name.startsWith(target)) continue;
        const seen = out[name] ?? { peak: 0, rise: 0 };
        out[name] = { peak: Math.max(seen.peak, peak), rise: Math.max(seen.rise, rise) };
      }
  }
  return Object.entries(out)
    .map(([name, { peak, rise }]) => `${name.slice(target.length + 1)} ${peak} MiB (+${rise})`)
    .join(', ');
};

const rows: string[][] = [
  ['workload', 'ours', 'original 0.3.1', 'raw limit, same run', 'ours / raw', 'ours / original', 'goal'],
  [
    `warm single POST /DANE/document, median of ${SINGLE}`,
    ms(o.singleDocument),
    ms(g.singleDocument),
    `one index: ${ms(raw.index)}`,
    ratio(o.singleDocument, raw.index),
    ratio(o.singleDocument, g.singleDocument),
    'below the original',
  ],
  [
    `warm single POST /DANE/task, median of ${SINGLE}`,
    ms(o.singleTask),
    ms(g.singleTask),
    `get + index + confirmed publish: ${ms(raw.getIndexPublish)}`,
    ratio(o.singleTask, raw.getIndexPublish),
    ratio(o.singleTask, g.singleTask),
    'below the original; ≤ 2× raw',
  ],
  [
    'the same, in-process: POST /DANE/document, POST /DANE/task (the functions without serverless-offline)',
    `${ms(o.singleDocumentInProcess)}, ${ms(o.singleTaskInProcess)}`,
    '—',
    `the same, each right after its call: ${ms(o.rawIndexInProcess)}, ${ms(o.rawGetIndexPublishInProcess)}`,
    `${ratio(o.singleDocumentInProcess, o.rawIndexInProcess)}, ${ratio(o.singleTaskInProcess, o.rawGetIndexPublishInProcess)}`,
    '—',
    '≤ 2× raw',
  ],
  [
    'serverless-offline alone: GET /health (one invocation, no I/O; authorized routes pay two)',
    ms(o.health),
    '—',
    '—',
    '—',
    '—',
    '—',
  ],
  [
    // A single document costs at least this plus its index: within 2x of the index only if this is at most 1x.
    'serverless-offline with the authorizer: GET /DANE/auth/me (the authorizer and its key read, then one invocation without I/O), the least an authorized request costs',
    ms(o.authorizedFloor),
    '—',
    `one index: ${ms(raw.index)}`,
    ratio(o.authorizedFloor, raw.index),
    '—',
    'a single POST /DANE/document can be within 2× raw only if this is ≤ 1',
  ],
  [
    `POST /DANE/documents of ${fmt(N)}`,
    `${ms(o.documents)}${rate(N, o.documents)}`,
    g.documents === undefined
      ? '—'
      : `${fmt(ORIGINAL_N)}: ${ms(g.documents)}${rate(ORIGINAL_N, g.documents)}`,
    `_bulk index, no refresh: ${ms(raw.docsNone)}`,
    ratio(o.documents, raw.docsNone),
    vsOriginal(o.documents, g.documents),
    '≤ 2× raw',
  ],
  [
    `assign ${fmt(N)} → all in a bound queue`,
    `${ms(o.assign)}${rate(N, o.assign)}, answered in ${ms(o.assignAnswered)}`,
    g.assign === undefined
      ? '—'
      : `${fmt(ORIGINAL_N)}: ${ms(g.assign)}${rate(ORIGINAL_N, g.assign)}, ${fmt(g.messages ?? 0)} messages`,
    `_bulk index + pipelined publish: ${ms(sum(raw.tasksNone, raw.publish))}`,
    ratio(o.assign, sum(raw.tasksNone, raw.publish)),
    vsOriginal(o.assign, g.assign),
    '≤ 2× raw',
  ],
  [
    `${fmt(N)} worker replies applied`,
    `${ms(o.replies)}${rate(N, o.replies)}`,
    g.replies === undefined ? '—' : `${fmt(ORIGINAL_N)}: ${ms(g.replies)}${rate(ORIGINAL_N, g.replies)}`,
    `_bulk update, no refresh: ${ms(raw.updatesNone)}`,
    ratio(o.replies, raw.updatesNone),
    vsOriginal(o.replies, g.replies),
    'workers answering live: bounded by how fast they answer',
  ],
  [
    `${fmt(N)} worker replies waiting in the response queue, applied`,
    `${ms(o.backlog)}${rate(N, o.backlog)}`,
    '—',
    `_bulk update, no refresh: ${ms(raw.updatesNone)}`,
    ratio(o.backlog, raw.updatesNone),
    '—',
    '≤ 2× raw',
  ],
];
if (results.sweep) {
  rows.push([
    `sweep, without vs with ${fmt(results.sweep.finished)} finished tasks more`,
    `${ms(results.sweep.emptyMs)} vs ${ms(results.sweep.finishedMs)}`,
    '—',
    '—',
    `${ratio(results.sweep.finishedMs, results.sweep.emptyMs)} (with / without)`,
    '—',
    'flat (≈ 1)',
  ]);
}
rows.push([
  `peak RSS during the ${fmt(N)} runs (largest rise within one workload)`,
  peak('ours', ['documents', 'assign', 'replies', 'backlog']) || '—',
  peak('original', ['documents', 'assign', 'replies']) || '—',
  '—',
  '—',
  '—',
  'nothing grows with N beyond one batch',
]);

const rawRows: string[][] = [
  ['raw limit (median of the rounds)', 'no refresh', 'refresh=true', 'refresh=wait_for'],
  [`_bulk index of ${fmt(N)} documents`, ms(raw.docsNone), ms(raw.docsTrue), ms(raw.docsWait)],
  [`_bulk index of ${fmt(N)} tasks`, ms(raw.tasksNone), ms(raw.tasksTrue), ms(raw.tasksWait)],
  [`_bulk update of ${fmt(N)} tasks`, ms(raw.updatesNone), ms(raw.updatesTrue), ms(raw.updatesWait)],
  [`confirmed pipelined publish of ${fmt(N)}`, ms(raw.publish), '', ''],
  ['one index round trip', ms(raw.index), '', ''],
  ['one index + confirmed publish round trip', ms(raw.indexPublish), '', ''],
  ['one get + index + confirmed publish round trip', ms(raw.getIndexPublish), '', ''],
];

const refreshRows: string[][] = [
  [
    'single write + immediate search',
    'write median',
    'write p95',
    'write + search median',
    'search found it',
  ],
  ...results.refresh.map((p) => [
    `refresh=${p.refresh}, ${p.clients} client${p.clients === 1 ? '' : 's'}`,
    ms(p.writeMedianMs),
    ms(p.writeP95Ms),
    ms(p.writeSearchMedianMs),
    `${p.foundPct.toFixed(0)}%`,
  ]),
];

function table(data: string[][]): string {
  const [head, ...body] = data as [string[], ...string[][]];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
const header =
  `DANE benchmark, ${new Date().toISOString().slice(0, 16)}Z, ${machine}, N = ${fmt(N)}, ` +
  `${ROUNDS} round(s), medians` +
  (args['vs-original'] ? `; original 0.3.1 at N = ${fmt(ORIGINAL_N)}, compared per item` : '');
const failures = results.rounds.flatMap((round, i) =>
  (['ours', 'original'] as const).flatMap((name) => {
    const error = round[name]?.error;
    return error ? [`round ${i + 1}, ${name}: not measured past the failure: ${error}`] : [];
  }),
);
const text = [
  header,
  '',
  table(rows),
  '',
  table(rawRows),
  '',
  ...(results.refresh.length ? [table(refreshRows)] : []),
  ...(failures.length ? ['', ...failures] : []),
].join('\n');
console.log(text);

writeFileSync(
  args.json,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine,
      n: N,
      rounds: ROUNDS,
      originalN: args['vs-original'] ? ORIGINAL_N : null,
      eventSource: {
        batchSize: args['event-batch'] ?? 'default',
        windowMs: args['event-window-ms'] ?? 'default',
      },
      medians: { ours: o, original: args['vs-original'] ? g : null, raw },
      sweep: results.sweep ?? null,
      refresh: results.refresh,
      perRound: results.rounds,
      table: text,
    },
    null,
    2,
  )}\n`,
);
progress(`written ${args.json}`);
process.exit(0);
