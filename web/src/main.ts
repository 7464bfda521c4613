import htm from 'htm';
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, nextCursor, query, storedKey, storeKey } from './api.ts';
import {
  CATEGORIES,
  type CategoryId,
  failureStatesIn,
  formatTime,
  percent,
  stateName,
  tasks,
} from './format.ts';
import { type Capabilities, capabilitiesOf, type Me } from './permissions.ts';

/**
 * The operator's dashboard (GET /DANE/manage): one page over the public API. Screens by URL fragment (the key
 * is never in the URL): #/overview, #/failed, #/documents, #/document/<id>, #/task/<id>.
 */

const html = htm.bind(h);

// --- Wire types (the API's OpenAPI document has them all) ---

type Categories = Record<CategoryId, number>;
interface Counts {
  total: number;
  states: Record<string, number>;
  categories: Categories;
  done_per_minute: number;
}
interface Overview {
  generated_at: string;
  recent_minutes: number;
  queues_error: string | null;
  keys: Array<
    Counts & {
      key: string;
      queue: { name: string; consumers: number; messages: number } | null;
      warning: string | null;
    }
  >;
}
interface CreatorsOverview {
  recent_minutes: number;
  creators: Array<Counts & { creator: string; documents: number }>;
  other_creator_documents: number;
}
interface Task {
  _id: string;
  key: string;
  state: number;
  msg: string | null;
  priority: number;
  created_at: string | null;
  updated_at: string | null;
  args: Record<string, unknown>;
  retry: {
    attempt: number;
    retries: number;
    next_try: string | null;
    last_error: string | null;
    waiting_on?: string[] | null;
  };
}
interface Doc {
  _id: string;
  target: { id: string; url: string; type: string };
  creator: { id: string; type: string };
  created_at: string | null;
  updated_at: string | null;
}
interface Result {
  _id: string;
  generator: { id: string; name: string; type: string; homepage?: string };
  payload: unknown;
  created_at?: string | null;
  task_id?: string;
}
type BulkAction = 'retry' | 'forceretry' | 'reset' | 'delete';
interface BulkResult {
  matched: number;
  affected: number;
  skipped: number;
  next: string | null;
}

const ACTION_LABELS: Record<BulkAction, string> = {
  retry: 'Retry',
  forceretry: 'Force retry',
  reset: 'Reset',
  delete: 'Delete',
};
const ACTIONS = Object.keys(ACTION_LABELS) as BulkAction[];

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What every screen gets: the refresh tick, a way to report a fresh load, and what the caller may do. */
interface ScreenProps {
  tick: number;
  caps: Capabilities;
  onLoaded: (at: Date) => void;
  announce: (message: string) => void;
}

/** Loads `load()` on mount, when `deps` change, and on every tick; keeps the last good value while reloading. */
function useLoad<T>(load: () => Promise<T>, deps: unknown[], props: Pick<ScreenProps, 'tick' | 'onLoaded'>) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (v) => {
        if (!current) return;
        setValue(v);
        setError(undefined);
        props.onLoaded(new Date());
      },
      (e: unknown) => current && setError(messageOf(e)),
    );
    return () => {
      current = false;
    };
  }, [...deps, props.tick, version]);
  return { value, error, reload: () => setVersion((v) => v + 1) };
}

// --- Small parts ---

function StackedBar({ categories, total, label }: { categories: Categories; total: number; label: string }) {
  const parts = CATEGORIES.filter((c) => categories[c.id] > 0);
  const summary = parts.map((c) => `${c.label} ${categories[c.id]}`).join(', ') || 'no tasks';
  return html`<div class="bar" role="img" aria-label=${`${label}: ${summary}`}>
    ${parts.map(
      (c) =>
        html`<span
          class="bar-part"
          style=${`width:${percent(categories[c.id], total)}%;background:${c.colour}`}
          title=${`${c.label}: ${categories[c.id]}`}
        ></span>`,
    )}
  </div>`;
}

function Legend() {
  return html`<ul class="legend" aria-label="Colours of the bars">
    ${CATEGORIES.map(
      (c) => html`<li><span class="swatch" style=${`background:${c.colour}`}></span>${c.label}</li>`,
    )}
  </ul>`;
}

