import { getConfig } from '../config.ts';

/**
 * Exponential back-off with "equal jitter": half the delay is fixed, half random, so retries of many tasks that
 * failed together (a worker pool outage) spread out instead of arriving in waves.
 */
export function retryDelayMs(retriesSoFar: number, random: () => number = Math.random): number {
  const { baseMs, maxMs } = getConfig().tasks.retry;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retriesSoFar, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * The bookkeeping for a task that just landed in an auto-retry state: due again after a back-off, or, once the
 * attempts are used up, not due at all (it stays in its error state, visible through the API).
 */
export function scheduleRetry(
  retriesSoFar: number,
  now: number,
  random?: () => number,
): { retries: number; due_at: number | null } {
  const { maxAttempts } = getConfig().tasks.retry;
  if (retriesSoFar >= maxAttempts) return { retries: retriesSoFar, due_at: null };
  return { retries: retriesSoFar + 1, due_at: now + retryDelayMs(retriesSoFar, random) };
}
