/**
 * When a write waits for an index refresh (DESIGN principle 13; measured with `npm run bench`, written in README
 * under "Read-your-write"). Gets by id and multi-gets are real time whatever the policy; only searches (listings,
 * the workers' dependency checks) need a refresh to see a write.
 *
 * - `false`: no refresh. The write is searchable within the index's refresh interval (1 s by default).
 * - `true`: one forced refresh after the request. Cheap once per bulk request; per single write it costs several
 *   times the write, ten times under 20 concurrent clients (each forces a refresh and a new segment).
 * - `'wait_for'`: waits for the next scheduled refresh, up to the interval (~1 s) on every request.
 */
export type Refresh = boolean | 'wait_for';

export const REFRESH = {
  /** POST /DANE/document: the answer carries the document and GET by id is real time; no search needs it now. */
  document: false,
  /**
   * POST /DANE/documents: one forced refresh per batch. Batch clients search what they registered (dane-workflows
   * monitors its batch through the index right after), and once per bulk request it costs little.
   */
  documents: true,
  /** New tasks, single or dependencies a reply names: claimed and published by id, not by search. */
  newTasks: false,
  /**
   * A batch assignment: one forced refresh per bulk request. dane-workflows queries the index for the tasks of
   * its batch right after assigning them and gives up when it finds none (tried: it did, within the second).
   */
  batchTasks: true,
  /** Claims, publish outcomes, reply states: read back by id; the sweep's due-time search can lag a second. */
  taskUpdates: false,
  /**
   * Writes that leave a task waiting for its siblings (a worker's 412 or 201, a 424 release): a later reply
   * batch finds such tasks by a search when their dependency succeeds, maybe within the second. One forced refresh
   * per bulk request, paid only by batches that hold such a state.
   */
  waiters: true,
  /**
   * Before a reply batch's follow-up publishes dependants: their workers check their dependencies with a search,
   * so the successes just stored must be searchable first. One explicit refresh, only then.
   */
  beforeDependants: true,
  /** Deletes: rare; a search right after must not offer what is gone (the original promised it too). */
  deletes: true,
} as const satisfies Record<string, Refresh>;
