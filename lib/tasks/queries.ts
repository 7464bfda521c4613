import { getConfig } from '../config.ts';
import { BadRequestError, NotFoundError } from '../http/errors.ts';
import type { ApiDocument } from '../model/document.ts';
import { type ApiResult, StoredResultSchema, toApiResult } from '../model/result.ts';
import { type ApiTask, TaskState, toApiTask } from '../model/task.ts';
import { ensureIndex } from '../store/bootstrap.ts';
import { withStore } from '../store/client.ts';
import { getDocuments } from '../store/documents.ts';
import { encodeCursor, type SortValues, searchPage } from '../store/paging.ts';
import { REFRESH } from '../store/refresh.ts';
import { decodeTaskCursor, getTask, searchTasks } from '../store/tasks.ts';

/** Read side of the task routes: listings page with an opaque cursor instead of the original's silent caps. */

export interface Paged<T> {
  items: T[];
  total: number;
  next: string | undefined;
}

export interface PageParams {
  limit: number;
  cursor?: string | undefined;
}

function after(cursor: string | undefined): SortValues | undefined {
  if (cursor === undefined) return undefined;
  const values = decodeTaskCursor(cursor);
  if (!values)
    throw new BadRequestError('Invalid cursor: use the value of a previous response\'s "next" link');
  return values;
}

export async function findTask(id: string): Promise<ApiTask> {
  const hit = await getTask(id);
  if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
  return toApiTask(hit.id, hit.source);
}

export async function documentOfTask(id: string): Promise<ApiDocument> {
  const hit = await getTask(id);
  if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
  const parent = (await getDocuments([hit.documentId])).get(hit.documentId);
  if (!parent)
    throw new NotFoundError(`The document of task \`${id}\` (\`${hit.documentId}\`) no longer exists`);
  return parent;
}

/** Tasks that are not done and not waiting on a dependency (spec §3.3 "unfinished"), orphans excluded. */
export async function unfinishedTasks(page: PageParams): Promise<Paged<ApiTask>> {
  const query = {
    bool: {
      filter: [
        { exists: { field: 'task.key' } },
        { has_parent: { parent_type: 'document', query: { match_all: {} } } },
      ],
      must_not: [{ terms: { 'task.state': [TaskState.SUCCESS, TaskState.UNFINISHED_DEPENDENCY] } }],
    },
  };
  const result = await searchTasks(query, { size: page.limit, after: after(page.cursor) });
  return { items: result.hits.map((h) => toApiTask(h.id, h.source)), total: result.total, next: result.next };
}

/** Tasks with one key on the documents of one creator (the original's "batch" view), without join-field leaks. */
export async function tasksOfCreator(
  creatorId: string,
  key: string,
  page: PageParams,
): Promise<Paged<ApiTask>> {
  const query = {
    bool: {
      filter: [
        { term: { 'task.key': key.toUpperCase() } },
        { has_parent: { parent_type: 'document', query: { term: { 'creator.id': creatorId } } } },
      ],
    },
  };
  const result = await searchTasks(query, { size: page.limit, after: after(page.cursor) });
  return { items: result.hits.map((h) => toApiTask(h.id, h.source)), total: result.total, next: result.next };
}

async function searchResults(query: Record<string, unknown>, page: PageParams): Promise<Paged<ApiResult>> {
  await ensureIndex();
  return withStore('search results', async (client) => {
    const { hits, total } = await searchPage(client, {
      index: getConfig().opensearch.index,
      query,
      sort: [{ _id: 'asc' }],
      size: page.limit,
      after: after(page.cursor),
      trackTotal: true,
    });
    const items = hits.flatMap((hit) => {
      const parsed = StoredResultSchema.safeParse(hit._source);
      return parsed.success ? [toApiResult(hit._id, parsed.data)] : [];
    });
    const last = hits[hits.length - 1];
    const next = hits.length === page.limit && last?.sort ? encodeCursor(last.sort) : undefined;
    return { items, total: total ?? 0, next };
  });
}

/** The results of one task, however its worker routed them. */
export async function resultsOfTask(id: string, page: PageParams): Promise<Paged<ApiResult>> {
  const hit = await getTask(id);
  if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
  return searchResults(
    { bool: { filter: [{ parent_id: { type: 'result', id } }, { exists: { field: 'result.generator' } }] } },
    page,
  );
}

/** Results of the tasks with one key on one creator's documents; unlike the original, empty payloads count. */
export async function resultsOfCreator(
  creatorId: string,
  key: string,
  page: PageParams,
): Promise<Paged<ApiResult>> {
  return searchResults(
    {
      bool: {
        filter: [
          {
            has_parent: {
              parent_type: 'task',
              query: {
                bool: {
                  filter: [
                    { term: { 'task.key': key.toUpperCase() } },
                    { has_parent: { parent_type: 'document', query: { term: { 'creator.id': creatorId } } } },
                  ],
                },
              },
            },
          },
        ],
      },
    },
    page,
  );
}

/** Deletes a task and its results (spec §7.2.11). A message already queued is not withdrawn. */
export async function deleteTask(id: string): Promise<void> {
  const hit = await getTask(id);
  if (!hit) throw new NotFoundError(`Task \`${id}\` not found`);
  const index = getConfig().opensearch.index;
  await withStore('delete task', async (client) => {
    await client.deleteByQuery({
      index,
      conflicts: 'proceed',
      refresh: true,
      body: { query: { parent_id: { type: 'result', id } } },
    });
    await client.delete({ index, id, routing: hit.documentId, refresh: REFRESH.deletes }, { ignore: [404] });
  });
}
