import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';
import { mgetFound, searchAllShards } from './items.ts';
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

/** Tasks that do not carry their document's creator: written by the original server or an older version of ours. */
const withoutCreator = {
  bool: { filter: [{ exists: { field: 'task.key' } }], must_not: [{ exists: { field: 'dane.creator' } }] },
};

/**
 * Up to this many tasks without a creator are grouped by their document id (the join field's parent id) and the
 * creators of those documents read by id; more go through the join, which costs a pass over every task.
 */
export const LEGACY_BY_DOCUMENT_LIMIT = 10_000;

function addCounts(into: TaskCounts, more: TaskCounts): TaskCounts {
  const states = new Map(into.states.map((b) => [b.state, { ...b }]));
  for (const b of more.states) {
    const entry = states.get(b.state);
    if (entry) {
      entry.count += b.count;
      entry.due += b.due;
    } else states.set(b.state, { ...b });
  }
  return {
    total: into.total + more.total,
    states: [...states.values()].sort((a, b) => a.state - b.state),
    doneRecently: into.doneRecently + more.doneRecently,
  };
}

/**
 * Tasks per creator × state. Tasks carry their document's creator (`dane.creator`), so this is two plain
 * aggregations, no join: the creators with the most documents (and how many tasks carry no creator), then the
 * tasks of those creators per state. Tasks without a creator (the original's, older versions') are counted under
 * their document's creator: grouped by document id when they are few, else through the join as before (seconds
 * at a million tasks, see bench/overview.ts).
 */
export async function creatorCounts(options: {
  maxCreators: number;
  recentMinutes: number;
  legacyByDocumentLimit?: number;
}): Promise<CreatorCounts> {
  const limit = options.legacyByDocumentLimit ?? LEGACY_BY_DOCUMENT_LIMIT;
  return store('creator counts', async (client) => {
    const first = await searchAllShards(client, {
      index: index(),
      body: {
        size: 0,
        aggs: {
          creators: { terms: { field: 'creator.id', size: options.maxCreators } },
          legacy: { filter: withoutCreator },
        },
      } as Record<string, unknown>,
    });
    const firstAggs = (
      first.body as {
        aggregations?: {
          creators?: Buckets & { sum_other_doc_count?: number };
          legacy?: { doc_count: number };
        };
      }
    ).aggregations;
    const listed = (firstAggs?.creators?.buckets ?? []).map((b) => ({
      creator: String(b.key),
      documents: b.doc_count,
    }));
    const otherCreatorDocuments = firstAggs?.creators?.sum_other_doc_count ?? 0;
    if (listed.length === 0) return { creators: [], otherCreatorDocuments };

    const names = listed.map((c) => c.creator);
    const legacy = firstAggs?.legacy?.doc_count ?? 0;
    const byDocument = legacy > 0 && legacy <= limit;
    const joined = legacy > limit;
    const aggs: Record<string, unknown> = {
      tasks: {
        terms: { field: 'dane.creator', include: names, size: names.length },
        aggs: stateAggs(options.recentMinutes),
      },
    };
    if (byDocument) {
      aggs.legacy = {
        filter: withoutCreator,
        aggs: {
          documents: {
            terms: { field: 'role#document', size: limit },
            aggs: stateAggs(options.recentMinutes),
          },
        },
      };
    }
    if (joined) {
      aggs.joined = {
        filter: { terms: { 'creator.id': names } },
        aggs: {
          creators: {
            terms: { field: 'creator.id', size: names.length },
            aggs: {
              tasks: {
                children: { type: 'task' },
                aggs: {
                  legacy: {
                    filter: { bool: { must_not: [{ exists: { field: 'dane.creator' } }] } },
                    aggs: stateAggs(options.recentMinutes),
                  },
                },
              },
            },
          },
        },
      };
    }
    const second = await searchAllShards(client, {
      index: index(),
      body: { size: 0, aggs } as Record<string, unknown>,
    });
    const secondAggs = (
      second.body as {
        aggregations?: {
          tasks?: Buckets<StateAggs>;
          legacy?: { documents?: Buckets<StateAggs> };
          joined?: { creators?: Buckets<{ tasks?: { legacy?: StateAggs } }> };
        };
      }
    ).aggregations;
    const counts = new Map<string, TaskCounts>(names.map((name) => [name, countsOf(undefined)]));
    const add = (creator: string, more: TaskCounts) => {
      const known = counts.get(creator);
      if (known) counts.set(creator, addCounts(known, more));
    };
    for (const b of secondAggs?.tasks?.buckets ?? []) add(String(b.key), countsOf(b));
    for (const b of secondAggs?.joined?.creators?.buckets ?? [])
      add(String(b.key), countsOf(b.tasks?.legacy));
    const perDocument = secondAggs?.legacy?.documents?.buckets ?? [];
    if (perDocument.length > 0) {
      const creators = await creatorsOfDocuments(
        client,
        perDocument.map((b) => String(b.key)),
      );
      for (const b of perDocument) {
        const creator = creators.get(String(b.key));
        // A task whose document is gone belongs to no creator, as through the join.
        if (creator !== undefined) add(creator, countsOf(b));
      }
    }
    return {
      creators: listed.map((c) => ({ ...c, ...(counts.get(c.creator) ?? countsOf(undefined)) })),
      otherCreatorDocuments,
    };
  });
}

/** `creator.id` of each document found, as its keyword field indexes it (the terms aggregation's bucket key). */
async function creatorsOfDocuments(client: Client, ids: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const doc of await mgetFound(client, index(), ids, ['creator.id'])) {
    const id = (doc._source as { creator?: { id?: unknown } } | undefined)?.creator?.id;
    if (typeof id === 'string' || typeof id === 'number' || typeof id === 'boolean')
      found.set(doc._id, String(id));
  }
  return found;
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
