import { readdirSync, readFileSync } from 'node:fs';
import { Client } from '@opensearch-project/opensearch';

/** Small helpers shared by the benchmark's parts: clocks, statistics, progress, process memory. */

export const now = () => performance.now();

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = now();
  const value = await fn();
  return { ms: now() - start, value };
}

/**
 * Wraps every function of `ports` (a TaskPorts part) so that each call reports its name and duration: the
 * in-process profiles time our own port calls this way, with the real store and broker behind them.
 */
export function timePortCalls(
  ports: object,
  prefix: string,
  onCall: (name: string, ms: number) => void,
): void {
  const table = ports as Record<string, unknown>;
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn !== 'function') continue;
    table[name] = async (...args: unknown[]) => {
      const start = now();
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        onCall(`${prefix}.${name}`, now() - start);
      }
    };
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const started = now();
/** Progress goes to stderr, so that stdout holds only the table. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function openSearch(url = process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200'): Client {
  return new Client({ node: url });
}

export const randomId = () => crypto.randomUUID().replace(/-/g, '');

/** A batch of documents as POST /DANE/documents takes them (and as the raw `_bulk` stores them). */
export function documentBodies(creator: string, count: number, offset = 0) {
  return Array.from({ length: count }, (_, i) => ({
    target: { id: `ITEM-${offset + i}`, url: `http://example.org/media/${offset + i}.mp4`, type: 'Video' },
    creator: { id: creator, type: 'Organization' },
  }));
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    redirect: 'follow',
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text for the error message
  }
  return { status: response.status, body: parsed };
}

export function expectStatus(what: string, result: { status: number; body: unknown }, ...ok: number[]) {
  if (!ok.includes(result.status))
    throw new Error(`${what}: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 500)}`);
}

/**
 * Resident memory of process trees, sampled: the sum of VmRSS over a root process and all its descendants but
 * esbuild (serverless-offline runs every function in a worker thread of its one process; esbuild is its bundler).
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peaks = new Map<string, number>();
  private firsts = new Map<string, number>();

  constructor(private readonly roots: () => Map<string, number[]>) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /**
   * Starts a new measurement window; returns, per process tree, the peak (MiB) of the window that ends and how far
   * it rose above the window's first sample.
   */
  reset(): Record<string, { peak: number; rise: number }> {
    this.sample();
    const mib = (kb: number) => Math.round(kb / 1024);
    const out = Object.fromEntries(
      [...this.peaks].map(([k, v]) => [k, { peak: mib(v), rise: mib(v - (this.firsts.get(k) ?? v)) }]),
    );
    this.peaks.clear();
    this.firsts.clear();
    this.sample();
    return out;
  }

  stop(): Record<string, { peak: number; rise: number }> {
    clearInterval(this.timer);
    return this.reset();
  }

  private sample(): void {
    const table = processTable();
    for (const [name, pids] of this.roots()) {
      let kb = 0;
      for (const pid of descendantsOf(pids, table)) {
        const proc = table.get(pid);
        // The bundler's service process (serverless-esbuild, tsx) holds builds, not functions.
        if (proc && proc.name !== 'esbuild') kb += proc.rssKb;
      }
      if (!this.firsts.has(name)) this.firsts.set(name, kb);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, kb));
    }
  }
}

interface Proc {
  ppid: number;
  rssKb: number;
  name: string;
}

function processTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '';
      table.set(Number(entry), { ppid, rssKb, name });
    } catch {
      // the process ended meanwhile
    }
  }
  return table;
}

function descendantsOf(roots: readonly number[], table: Map<number, Proc>): Set<number> {
  const out = new Set(roots.filter((pid) => table.has(pid)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, proc] of table) {
      if (!out.has(pid) && out.has(proc.ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return out;
}

/** Direct children of this process whose command line matches `pattern` (the processes the bench started). */
export function childrenMatching(pattern: RegExp): number[] {
  const out: number[] = [];
  for (const [pid, proc] of processTable()) {
    if (proc.ppid !== process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (pattern.test(cmdline)) out.push(pid);
    } catch {
      // ended meanwhile
    }
  }
  return out;
}
