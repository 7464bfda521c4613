import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { type ApiTask, type StoredTask, StoredTaskSchema, toApiTask } from '../model/task.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';
import {
  bulkChunks,
  classifyItemError,
  describeItemError,
  type ItemError,
  type ItemErrorKind,
  mgetFound,
  searchAllShards,
} from './items.ts';
import {
  type Paged,
  type PageParams,
  type SearchHit,
  type SortValues,
  searchAll,
  searchPage,
} from './paging.ts';
import { REFRESH, type Refresh } from './refresh.ts';

/**
 * Task persistence. Every read returns the sequence number and primary term with the source, because every
 * state change we make is conditional on them (DESIGN principle 2): the API, the sweep and reply handling can
 * race on one task, and exactly one of them wins each transition.
 */

export interface TaskHit {
  id: string;
  /** The parent document id; also the task's routing. */
  documentId: string;
  seqNo: number;
  primaryTerm: number;
  source: StoredTask;
}

interface RawHit {
  _id: string;
  _seq_no?: number;
  _primary_term?: number;
  _source?: unknown;
  found?: boolean;
}

const index = () => getConfig().opensearch.index;

/** Parses a hit; anything that is not a well-formed task (a document id, a result) reads as absent. */
export function toTaskHit(hit: RawHit): TaskHit | undefined {
  if (hit.found === false || hit._source === undefined) return undefined;
  const parsed = StoredTaskSchema.safeParse(hit._source);
  if (!parsed.success) return undefined;
  return {
    id: hit._id,
    documentId: parsed.data.role.parent,
    seqNo: hit._seq_no ?? 0,
    primaryTerm: hit._primary_term ?? 1,
    source: parsed.data,
  };
}

async function store<T>(operation: string, fn: (client: Client) => Promise<T>): Promise<T> {
  await ensureIndex();
  return withStore(operation, fn);
}

export async function getTask(id: string): Promise<TaskHit | undefined> {
  return store('get task', async (client) => {
    const response = await client.get({ index: index(), id }, { ignore: [404] });
    return toTaskHit(response.body as RawHit);
  });
}

export async function getTasks(ids: readonly string[]): Promise<Map<string, TaskHit>> {
  const found = new Map<string, TaskHit>();
  if (ids.length === 0) return found;
  return store('get tasks', async (client) => {
    for (const doc of await mgetFound(client, index(), ids)) {
      const hit = toTaskHit(doc);
      if (hit) found.set(hit.id, hit);
    }
    return found;
  });
}

export type WriteOutcome =
  | { status: 'ok'; seqNo: number; primaryTerm: number }
  | { status: 'conflict' | 'missing' }
  | {
      status: 'error';
      /** transient: worth another round (429, 5xx, shard unavailable); permanent: this write cannot succeed. */
      kind: Exclude<ItemErrorKind, 'missing'>;
      reason: string;
    };

export interface NewTask {
  id: string;
  documentId: string;
  source: StoredTask;
}

interface BulkItem {
  status: number;
  _seq_no?: number;
  _primary_term?: number;
  error?: ItemError;
}

function outcomeOf(item: BulkItem | undefined): WriteOutcome {
  if (!item) return { status: 'error', kind: 'transient', reason: 'no answer for this item' };
  if (item.status < 300)
    return { status: 'ok', seqNo: item._seq_no ?? 0, primaryTerm: item._primary_term ?? 1 };
  if (item.status === 409) return { status: 'conflict' };
  const kind = classifyItemError(item.status, item.error);
  if (kind === 'missing') return { status: 'missing' };
  return { status: 'error', kind, reason: `[${item.status}] ${describeItemError(item.error)}` };
}

/**
 * Only what `outcomeOf` reads: of 10,000 items, OpenSearch otherwise writes (and we parse) some 2 MB of index
 * names, ids, versions, results and shard counts.
 */
const BULK_FILTER = 'items.*.status,items.*._seq_no,items.*._primary_term,items.*.error';

async function bulk(operation: string, lines: unknown[], refresh: Refresh): Promise<WriteOutcome[]> {
  if (lines.length === 0) return [];
  return store(operation, async (client) => {
    const response = await client.bulk({
      body: lines as Record<string, unknown>[],
      refresh,
      filter_path: BULK_FILTER,
    });
    const items = (response.body as { items: Record<string, BulkItem>[] }).items;
    return items.map((item) => outcomeOf(Object.values(item)[0]));
  });
}

