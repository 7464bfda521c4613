/**
 * What the store says about a scenario's tasks, read straight from OpenSearch (not through the API under test).
 */
export interface TaskView {
  id: string;
  state: number;
  msg: string;
  dueAt: number | null | undefined;
  attempt: number | undefined;
}

const FINAL_FAILURES = new Set([400, 403, 404, 424, 500]);

export interface Tally {
  total: number;
  done: number;
  /** Ended in a failure state although every worker reply was (eventually) a success: work lost. */
  failed: TaskView[];
  /** Not finished and nothing will look at it again (no due time). */
  stuck: TaskView[];
  /** Not finished, but due to be looked at again. */
  pending: TaskView[];
}

export class Observer {
  constructor(
    private readonly url: string,
    private readonly index: string,
  ) {}

  private async post(path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/${this.index}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`OpenSearch ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  /** Deletes the DANE index and its lease observations, so that a run starts from an empty store. */
  async deleteIndices(): Promise<void> {
    for (const name of [this.index, `${this.index}-queues`]) {
      const response = await fetch(`${this.url}/${name}`, {
        method: 'DELETE',
        signal: AbortSignal.timeout(30_000),
      });
      if (!response.ok && response.status !== 404) {
        throw new Error(`OpenSearch DELETE ${name}: ${response.status} ${await response.text()}`);
      }
    }
  }

  /** Finished tasks of a key, or undefined while OpenSearch cannot answer (during an outage). */
  async doneCount(key: string): Promise<number | undefined> {
    try {
      const body = (await this.post('_count', {
        query: { bool: { filter: [{ term: { 'task.key': key } }, { term: { 'task.state': 200 } }] } },
      })) as { count: number };
      return body.count;
    } catch {
      return undefined;
    }
  }

  async tasks(key: string): Promise<TaskView[]> {
    await this.post('_refresh');
    const body = (await this.post('_search', {
      size: 10_000,
      query: { term: { 'task.key': key } },
      _source: ['task.state', 'task.msg', 'dane.due_at', 'dane.attempt'],
    })) as {
      hits: {
        hits: Array<{
          _id: string;
          _source: {
            task: { state: number; msg?: string };
            dane?: { due_at?: number | null; attempt?: number };
          };
        }>;
      };
    };
    return body.hits.hits.map((hit) => ({
      id: hit._id,
      state: Number(hit._source.task.state),
      msg: hit._source.task.msg ?? '',
      dueAt: hit._source.dane?.due_at,
      attempt: hit._source.dane?.attempt,
    }));
  }

  async tally(key: string): Promise<Tally> {
    const tasks = await this.tasks(key);
    const open = tasks.filter((t) => t.state !== 200 && !FINAL_FAILURES.has(t.state));
    return {
      total: tasks.length,
      done: tasks.filter((t) => t.state === 200).length,
      failed: tasks.filter((t) => FINAL_FAILURES.has(t.state)),
      stuck: open.filter((t) => t.dueAt == null),
      pending: open.filter((t) => t.dueAt != null),
    };
  }
}
