/**
 * Records every line this process writes to stdout and stderr (the logger writes there) while still passing
 * it through, so that a test can prove that no secret reached a log line.
 */
export interface LogCapture {
  lines(): string[];
  stop(): void;
}

export function captureLogs(): LogCapture {
  const written: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap = (original: typeof process.stdout.write) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = tap(originals.out);
  process.stderr.write = tap(originals.err);
  return {
    lines: () => written.join('').split('\n').filter(Boolean),
    stop: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}

/** The secret parts of a DANE key: the whole key and its random part, each of which must never be logged. */
export const secretParts = (key: string): string[] => [key, key.slice(-64)];
