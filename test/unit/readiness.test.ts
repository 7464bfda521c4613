import { describe, expect, it } from 'vitest';
import { checkReadiness } from '../../lib/ops/readiness.ts';

const ok = () => Promise.resolve();
const fail = () => Promise.reject(new Error('down'));
const hang = () => new Promise<never>(() => undefined);

describe('checkReadiness', () => {
  it('is ready when both probes succeed', async () => {
    expect(await checkReadiness({ database: ok, messagequeue: ok }, 100)).toEqual({
      ready: true,
      database: '200 OK',
      messagequeue: '200 OK',
    });
  });

  it('names the failing dependency', async () => {
    const result = await checkReadiness({ database: ok, messagequeue: fail }, 100);
    expect(result).toMatchObject({ ready: false, database: '200 OK', messagequeue: '502 Bad Gateway' });
  });

  it('treats a probe that does not answer in time as down', async () => {
    const started = Date.now();
    const result = await checkReadiness({ database: hang, messagequeue: ok }, 50);
    expect(result).toMatchObject({ ready: false, database: '502 Bad Gateway' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
