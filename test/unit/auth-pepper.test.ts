import { describe, expect, it } from 'vitest';
import { pepperSource } from '../../lib/auth/keys.ts';
import { LOCAL_DEVELOPMENT_PEPPER, parseConfig } from '../../lib/config.ts';

const PEPPER = 'p'.repeat(40);

describe('the key pepper and AUTH_MODE', () => {
  it('takes the pepper from Secrets Manager once per container on a deployed stage, retrying a failed read', async () => {
    const reads: string[] = [];
    let fail = true;
    const source = pepperSource(
      parseConfig({ DANE_STAGE: 'prod', AUTH_KEY_PEPPER_SECRET: 'dane/prod/auth-key-pepper' }),
      async (name) => {
        reads.push(name);
        if (fail) throw new Error('throttled');
        return PEPPER;
      },
    );
    await expect(source()).rejects.toThrow('throttled');
    fail = false;
    expect(await source()).toBe(PEPPER);
    expect(await source()).toBe(PEPPER);
    expect(reads).toEqual(['dane/prod/auth-key-pepper', 'dane/prod/auth-key-pepper']);
  });

  it('uses the development pepper locally, and refuses a deployed stage with neither pepper nor secret', async () => {
    expect(await pepperSource(parseConfig({}))()).toBe(LOCAL_DEVELOPMENT_PEPPER);
    expect(() => pepperSource(parseConfig({ DANE_STAGE: 'prod' }))).toThrow(
      /AUTH_KEY_PEPPER must be set on stage prod .* or AUTH_KEY_PEPPER_SECRET/,
    );
  });

  it('allows AUTH_MODE=none on stage local only', () => {
    expect(parseConfig({ AUTH_MODE: 'none' }).auth.mode).toBe('none');
    expect(() => parseConfig({ DANE_STAGE: 'prod', AUTH_MODE: 'none' })).toThrow(
      'AUTH_MODE=none is for local experiments only, not for stage prod',
    );
  });
});
