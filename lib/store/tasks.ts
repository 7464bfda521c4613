import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { type StoredTask, StoredTaskSchema } from '../model/task.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';
import { decodeCursor, encodeCursor, type SortValues, searchPage } from './paging.ts';
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
  sort?: unknown[];
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
    for (let i = 0; i < ids.length; i += 5_000) {
      const chunk = [...new Set(ids.slice(i, i + 5_000))];
      const response = await client.mget({ index: index(), body: { ids: chunk } });
      for (const doc of (response.body as { docs: RawHit[] }).docs) {
        const hit = toTaskHit(doc);
        if (hit) found.set(hit.id, hit);
      }
    }
    return found;
  });
}

export type WriteOutcome =
  | { status: 'ok'; seqNo: number; primaryTerm: number }
  | { status: 'conflict' | 'missing' }
  | {
      status: 'error';
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
  error?: { type?: string; reason?: string; caused_by?: { reason?: string } };
}

function outcomeOf(item: BulkItem | undefined): WriteOutcome {
  if (!item) return { status: 'error', reason: 'no answer for this item' };
  if (item.status < 300)
    return { status: 'ok', seqNo: item._seq_no ?? 0, primaryTerm: item._primary_term ?? 1 };
  if (item.status === 409) return { status: 'conflict' };
  if (item.status === 404) return { status: 'missing' };
  const reason = item.error?.reason ?? 'unknown error';
  const cause = item.error?.caused_by?.reason;
  return { status: 'error', reason: `[${item.status}] ${reason}${cause ? ` > ${cause}` : ''}` };
}

async function bulk(operation: string, lines: unknown[], refresh: Refresh): Promise<WriteOutcome[]> {
  if (lines.length === 0) return [];
  return store(operation, async (client) => {
    const response = await client.bulk({ body: lines as Record<string, unknown>[], refresh });
    const items = (response.body as { items: Record<string, BulkItem>[] }).items;
    return items.map((item) => outcomeOf(Object.values(item)[0]));
  });
}

/** Creates tasks with `op_type=create`: a task id that exists already comes back as `conflict`. */
export function createTasks(tasks: readonly NewTask[], refresh: Refresh = REFRESH.newTasks) {
  const lines: unknown[] = [];
  for (const task of tasks) {
    lines.push({ create: { _index: index(), _id: task.id, routing: task.documentId } }, task.source);
  }
  return bulk('create tasks', lines, refresh);
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
  /** Opaque cursor for the next page, absent on the last one. */
  next: string | undefined;
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
  const lines = replacements.flatMap(({ hit, source }) => [{ index: ifUnchanged(hit) }, source]);
  return bulk('replace tasks', lines, refresh);
}

/** Task listings sort by `_id` after their own sort fields: the cursor holds one value per sort field. */
export function decodeTaskCursor(cursor: string, sortFields = 0): SortValues | undefined {
  return decodeCursor(cursor, sortFields + 1);
}

/**
 * One page of tasks matching `query`, in a stable order (`_id`-based tie-break), continued with search_after so
 * that any number of tasks can be paged without the 10,000 window limit.
 */
export async function searchTasks(
  query: Record<string, unknown>,
  options: {
    size: number;
    after?: unknown[] | undefined;
    routing?: string;
    sort?: Record<string, unknown>[];
  },
): Promise<TaskPage> {
  return store('search tasks', async (client) => {
    const page = await searchPage(client, {
      index: index(),
      query,
      sort: [...(options.sort ?? []), { _id: 'asc' }],
      size: options.size,
      after: options.after as SortValues | undefined,
      routing: options.routing,
      versions: true,
      trackTotal: true,
    });
    const hits = page.hits.map(toTaskHit).filter((h): h is TaskHit => h !== undefined);
    const last = page.hits[page.hits.length - 1];
    const next = page.hits.length === options.size && last?.sort ? encodeCursor(last.sort) : undefined;
    return { hits, total: page.total ?? 0, next };
  });
}

/** Query: the tasks of one document (children through the join field). */
export const tasksOfDocumentQuery = (documentId: string) => ({
  bool: { filter: [{ parent_id: { type: 'task', id: documentId } }, { exists: { field: 'task.key' } }] },
});

/** Every task of a document, however many (the original stopped at 10). */
export async function tasksOfDocument(documentId: string): Promise<TaskHit[]> {
  const all: TaskHit[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const page = await searchTasks(tasksOfDocumentQuery(documentId), {
      size: 1_000,
      after,
      routing: documentId,
    });
    all.push(...page.hits);
    if (!page.next) return all;
    after = decodeTaskCursor(page.next);
  }
}