function ErrorNote({ error }: { error: string | undefined }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

/** A modal confirmation (native <dialog>: focus is trapped and Escape cancels). */
function Confirm(props: {
  title: string;
  children: unknown;
  confirmLabel: string;
  onClose: (ok: boolean) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onCancel=${() => props.onClose(false)}>
    <h2 id="confirm-title">${props.title}</h2>
    ${props.children}
    <div class="buttons">
      <button type="button" class="primary" onClick=${() => props.onClose(true)}>${props.confirmLabel}</button>
      <button type="button" onClick=${() => props.onClose(false)}>Cancel</button>
    </div>
  </dialog>`;
}

// --- Overview ---

function OverviewScreen(props: ScreenProps) {
  const { value: data, error } = useLoad(async () => (await api<Overview>('/DANE/overview')).body, [], props);
  // The per-creator counts are cheap while tasks carry their creator, but an index with many tasks of the original
  // server counts those through the join (seconds at a million tasks): every sixth refresh only.
  const byCreator = useLoad(async () => (await api<CreatorsOverview>('/DANE/overview/creators')).body, [], {
    ...props,
    tick: Math.floor(props.tick / 6),
  });
  if (!data) return html`<${ErrorNote} error=${error} />${error ? null : html`<p>Loading…</p>`}`;
  const warnings = data.keys.filter((k) => k.warning);
  return html`<section aria-labelledby="keys-title">
      <${ErrorNote} error=${error} />
      ${
        data.queues_error
          ? html`<p class="warning" role="status">Worker queues unknown: ${data.queues_error}</p>`
          : null
      }
      ${warnings.map(
        (k) =>
          html`<p class="warning" role="alert" data-warning-key=${k.key}><strong>${k.key}:</strong> ${k.warning}</p>`,
      )}
      <h2 id="keys-title">Task keys</h2>
      <${Legend} />
      <div class="scroll">
        <table class="overview" id="keys-table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Worker queue</th>
              <th scope="col">Consumers</th>
              <th scope="col">In queue</th>
              <th scope="col">Tasks</th>
              ${CATEGORIES.map((c) => html`<th scope="col">${c.label}</th>`)}
              <th scope="col" class="bar-col">By state</th>
            </tr>
          </thead>
          <tbody>
            ${data.keys.map(
              (k) => html`<tr data-key=${k.key} class=${k.warning ? 'warn' : ''}>
                <th scope="row"><a href=${`#/failed?key=${encodeURIComponent(k.key)}`}>${k.key}</a></th>
                <td>${k.queue ? k.queue.name : html`<span class="missing">none</span>`}</td>
                <td data-col="consumers">${k.queue?.consumers ?? '—'}</td>
                <td data-col="messages">${k.queue?.messages ?? '—'}</td>
                <td data-col="total">${k.total}</td>
                ${CATEGORIES.map((c) => html`<td data-col=${c.id}>${k.categories[c.id]}</td>`)}
                <td class="bar-col"><${StackedBar} categories=${k.categories} total=${k.total} label=${k.key} /></td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${data.keys.length === 0 ? html`<p>No tasks yet.</p>` : null}
    </section>
    <section aria-labelledby="creators-title">
      <h2 id="creators-title">Creators (batches)</h2>
      <${ErrorNote} error=${byCreator.error} />
      ${byCreator.value ? null : html`<p>Loading…</p>`}
      <div class="scroll">
        <table class="overview" id="creators-table">
          <thead>
            <tr>
              <th scope="col">Creator</th>
              <th scope="col">Documents</th>
              <th scope="col">Tasks</th>
              <th scope="col">Done</th>
              <th scope="col">Failed</th>
              <th scope="col">Remaining</th>
              <th scope="col" class="bar-col">Progress</th>
              <th scope="col">Rate</th>
            </tr>
          </thead>
          <tbody>
            ${(byCreator.value?.creators ?? []).map((c) => {
              const done = c.categories.done;
              const failed = c.categories.failed;
              const remaining = c.total - done - failed;
              return html`<tr data-creator=${c.creator}>
                <th scope="row">${c.creator}</th>
                <td>${c.documents}</td>
                <td data-col="total">${c.total}</td>
                <td data-col="done">${done}</td>
                <td data-col="failed">${failed}</td>
                <td data-col="remaining">${remaining}</td>
                <td class="bar-col">
                  <div
                    class="bar"
                    role="progressbar"
                    aria-label=${`${c.creator}: ${percent(done, c.total)}% done, ${percent(failed, c.total)}% failed`}
                    aria-valuemin="0"
                    aria-valuemax="100"
                    aria-valuenow=${percent(done + failed, c.total)}
                  >
                    <span class="bar-part" style=${`width:${percent(done, c.total)}%;background:#1b7a3d`}></span>
                    <span class="bar-part" style=${`width:${percent(failed, c.total)}%;background:#b3261e`}></span>
                  </div>
                  <span class="small">${percent(done, c.total)}% done</span>
                </td>
                <td>${c.done_per_minute}/min</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      <p class="small">
        Rate: tasks done per minute over the last ${data.recent_minutes} minutes.
        ${
          (byCreator.value?.other_creator_documents ?? 0) > 0
            ? ` ${byCreator.value?.other_creator_documents} documents of further creators are not listed.`
            : ''
        }
      </p>
    </section>`;
}

// --- Failed tasks ---

interface Filter {
  key: string;
  creator: string;
  states: number[];
}

type Selection = { all: true } | { all: false; ids: Set<string> };

function FailedScreen(props: ScreenProps & { initialKey: string }) {
  const meta = useLoad(async () => (await api<Overview>('/DANE/overview')).body, [], props);
  const [filter, setFilter] = useState<Filter | undefined>(undefined);
  const [draft, setDraft] = useState<{ key: string; creator: string; states: number[] | undefined }>({
    key: props.initialKey,
    creator: '',
    states: undefined,
  });
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [selection, setSelection] = useState<Selection>({ all: false, ids: new Set() });
  const [confirm, setConfirm] = useState<
    { action: BulkAction; body: Record<string, unknown>; dry: BulkResult } | undefined
  >(undefined);
  const [busy, setBusy] = useState(false);
  const stateOptions = meta.value ? failureStatesIn(meta.value.keys.map((k) => k.states)) : [];
  const chosenStates = draft.states ?? stateOptions;

  // The first filter is applied as soon as the states present are known.
  useEffect(() => {
    if (!filter && meta.value) setFilter({ key: draft.key, creator: draft.creator, states: chosenStates });
  }, [meta.value]);

  const cursor = cursors[cursors.length - 1];
  const list = useLoad(
    async () => {
      if (!filter || filter.states.length === 0) return { tasks: [] as Task[], total: 0, next: undefined };
      const answer = await api<Task[]>(
        `/DANE/tasks${query({ key: filter.key, creator: filter.creator, state: filter.states, limit: 50, cursor })}`,
      );
      return {
        tasks: answer.body,
        total: Number(answer.headers.get('x-total-count') ?? answer.body.length),
        next: nextCursor(answer.headers),
      };
    },
    [filter, cursor],
    props,
  );

  const filterBody = () =>
    filter
      ? {
          ...(filter.key ? { key: filter.key } : {}),
          ...(filter.creator ? { creator: filter.creator } : {}),
          state: filter.states,
        }
      : {};
  const selectedCount = selection.all ? (list.value?.total ?? 0) : selection.ids.size;

  const apply = (event: Event) => {
    event.preventDefault();
    setFilter({ key: draft.key.trim(), creator: draft.creator.trim(), states: chosenStates });
    setCursors([undefined]);
    setSelection({ all: false, ids: new Set() });
  };

  const ask = async (action: BulkAction) => {
    const body = selection.all ? filterBody() : { ids: [...(selection as { ids: Set<string> }).ids] };
    try {
      const dry = (
        await api<BulkResult>(`/DANE/tasks/${action}`, { method: 'POST', body: { ...body, dry_run: true } })
      ).body;
      setConfirm({ action, body, dry });
    } catch (error) {
      props.announce(messageOf(error));
    }
  };

  const run = async (ok: boolean) => {
    const chosen = confirm;
    setConfirm(undefined);
    if (!ok || !chosen) return;
    setBusy(true);
    let affected = 0;
    let skipped = 0;
    try {
      let next: string | null = null;
      do {
        const body: Record<string, unknown> = { ...chosen.body, ...(next ? { cursor: next } : {}) };
        const answer: BulkResult = (
          await api<BulkResult>(`/DANE/tasks/${chosen.action}`, { method: 'POST', body })
        ).body;
        affected += answer.affected;
        skipped += answer.skipped;
        next = answer.next;
      } while (next);
      props.announce(`${ACTION_LABELS[chosen.action]}: ${tasks(affected)} affected, ${skipped} skipped.`);
    } catch (error) {
      props.announce(`${ACTION_LABELS[chosen.action]} stopped after ${tasks(affected)}: ${messageOf(error)}`);
    } finally {
      setBusy(false);
      setSelection({ all: false, ids: new Set() });
      list.reload();
    }
  };

  const single = async (task: Task, action: BulkAction) => {
    try {
      if (action === 'delete') await api(`/DANE/task/${encodeURIComponent(task._id)}`, { method: 'DELETE' });
      else await api(`/DANE/task/${encodeURIComponent(task._id)}/${action}`, { method: 'POST' });
      props.announce(`${ACTION_LABELS[action]}: task ${task._id.slice(0, 10)}… done.`);
    } catch (error) {
      props.announce(messageOf(error));
    }
    list.reload();
  };
  const [deleting, setDeleting] = useState<Task | undefined>(undefined);

  const toggle = (id: string) => {
    const ids = new Set(selection.all ? (list.value?.tasks ?? []).map((t) => t._id) : selection.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    setSelection({ all: false, ids });
  };
  const pageIds = (list.value?.tasks ?? []).map((t) => t._id);
  const pageSelected = selection.all || (pageIds.length > 0 && pageIds.every((id) => selection.ids.has(id)));
  const keys = meta.value?.keys.map((k) => k.key) ?? [];

  return html`<section aria-labelledby="failed-title">
    <h2 id="failed-title">Failed tasks</h2>
    <${ErrorNote} error=${meta.error ?? list.error} />
    <form class="filters" onSubmit=${apply} aria-label="Filter tasks">
      <label>Task key
        <input name="key" list="known-keys" value=${draft.key}
          onInput=${(e: Event) => setDraft({ ...draft, key: (e.target as HTMLInputElement).value })} />
      </label>
      <datalist id="known-keys">${keys.map((k) => html`<option value=${k}></option>`)}</datalist>
      <label>Creator id
        <input name="creator" value=${draft.creator}
          onInput=${(e: Event) => setDraft({ ...draft, creator: (e.target as HTMLInputElement).value })} />
      </label>
      <fieldset>
        <legend>States</legend>
        ${stateOptions.length === 0 ? html`<span class="small">No failed tasks anywhere.</span>` : null}
        ${stateOptions.map(
          (s) => html`<label class="check">
            <input type="checkbox" name="state" value=${s} checked=${chosenStates.includes(s)}
              onChange=${(e: Event) => {
                const on = (e.target as HTMLInputElement).checked;
                const next = on ? [...chosenStates, s] : chosenStates.filter((x) => x !== s);
                setDraft({ ...draft, states: next.sort((a, b) => a - b) });
              }} />
            ${s} ${stateName(s)}
          </label>`,
        )}
      </fieldset>
      <button type="submit" class="primary">Apply filter</button>
    </form>

    ${
      list.value
        ? html`<p id="match-count" role="status">${tasks(list.value.total)} match.</p>`
        : html`<p>Loading…</p>`
    }

    ${
      props.caps.bulk && list.value && list.value.total > 0
        ? html`<div class="actions" role="group" aria-label="Actions on the selection">
          <span id="selected-count">${selectedCount} selected</span>
          <button type="button" id="select-all-matching" onClick=${() => setSelection({ all: true })}
            disabled=${selection.all}>Select all ${list.value.total} matching</button>
          <button type="button" onClick=${() => setSelection({ all: false, ids: new Set() })}
            disabled=${selectedCount === 0}>Clear selection</button>
          ${ACTIONS.map(
            (a) => html`<button type="button" data-bulk=${a} class=${a === 'delete' ? 'danger' : ''}
              disabled=${selectedCount === 0 || busy} onClick=${() => ask(a)}>${ACTION_LABELS[a]}…</button>`,
          )}
        </div>`
        : null
    }

    ${
      list.value && list.value.tasks.length > 0
        ? html`<div class="scroll"><table id="tasks-table">
          <thead><tr>
            ${
              props.caps.bulk
                ? html`<th scope="col"><input type="checkbox" aria-label="Select every task on this page"
                  checked=${pageSelected}
                  onChange=${(e: Event) =>
                    setSelection({
                      all: false,
                      ids: (e.target as HTMLInputElement).checked ? new Set(pageIds) : new Set(),
                    })} /></th>`
                : null
            }
            <th scope="col">Task</th><th scope="col">Key</th><th scope="col">State</th><th scope="col">Message</th>
            <th scope="col">Attempts</th><th scope="col">Next try</th><th scope="col">Last error</th>
            ${props.caps.act ? html`<th scope="col">Actions</th>` : null}
          </tr></thead>
          <tbody>
            ${list.value.tasks.map(
              (t) => html`<tr data-task=${t._id}>
                ${
                  props.caps.bulk
                    ? html`<td><input type="checkbox" aria-label=${`Select task ${t._id}`}
                      checked=${selection.all || selection.ids.has(t._id)} onChange=${() => toggle(t._id)} /></td>`
                    : null
                }
                <td><a href=${`#/task/${t._id}`} class="mono">${t._id.slice(0, 12)}…</a></td>
                <td>${t.key}</td>
                <td data-col="state">${t.state} ${stateName(t.state)}</td>
                <td>${t.msg ?? ''}</td>
                <td>${t.retry.attempt}</td>
                <td>${formatTime(t.retry.next_try)}</td>
                <td class="wrap">${t.retry.last_error ?? ''}</td>
                ${
                  props.caps.act
                    ? html`<td class="row-actions">${ACTIONS.map(
                        (
                          a,
                        ) => html`<button type="button" data-action=${a} aria-label=${`${ACTION_LABELS[a]} task ${t._id}`}
                        onClick=${() => (a === 'delete' ? setDeleting(t) : single(t, a))}>${ACTION_LABELS[a]}</button>`,
                      )}</td>`
                    : null
                }
              </tr>`,
            )}
          </tbody>
        </table></div>
        <nav class="pager" aria-label="Pages of tasks">
          <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>
            Previous page</button>
          <button type="button" disabled=${!list.value.next}
            onClick=${() => setCursors([...cursors, list.value?.next])}>Next page</button>
        </nav>`
        : null
    }

    ${
      confirm
        ? html`<${Confirm} title=${`${ACTION_LABELS[confirm.action]} tasks?`} confirmLabel=${`${ACTION_LABELS[confirm.action]} ${confirm.dry.affected}`} onClose=${run}>
          <p id="dry-run-count"><strong>${tasks(confirm.dry.affected)}</strong> will be affected${
            confirm.dry.skipped > 0
              ? html` (${confirm.dry.skipped} of the ${confirm.dry.matched} selected are not eligible)`
              : ''
          }.</p>
        </${Confirm}>`
        : null
    }
    ${
      deleting
        ? html`<${Confirm} title="Delete this task?" confirmLabel="Delete" onClose=${(ok: boolean) => {
            const task = deleting;
            setDeleting(undefined);
            if (ok) single(task, 'delete');
          }}>
          <p>Task <span class="mono">${deleting._id}</span> (${deleting.key}) and its results are deleted.</p>
        </${Confirm}>`
        : null
    }
  </section>`;
}

// --- Documents ---

function DocumentsScreen(props: ScreenProps) {
  const [draft, setDraft] = useState({ target: '', creator: '' });
  const [search, setSearch] = useState({ target: '', creator: '', page: 1 });
  const found = useLoad(
    async () =>
      (
        await api<{ total: number; hits: Doc[] }>(
          `/DANE/search/document${query({ target_id: search.target, creator_id: search.creator, page: search.page })}`,
        )
      ).body,
    [search],
    props,
  );
  const pages = found.value ? Math.max(1, Math.ceil(found.value.total / 100)) : 1;
  return html`<section aria-labelledby="docs-title">
    <h2 id="docs-title">Documents</h2>
    <form class="filters" aria-label="Search documents" onSubmit=${(e: Event) => {
      e.preventDefault();
      setSearch({ target: draft.target.trim(), creator: draft.creator.trim(), page: 1 });
    }}>
      <label>Target id <input name="target_id" value=${draft.target} placeholder="ITM*"
        onInput=${(e: Event) => setDraft({ ...draft, target: (e.target as HTMLInputElement).value })} /></label>
      <label>Creator id <input name="creator_id" value=${draft.creator} placeholder="*"
        onInput=${(e: Event) => setDraft({ ...draft, creator: (e.target as HTMLInputElement).value })} /></label>
      <button type="submit" class="primary">Search</button>
      <p class="small">* matches any run of characters, ? one character; everything else is literal.</p>
    </form>
    <${ErrorNote} error=${found.error} />
    ${
      found.value
        ? html`<p role="status">${found.value.total} documents.</p>
        <div class="scroll"><table id="documents-table">
          <thead><tr><th scope="col">Target id</th><th scope="col">Type</th><th scope="col">Creator</th>
            <th scope="col">Created</th></tr></thead>
          <tbody>${found.value.hits.map(
            (d) => html`<tr data-document=${d._id}>
              <td><a href=${`#/document/${d._id}`}>${d.target.id}</a></td><td>${d.target.type}</td>
              <td>${d.creator.id}</td><td>${formatTime(d.created_at)}</td></tr>`,
          )}</tbody>
        </table></div>
        <nav class="pager" aria-label="Pages of documents">
          <button type="button" disabled=${search.page <= 1} onClick=${() => setSearch({ ...search, page: search.page - 1 })}>
            Previous page</button>
          <span>Page ${search.page} of ${pages}</span>
          <button type="button" disabled=${search.page >= pages} onClick=${() => setSearch({ ...search, page: search.page + 1 })}>
            Next page</button>
        </nav>`
        : null
    }
  </section>`;
}

function Payload({ value }: { value: unknown }) {
  return html`<pre class="payload" tabindex="0">${JSON.stringify(value, null, 2)}</pre>`;
}

function Results({ taskId }: { taskId: string }) {
  const [results, setResults] = useState<Result[] | string | undefined>(undefined);
  useEffect(() => {
    api<Result[]>(`/DANE/task/${encodeURIComponent(taskId)}/results`).then(
      (a) => setResults(a.body),
      (e: unknown) => setResults(messageOf(e)),
    );
  }, [taskId]);
  if (results === undefined) return html`<p>Loading results…</p>`;
  if (typeof results === 'string') return html`<p class="error" role="alert">${results}</p>`;
  if (results.length === 0) return html`<p class="small">No results.</p>`;
  return html`<ul class="results">${results.map(
    (
      r,
    ) => html`<li><details><summary>${r.generator.name} (${r.generator.type}) · ${formatTime(r.created_at)} ·
      <span class="mono">${r._id}</span></summary><${Payload} value=${r.payload} /></details></li>`,
  )}</ul>`;
}

function DocumentScreen(props: ScreenProps & { id: string }) {
  const loaded = useLoad(
    async () => {
      const id = encodeURIComponent(props.id);
      const [doc, docTasks] = await Promise.all([
        api<Doc>(`/DANE/document/${id}`),
        api<Task[]>(`/DANE/document/${id}/tasks`),
      ]);
      return { doc: doc.body, tasks: docTasks.body };
    },
    [props.id],
    props,
  );
  const [open, setOpen] = useState<string | undefined>(undefined);
  if (!loaded.value) return html`<${ErrorNote} error=${loaded.error} />`;
  const { doc } = loaded.value;
  return html`<section aria-labelledby="doc-title">
    <h2 id="doc-title">Document ${doc.target.id}</h2>
    <dl class="facts">
      <dt>Id</dt><dd class="mono">${doc._id}</dd>
      <dt>Target</dt><dd>${doc.target.type} · <span class="wrap">${doc.target.url}</span></dd>
      <dt>Creator</dt><dd>${doc.creator.id} (${doc.creator.type})</dd>
      <dt>Created</dt><dd>${formatTime(doc.created_at)}</dd>
    </dl>
    <h3>Tasks</h3>
    ${loaded.value.tasks.length === 0 ? html`<p>No tasks.</p>` : null}
    <ul class="cards">${loaded.value.tasks.map(
      (t) => html`<li class="card" data-task=${t._id}>
        <p><a href=${`#/task/${t._id}`}><strong>${t.key}</strong></a> · ${t.state} ${stateName(t.state)} · ${t.msg ?? ''}</p>
        <p class="small">attempt ${t.retry.attempt} · next try ${formatTime(t.retry.next_try)}${
          t.retry.last_error ? ` · last error: ${t.retry.last_error}` : ''
        }</p>
        <button type="button" aria-expanded=${open === t._id} onClick=${() => setOpen(open === t._id ? undefined : t._id)}>
          ${open === t._id ? 'Hide results' : 'Show results'}</button>
        ${open === t._id ? html`<${Results} taskId=${t._id} />` : null}
      </li>`,
    )}</ul>
  </section>`;
}

function TaskScreen(props: ScreenProps & { id: string }) {
  const loaded = useLoad(
    async () => (await api<Task>(`/DANE/task/${encodeURIComponent(props.id)}`)).body,
    [props.id],
    props,
  );
  const [documentId, setDocumentId] = useState<string | undefined>(undefined);
  useEffect(() => {
    api<Doc>(`/DANE/task/${encodeURIComponent(props.id)}/document`).then(
      (a) => setDocumentId(a.body._id),
      () => undefined,
    );
  }, [props.id]);
  const act = async (action: BulkAction) => {
    try {
      if (action === 'delete') await api(`/DANE/task/${encodeURIComponent(props.id)}`, { method: 'DELETE' });
      else await api(`/DANE/task/${encodeURIComponent(props.id)}/${action}`, { method: 'POST' });
      props.announce(`${ACTION_LABELS[action]}: done.`);
      if (action === 'delete') location.hash = documentId ? `#/document/${documentId}` : '#/failed';
      else loaded.reload();
    } catch (error) {
      props.announce(messageOf(error));
    }
  };
  const t = loaded.value;
  if (!t) return html`<${ErrorNote} error=${loaded.error} />`;
  return html`<section aria-labelledby="task-title">
    <h2 id="task-title">Task ${t.key}</h2>
    <dl class="facts" id="task-facts">
      <dt>Id</dt><dd class="mono">${t._id}</dd>
      <dt>Document</dt><dd>${documentId ? html`<a href=${`#/document/${documentId}`} class="mono">${documentId}</a>` : '—'}</dd>
      <dt>State</dt><dd data-field="state">${t.state} ${stateName(t.state)}</dd>
      <dt>Message</dt><dd>${t.msg ?? ''}</dd>
      <dt>Priority</dt><dd>${t.priority}</dd>
      <dt>Attempt</dt><dd>${t.retry.attempt}</dd>
      <dt>Automatic retries</dt><dd>${t.retry.retries}</dd>
      <dt>Next try</dt><dd>${formatTime(t.retry.next_try)}</dd>
      <dt>Last error</dt><dd class="wrap">${t.retry.last_error ?? '—'}</dd>
      <dt>Waiting on</dt><dd>${t.retry.waiting_on?.join(', ') || '—'}</dd>
      <dt>Created</dt><dd>${formatTime(t.created_at)}</dd>
      <dt>Updated</dt><dd>${formatTime(t.updated_at)}</dd>
    </dl>
    <h3>Arguments</h3>
    <${Payload} value=${t.args} />
    ${
      props.caps.act
        ? html`<div class="actions" role="group" aria-label="Actions on this task">${ACTIONS.map(
            (a) => html`<button type="button" data-action=${a} class=${a === 'delete' ? 'danger' : ''}
            onClick=${() => act(a)}>${ACTION_LABELS[a]}</button>`,
          )}</div>`
        : null
    }
    <h3>Results</h3>
    <${Results} taskId=${t._id} />
  </section>`;
}

// --- The frame: key, navigation, live refresh ---

function KeyForm({ onSaved, reason }: { onSaved: () => void; reason: string | undefined }) {
  const [key, setKey] = useState(storedKey());
  return html`<form class="key-form" aria-labelledby="key-title" onSubmit=${(e: Event) => {
    e.preventDefault();
    storeKey(key.trim());
    onSaved();
  }}>
    <h2 id="key-title">API key</h2>
    ${reason ? html`<p class="error" role="alert">${reason}</p>` : null}
    <p class="small">Kept in this tab's session storage only, and sent as <code>Authorization: Bearer</code>.
      Leave empty when the API has no authorizer.</p>
    <label>Key <input type="password" name="api-key" autocomplete="off" value=${key}
      onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} /></label>
    <button type="submit" class="primary">Use this key</button>
  </form>`;
}

const SCREENS = [
  { path: 'overview', label: 'Overview' },
  { path: 'failed', label: 'Failed tasks' },
  { path: 'documents', label: 'Documents' },
];

function parseHash(hash: string) {
  const [path = 'overview', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [screen = 'overview', id = ''] = path.split('/');
  return { screen: screen || 'overview', id: decodeURIComponent(id), params: new URLSearchParams(search) };
}

function App() {
  const [route, setRoute] = useState(parseHash(location.hash));
  const [me, setMe] = useState<Me | undefined>(undefined);
  const [keyProblem, setKeyProblem] = useState<string | undefined>(undefined);
  const [askKey, setAskKey] = useState(false);
  const [paused, setPaused] = useState(false);
  const [intervalMs, setIntervalMs] = useState(10_000);
  const [tick, setTick] = useState(0);
  const [updatedAt, setUpdatedAt] = useState<Date | undefined>(undefined);
  const [message, setMessage] = useState('');

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (paused) return;
    const timer = setInterval(() => setTick((t) => t + 1), intervalMs);
    return () => clearInterval(timer);
  }, [paused, intervalMs]);

  const identify = useCallback(() => {
    api<Me>('/DANE/auth/me').then(
      (answer) => {
        setMe(answer.body);
        setKeyProblem(undefined);
        setAskKey(false);
      },
      (error: unknown) => {
        setMe(undefined);
        setAskKey(true);
        setKeyProblem(
          error instanceof ApiError && (error.status === 401 || error.status === 403)
            ? `This key was refused (${error.message}).`
            : `The API did not answer: ${messageOf(error)}`,
        );
      },
    );
  }, []);
  useEffect(identify, []);

  const caps = capabilitiesOf(me);
  const screenProps: ScreenProps = { tick, caps, onLoaded: setUpdatedAt, announce: setMessage };
  let screen: unknown = null;
  if (askKey) screen = html`<${KeyForm} onSaved=${identify} reason=${keyProblem} />`;
  else if (!me) screen = html`<p>Loading…</p>`;
  else if (route.screen === 'failed')
    screen = html`<${FailedScreen} ...${screenProps} initialKey=${route.params.get('key') ?? ''} />`;
  else if (route.screen === 'documents') screen = html`<${DocumentsScreen} ...${screenProps} />`;
  else if (route.screen === 'document') screen = html`<${DocumentScreen} ...${screenProps} id=${route.id} />`;
  else if (route.screen === 'task') screen = html`<${TaskScreen} ...${screenProps} id=${route.id} />`;
  else screen = html`<${OverviewScreen} ...${screenProps} />`;

  return html`<a class="skip" href="#main">Skip to content</a>
    <header>
      <h1>DANE dashboard</h1>
      <nav aria-label="Screens">
        ${SCREENS.map(
          (s) =>
            html`<a href=${`#/${s.path}`} aria-current=${route.screen === s.path ? 'page' : undefined}>${s.label}</a>`,
        )}
        <a href="/DANE/docs">API reference</a>
      </nav>
      <div class="live">
        <span id="updated-at" aria-live="off">Updated at ${updatedAt ? updatedAt.toLocaleTimeString('en-GB') : '—'}</span>
        <button type="button" id="pause" aria-pressed=${paused} onClick=${() => setPaused(!paused)}>
          ${paused ? 'Resume' : 'Pause'}</button>
        <label>Every <select value=${intervalMs} onChange=${(e: Event) => setIntervalMs(Number((e.target as HTMLSelectElement).value))}>
          ${[5_000, 10_000, 30_000, 60_000].map((ms) => html`<option value=${ms}>${ms / 1000} s</option>`)}
        </select></label>
        <button type="button" onClick=${() => setTick((t) => t + 1)}>Refresh now</button>
        <button type="button" onClick=${() => setAskKey(true)}>API key</button>
        <span id="whoami" class="small">${me ? `${me.name} · ${me.scopes.join(', ') || 'no scopes'}` : ''}</span>
      </div>
    </header>
    <p id="status" class="status" role="status" aria-live="polite">${message}</p>
    <main id="main" tabindex="-1">${screen}</main>`;
}

const root = document.getElementById('app');
if (root) render(html`<${App} />` as never, root);
