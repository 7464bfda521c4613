/** Labels, colours and text forms shared by the screens; no DOM. */

export const CATEGORIES = [
  { id: 'done', label: 'Done', colour: '#1b7a3d' },
  { id: 'queued', label: 'Queued', colour: '#1d5fb4' },
  { id: 'new', label: 'New', colour: '#6b5bd2' },
  { id: 'waiting', label: 'Waiting on dependencies', colour: '#8a6d00' },
  { id: 'backoff', label: 'In back-off', colour: '#c25e00' },
  { id: 'unroutable', label: 'Unroutable', colour: '#8e3a9e' },
  { id: 'failed', label: 'Failed', colour: '#b3261e' },
] as const;
export type CategoryId = (typeof CATEGORIES)[number]['id'];

const STATE_NAMES: Record<number, string> = {
  102: 'Queued',
  200: 'Success',
  201: 'Created',
  205: 'Manual reset',
  400: 'Bad request',
  403: 'Access denied',
  404: 'Not found',
  412: 'Unfinished dependency',
  422: 'Unroutable',
  424: 'Dependency failed',
  500: 'Error',
  502: 'Invalid input',
  503: 'Upstream error',
};

export const stateName = (state: number) => STATE_NAMES[state] ?? 'Other';

/** States that are not in progress or done: what the failed-tasks screen shows by default. */
const NOT_FAILED = new Set([102, 200, 201, 205, 412]);
export const isFailureState = (state: number) => !NOT_FAILED.has(state);

/** The failure states present in an overview's per-state counts, ascending. */
export function failureStatesIn(statesPerKey: ReadonlyArray<Record<string, number>>): number[] {
  const present = new Set<number>();
  for (const states of statesPerKey) {
    for (const [state, count] of Object.entries(states)) if (count > 0) present.add(Number(state));
  }
  return [...present].filter(isFailureState).sort((a, b) => a - b);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso.endsWith('Z') || /[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').slice(0, 19);
}

export const percent = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 1000) / 10;

/** "3 tasks" / "1 task". */
export const tasks = (n: number) => `${n.toLocaleString('en')} ${n === 1 ? 'task' : 'tasks'}`;
