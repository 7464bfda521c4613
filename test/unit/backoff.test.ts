import { describe, expect, it } from 'vitest';
import { retryDelayMs, scheduleRetry } from '../../lib/tasks/backoff.ts';

// Defaults: base 60 s, cap 1 h, 5 attempts.
describe('retry back-off', () => {
  it('doubles from the base delay, with equal jitter between half and all of it', () => {
    expect(retryDelayMs(0, () => 0)).toBe(30_000);
    expect(retryDelayMs(0, () => 1)).toBe(60_000);
    expect(retryDelayMs(1, () => 0)).toBe(60_000);
    expect(retryDelayMs(3, () => 1)).toBe(480_000);
  });

  it('is capped at the maximum delay', () => {
    expect(retryDelayMs(20, () => 1)).toBe(3_600_000);
    expect(retryDelayMs(1_000, () => 0)).toBe(1_800_000);
  });

  it('counts retries and stops being due once the attempts are used up', () => {
    expect(scheduleRetry(0, 1_000, () => 0)).toEqual({ retries: 1, due_at: 31_000 });
    expect(scheduleRetry(4, 0, () => 1)).toEqual({ retries: 5, due_at: 960_000 });
    expect(scheduleRetry(5, 0)).toEqual({ retries: 5, due_at: null });
  });
});