/**
 * Creates tasks with `op_type=create`: a task id that exists already comes back as `conflict`. A large batch of
 * one spec (batch assignment: every source shares the spec's `args` object, so no chunk brings a field another
 * does not) goes in concurrent `_bulk` requests (chunkedBulk).
 */
export function createTasks(
  tasks: readonly NewTask[],
  refresh: Refresh = REFRESH.newTasks,
): Promise<WriteOutcome[]> {
  const args = tasks[0]?.source.task.args;
  return chunkedBulk(
    'create tasks',
    tasks,
    (task) => [{ create: { _index: index(), _id: task.id, routing: task.documentId } }, task.source],
    tasks.every((task) => task.source.task.args === args),
    refresh,
  );
}

/**
 * The bulk actions of `items` in concurrent `_bulk` requests where `concurrent` allows it (bulkChunks), then one
 * refresh if the policy asks for one, instead of one per request; the outcome of each item, in order.
 */
async function chunkedBulk<T>(
  operation: string,
  items: readonly T[],
  linesOf: (item: T) => unknown[],
  concurrent: boolean,
  refresh: Refresh,
): Promise<WriteOutcome[]> {
  const lines = (from: number, to: number) => {
    const out: unknown[] = [];
    for (let i = from; i < to; i += 1) out.push(...linesOf(items[i] as T));
    return out;
  };
  const chunks = bulkChunks(items.length, concurrent);
  if (chunks.length <= 1) return bulk(operation, lines(0, items.length), refresh);
  const refreshAfter = refresh === true;
  const answers = await Promise.all(
    chunks.map(({ start, end }) => bulk(operation, lines(start, end), refreshAfter ? false : refresh)),
  );
  if (refreshAfter) await refreshTasks();
  return answers.flat();
}

export interface ConditionalUpdate {
  hit: Pick<TaskHit, 'id' | 'documentId' | 'seqNo' | 'primaryTerm'>;
  /** Partial source, merged into the stored one. */
  doc: Record<string, unknown>;
}

/**
 * Applies partial updates, each only if the task is still at the version that was read. A `conflict` means
 * someone else changed it in between: the caller decides whether to re-read or to give way.
 */
export function updateTasksIfUnchanged(
  updates: readonly ConditionalUpdate[],
  refresh: Refresh = REFRESH.taskUpdates,
) {
  const lines = updates.flatMap(({ hit, doc }) => [{ update: ifUnchanged(hit) }, { doc }]);
  return bulk('update tasks', lines, refresh);
}

/** The bulk action metadata that makes a write conditional on the version that was read. */
const ifUnchanged = (hit: Pick<TaskHit, 'id' | 'documentId' | 'seqNo' | 'primaryTerm'>) => ({
  _index: index(),
  _id: hit.id,
  routing: hit.documentId,
  if_seq_no: hit.seqNo,
  if_primary_term: hit.primaryTerm,
});

export interface TaskPage {
  hits: TaskHit[];
  total: number;
  /** Sort values of the last hit, present only when more follow. */
  next: SortValues | undefined;
}

/**
 * Replaces whole task sources, each only if the task is still at the version that was read. Cheaper for
 * OpenSearch than partial updates (no read-merge on the server), for callers that hold the full source anyway.
 */
export function replaceTasksIfUnchanged(
  replacements: ReadonlyArray<{
    hit: Pick<TaskHit, 'id' | 'documentId' | 'seqNo' | 'primaryTerm'>;
    source: StoredTask;
  }>,
  refresh: Refresh = REFRESH.taskUpdates,
) {
  // Concurrent requests for a large batch: each source was indexed before, so its fields are mapped already, and
  // what a change adds (state, message, bookkeeping) has one type whichever request maps it first.
  return chunkedBulk(
    'replace tasks',
    replacements,
    ({ hit, source }) => [{ index: ifUnchanged(hit) }, source],
    true,
    refresh,
  );
}

/**
 * One page of tasks matching `query`, in a stable order (`_id`-based tie-break), continued with search_after so
 * that any number of tasks can be paged without the 10,000 window limit.
 */
export async function searchTasks(
  query: Record<string, unknown>,
  options: { size: number; after?: SortValues | undefined; sort?: Record<string, unknown>[] },
): Promise<TaskPage> {
  return store('search tasks', async (client) => {
    const page = await searchPage(client, {
      index: index(),
      query,
      sort: [...(options.sort ?? []), { _id: 'asc' }],
      size: options.size,
      after: options.after,
      versions: true,
      trackTotal: true,
    });
    return { hits: toTaskHits(page.hits), total: page.total ?? 0, next: page.next };
  });
}

