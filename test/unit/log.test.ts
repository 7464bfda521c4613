import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaHandler } from '../../lib/invocation.ts';
import { logger } from '../../lib/log.ts';

// Principle 8: every line written while an invocation is handled carries its request id and function name,
// also from deep inside lib/ and across awaits, and lines of concurrent invocations do not mix.
describe('log context', () => {
  afterEach(() => vi.restoreAllMocks());

  it('adds the invocation to every line written meanwhile, and only meanwhile', async () => {
    const lines: Array<Record<string, unknown>> = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(JSON.parse(String(chunk)));
      return true;
    });
    const deepInLib = async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5 * (3 - n)));
      logger.info('inside', { n });
    };
    const handler = lambdaHandler(async (n: number) => deepInLib(n));
    await Promise.all(
      [1, 2].map((n) => handler(n, { awsRequestId: `req-${n}`, functionName: 'fn' } as never)),
    );
    logger.info('outside');
    expect(lines.map(({ message, requestId, function: fn, n }) => ({ message, requestId, fn, n }))).toEqual([
      { message: 'inside', requestId: 'req-2', fn: 'fn', n: 2 },
      { message: 'inside', requestId: 'req-1', fn: 'fn', n: 1 },
      { message: 'outside', requestId: undefined, fn: undefined, n: undefined },
    ]);
  });
});
