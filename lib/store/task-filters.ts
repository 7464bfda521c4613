import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';
import { searchAllShards } from './items.ts';
import { type SortValues, searchPage } from './paging.ts';
import { searchTasks, type TaskHit, type TaskPage, toTaskHit, type WriteOutcome } from './tasks.ts';

/**
 * The queries of the operator's views: tasks selected by a filter (key, states, creator, or ids), counted per
 * state, paged for bulk actions, and the aggregations of the overview. Every raw query of those views is here.
 */

export interface TaskFilter {
  key?: string | undefined;
  states?: readonly number[] | undefined;
  /** `creator.id` of the task's document, exactly. */
  creator?: string | undefined;
  ids?: readonly string[] | undefined;
}

const index = () => getConfig().opensearch.index;

async function store<T>(operation: string, fn: (client: Client) => Promise<T>): Promise<T> {
  await ensureIndex();
  return withStore(operation, fn);
}

export function taskFilterQuery(filter: TaskFilter): Record<string, unknown> {
  const clauses: unknown[] = [{ exists: { field: 'task.key' } }];
  if (filter.key !== undefined) clauses.push({ term: { 'task.key': filter.key } });
  if (filter.states !== undefined) clauses.push({ terms: { 'task.state': filter.states } });
  if (filter.creator !== undefined) {
    clauses.push({
      has_parent: { parent_type: 'document', query: { term: { 'creator.id': filter.creator } } },
    });
  }
  if (filter.ids !== undefined) clauses.push({ ids: { values: filter.ids } });
  return { bool: { filter: clauses } };
}

/**
 * One page of the tasks matching `filter`, in `_id` order, with the versions for conditional writes. `total`
 * is exact only when `countAll` (a listing's pages); a bulk action's pages skip that count, which costs a pass
 * over every match at each page.
 */
export async function tasksMatching(
  filter: TaskFilter,
  size: number,
  after?: SortValues | undefined,
  countAll = true,
): Promise<TaskPage> {
  if (countAll) return searchTasks(taskFilterQuery(filter), { size, after });
  return store('search tasks', async (client) => {
    const page = await searchPage(client, {
      index: index(),
      query: taskFilterQuery(filter),
      sort: [{ _id: 'asc' }],
      size,
      after,
      versions: true,
    });
    const hits = page.hits.map(toTaskHit).filter((h): h is TaskHit => h !== undefined);
    return { hits, total: hits.length, next: page.next };
  });
}

type Buckets<T = Record<string, never>> = {
  buckets?: Array<{ key: string | number; doc_count: number } & T>;
};

/** How many tasks match `filter`, per state: one aggregation, whatever their number. */
export async function stateCountsMatching(filter: TaskFilter): Promise<Map<number, number>> {
  return store('count tasks', async (client) => {
    const response = await searchAllShards(client, {
      index: index(),
      body: {
        size: 0,
        track_total_hits: true,
        query: taskFilterQuery(filter),
        aggs: { states: { terms: { field: 'task.state', size: 1_000 } } },
      } as Record<string, unknown>,
    });
    const body = response.body as { aggregations?: { states?: Buckets } };
    return new Map((body.aggregations?.states?.buckets ?? []).map((b) => [Number(b.key), b.doc_count]));
  });
}

/** Per state: how many tasks, and how many of them have a due time (which tells back-off from given up). */
export interface StateBucket {
  state: number;
  count: number;
  due: number;
}

export interface TaskCounts {
  total: number;
  states: StateBucket[];
  /** Done (200) with `updated_at` within the recent window. */
  doneRecently: number;
}

type StateAggs = {
  doc_count: number;
  states?: Buckets<{ due?: { doc_count: number } }>;
  recent?: { doc_count: number };
};

const stateAggs = (recentMinutes: number) => ({
  states: {
    terms: { field: 'task.state', size: 1_000 },
    aggs: { due: { filter: { exists: { field: 'dane.due_at' } } } },
  },
  recent: {
    filter: {
      bool: {
        filter: [
          { term: { 'task.state': 200 } },
          { range: { updated_at: { gte: `now-${recentMinutes}m` } } },
        ],
      },
    },
  },
});

const countsOf = (aggs: StateAggs | undefined): TaskCounts => ({
  total: aggs?.doc_count ?? 0,
  states: (aggs?.states?.buckets ?? []).map((b) => ({
    state: Number(b.key),
    count: b.doc_count,
    due: b.due?.doc_count ?? 0,
  })),
  doneRecently: aggs?.recent?.doc_count ?? 0,
});