const toTaskHits = (hits: SearchHit[]) => hits.map(toTaskHit).filter((h): h is TaskHit => h !== undefined);

async function pagedTasks(query: Record<string, unknown>, page: PageParams): Promise<Paged<ApiTask>> {
  const result = await searchTasks(query, { size: page.limit, after: page.cursor });
  return { items: result.hits.map((h) => toApiTask(h.id, h.source)), total: result.total, next: result.next };
}

const hasParent = (query: Record<string, unknown>) => ({ has_parent: { parent_type: 'document', query } });

/** Every task of a document, however many (the original stopped at 10), ordered by key (unique per document). */
export async function tasksOfDocument(documentId: string): Promise<TaskHit[]> {
  return store('tasks of document', async (client) => {
    const all: TaskHit[] = [];
    const pages = searchAll(client, {
      index: index(),
      query: {
        bool: {
          filter: [{ parent_id: { type: 'task', id: documentId } }, { exists: { field: 'task.key' } }],
        },
      },
      sort: [{ 'task.key': 'asc' }, { _id: 'asc' }],
      routing: documentId,
      versions: true,
    });
    for await (const hits of pages) all.push(...toTaskHits(hits));
    return all;
  });
}

/** Makes every write so far searchable (an explicit index refresh), for a reader known to search next. */
export async function refreshTasks(): Promise<void> {
  await store('refresh', async (client) => {
    await client.indices.refresh({ index: index() });
  });
}

/**
 * The tasks of many documents in one search (paged), grouped by document id; with `states`, only those in one of
 * them. Search results lag writes by up to a refresh interval: callers change what they find only by conditional
 * writes, so a stale hit loses its race instead of overwriting a newer state.
 */
export async function tasksOfDocuments(
  documentIds: readonly string[],
  states?: readonly number[],
): Promise<Map<string, TaskHit[]>> {
  const grouped = new Map<string, TaskHit[]>();
  const ids = [...new Set(documentIds)];
  if (ids.length === 0) return grouped;
  return store('tasks of documents', async (client) => {
    // The join field indexes a child's parent id as `role#<parent relation>`: one terms filter for all parents.
    for (let i = 0; i < ids.length; i += TERMS_CHUNK) {
      const filter: Record<string, unknown>[] = [
        { terms: { 'role#document': ids.slice(i, i + TERMS_CHUNK) } },
        { term: { role: 'task' } },
      ];
      if (states) filter.push({ terms: { 'task.state': [...states] } });
      const pages = searchAll(client, {
        index: index(),
        query: { bool: { filter } },
        sort: [{ _id: 'asc' }],
        versions: true,
      });
      for await (const hits of pages) {
        for (const hit of toTaskHits(hits)) {
          const group = grouped.get(hit.documentId);
          if (group) group.push(hit);
          else grouped.set(hit.documentId, [hit]);
        }
      }
    }
    return grouped;
  });
}

/** Below OpenSearch's default limit of 65,536 terms per terms query. */
const TERMS_CHUNK = 10_000;

/**
 * The tasks due for the sweep: `dane.due_at` passed, and tasks written by the original server (no bookkeeping)
 * in `legacyStates`, which its scheduler re-ran every 5 s. Earliest due first.
 */
export function dueTasks(nowMs: number, legacyStates: readonly number[], size: number, after?: SortValues) {
  const query = {
    bool: {
      filter: [{ exists: { field: 'task.key' } }],
      should: [
        { range: { 'dane.due_at': { lte: nowMs } } },
        {
          bool: {
            must_not: [{ exists: { field: 'dane' } }],
            filter: [{ terms: { 'task.state': legacyStates } }],
          },
        },
      ],
      minimum_should_match: 1,
    },
  };
  return searchTasks(query, {
    size,
    after,
    sort: [{ 'dane.due_at': { order: 'asc', unmapped_type: 'long' } }],
  });
}

/** Tasks of documents that exist, in none of `states`. */
export function tasksNotIn(states: readonly number[], page: PageParams): Promise<Paged<ApiTask>> {
  return pagedTasks(
    {
      bool: {
        filter: [{ exists: { field: 'task.key' } }, hasParent({ match_all: {} })],
        must_not: [{ terms: { 'task.state': states } }],
      },
    },
    page,
  );
}

/** Tasks with one key on the documents of one creator. */
export function tasksOfCreator(creatorId: string, key: string, page: PageParams): Promise<Paged<ApiTask>> {
  return pagedTasks(
    { bool: { filter: [{ term: { 'task.key': key } }, hasParent({ term: { 'creator.id': creatorId } })] } },
    page,
  );
}

