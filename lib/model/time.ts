const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `YYYY-MM-DDTHH:MM:SS` in the process's local time, no zone, no fraction: the format of the original and of
 * the index mapping (`date_hour_minute_second`). Lambda runs in UTC.
 */
export function timestamp(now: Date = new Date()): string {
  // A batch stamps thousands of sources with one `now`: formatted once (the local-time getters are not cheap).
  const ms = now.getTime();
  if (ms === last.ms) return last.text;
  const text =
    `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}` +
    `T${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  last = { ms, text };
  return text;
}

let last = { ms: Number.NaN, text: '' };