/** Tasks per key × state in one search: `size: 0`, aggregations over doc values only, no task fetched. */
export async function keyCounts(options: {
  maxKeys: number;
  recentMinutes: number;
}): Promise<Array<TaskCounts & { key: string }>> {
  return store('key counts', async (client) => {
    const response = await searchAllShards(client, {
      index: index(),
      body: {
        size: 0,
        query: { exists: { field: 'task.key' } },
        aggs: {
          keys: {
            terms: { field: 'task.key', size: options.maxKeys, order: { _key: 'asc' } },
            aggs: stateAggs(options.recentMinutes),
          },
        },
      } as Record<string, unknown>,
    });
    const aggs = (response.body as { aggregations?: { keys?: Buckets<StateAggs> } }).aggregations;
    return (aggs?.keys?.buckets ?? []).map((b) => ({ key: String(b.key), ...countsOf(b) }));
  });
}

export interface CreatorCounts {
  creators: Array<TaskCounts & { creator: string; documents: number }>;
  /** Documents of creators beyond the ones listed (the largest creators are listed). */
  otherCreatorDocuments: number;
}

/**
 * Tasks per creator × state in one search: documents per `creator.id`, and through the join their `task`
 * children. The join makes this the expensive half of the overview (seconds at a million tasks, see
 * bench/overview.ts), so it is a request of its own.
 */
export async function creatorCounts(options: {
  maxCreators: number;
  recentMinutes: number;
}): Promise<CreatorCounts> {
  return store('creator counts', async (client) => {
    const response = await searchAllShards(client, {
      index: index(),
      body: {
        size: 0,
        query: { exists: { field: 'creator.id' } },
        aggs: {
          creators: {
            terms: { field: 'creator.id', size: options.maxCreators },
            aggs: { tasks: { children: { type: 'task' }, aggs: stateAggs(options.recentMinutes) } },
          },
        },
      } as Record<string, unknown>,
    });
    const creators = (
      response.body as {
        aggregations?: { creators?: Buckets<{ tasks?: StateAggs }> & { sum_other_doc_count?: number } };
      }
    ).aggregations?.creators;
    return {
      creators: (creators?.buckets ?? []).map((b) => ({
        creator: String(b.key),
        documents: b.doc_count,
        ...countsOf(b.tasks),
      })),
      otherCreatorDocuments: creators?.sum_other_doc_count ?? 0,
    };
  });
}

/**
 * Deletes tasks, each only if it is still at the version that was read (a task that changed since no longer
 * answers the filter it was selected by), then the results of those deleted. Results are found by their join
 * parent id, which needs no parent to exist, wherever the worker routed them.
 */
export async function deleteTasksIfUnchanged(
  hits: ReadonlyArray<Pick<TaskHit, 'id' | 'documentId' | 'seqNo' | 'primaryTerm'>>,
): Promise<WriteOutcome[]> {
  if (hits.length === 0) return [];
  return store('delete tasks', async (client) => {
    const lines = hits.map((hit) => ({
      delete: {
        _index: index(),
        _id: hit.id,
        routing: hit.documentId,
        if_seq_no: hit.seqNo,
        if_primary_term: hit.primaryTerm,
      },
    }));
    const response = await client.bulk({ body: lines as Record<string, unknown>[] });
    const items = (response.body as { items: Array<{ delete?: { status: number } }> }).items;
    const outcomes: WriteOutcome[] = items.map((item) => {
      const status = item.delete?.status ?? 500;
      if (status < 300) return { status: 'ok', seqNo: 0, primaryTerm: 1 };
      if (status === 409) return { status: 'conflict' };
      if (status === 404) return { status: 'missing' };
      return { status: 'error', kind: 'transient', reason: `[${status}] delete failed` };
    });
    const deleted = hits.filter((_, i) => outcomes[i]?.status === 'ok').map((hit) => hit.id);
    // A bool query takes at most 1024 clauses by default.
    for (let i = 0; i < deleted.length; i += 500) {
      const parents = deleted.slice(i, i + 500).map((id) => ({ parent_id: { type: 'result', id } }));
      await client.deleteByQuery({
        index: index(),
        conflicts: 'proceed',
        body: { query: { bool: { should: parents, minimum_should_match: 1 } } },
      } as never);
    }
    return outcomes;
  });
}