/** Tasks of one key, on documents that exist, in none of `states`. */
export function tasksOfKeyNotIn(
  key: string,
  states: readonly number[],
  page: PageParams,
): Promise<Paged<ApiTask>> {
  return pagedTasks(
    {
      bool: {
        filter: [{ term: { 'task.key': key } }, hasParent({ match_all: {} })],
        must_not: [{ terms: { 'task.state': states } }],
      },
    },
    page,
  );
}

/** How many tasks of `key` are in each state. */
export async function stateCounts(key: string): Promise<Record<string, number>> {
  return store('task states', async (client) => {
    const response = await searchAllShards(client, {
      index: index(),
      body: {
        size: 0,
        query: { bool: { filter: [{ term: { 'task.key': key } }] } },
        aggs: { states: { terms: { field: 'task.state', size: 100 } } },
      } as Record<string, unknown>,
    });
    const body = response.body as {
      aggregations?: { states?: { buckets?: Array<{ key: number; doc_count: number }> } };
    };
    return Object.fromEntries(
      (body.aggregations?.states?.buckets ?? []).map((b) => [String(b.key), b.doc_count]),
    );
  });
}

/** The task keys in use. */
export async function taskKeysInUse(): Promise<string[]> {
  return store('task keys', async (client) => {
    const response = await searchAllShards(client, {
      index: index(),
      body: { size: 0, aggs: { keys: { terms: { field: 'task.key', size: 1_000 } } } } as Record<
        string,
        unknown
      >,
    });
    const body = response.body as { aggregations?: { keys?: { buckets?: Array<{ key: string }> } } };
    return (body.aggregations?.keys?.buckets ?? []).map((b) => b.key);
  });
}

/** The task keys that have tasks queued (102): the worker queues the sweep looks at. */
export async function queuedTaskKeys(): Promise<string[]> {
  return store('queued task keys', async (client) => {
    const response = await searchAllShards(client, {
      index: index(),
      body: {
        size: 0,
        query: { bool: { filter: [{ term: { 'task.state': 102 } }] } },
        aggs: { keys: { terms: { field: 'task.key', size: 1_000 } } },
      } as Record<string, unknown>,
    });
    const body = response.body as { aggregations?: { keys?: { buckets?: Array<{ key: string }> } } };
    return (body.aggregations?.keys?.buckets ?? []).map((b) => b.key);
  });
}

/**
 * Every task of `key` in `state` gets `change` (state, message, bookkeeping) in one update-by-query; a task that
 * changes meanwhile is skipped (conflicts proceed). The number updated.
 */
export async function updateTasksInState(
  key: string,
  state: number,
  change: { task: { state: number; msg: string }; updated_at: string; dane: Record<string, unknown> },
): Promise<number> {
  return store('update tasks in state', async (client) => {
    // An update-by-query selects by search: tasks written within the last refresh interval must be in it too.
    await client.indices.refresh({ index: index() });
    const response = await client.updateByQuery({
      index: index(),
      conflicts: 'proceed',
      refresh: true,
      body: {
        query: { bool: { filter: [{ term: { 'task.key': key } }, { term: { 'task.state': state } }] } },
        script: {
          lang: 'painless',
          source: [
            'ctx._source.task.state = params.state;',
            'ctx._source.task.msg = params.msg;',
            'ctx._source.updated_at = params.stamp;',
            'if (ctx._source.dane == null) { ctx._source.dane = [:]; }',
            'for (entry in params.dane.entrySet()) { ctx._source.dane[entry.getKey()] = entry.getValue(); }',
          ].join(' '),
          params: {
            state: change.task.state,
            msg: change.task.msg,
            stamp: change.updated_at,
            dane: change.dane,
          },
        },
      },
    });
    return (response.body as { updated?: number }).updated ?? 0;
  });
}

/** Deletes a task and its results. */
export async function deleteTaskWithResults(hit: Pick<TaskHit, 'id' | 'documentId'>): Promise<void> {
  await store('delete task', async (client) => {
    await client.deleteByQuery({
      index: index(),
      conflicts: 'proceed',
      refresh: true,
      body: { query: { parent_id: { type: 'result', id: hit.id } } },
    });
    await client.delete(
      { index: index(), id: hit.id, routing: hit.documentId, refresh: REFRESH.deletes },
      { ignore: [404] },
    );
  });
}
