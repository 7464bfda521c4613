import { describe, expect, it } from 'vitest';
import {
  effectiveScopes,
  grants,
  InvalidScopeError,
  parseScopeList,
  SCOPES,
  type Scope,
} from '../../lib/auth/scopes.ts';

describe('scopes', () => {
  // held → the scopes it grants; everything else it must not grant.
  const table: Record<Scope, Scope[]> = {
    read: ['read'],
    write: ['read', 'write'],
    admin: ['read', 'write', 'admin'],
    worker: ['worker'],
  };

  it.each(Object.entries(table))('%s grants exactly %j', (held, granted) => {
    for (const required of SCOPES) {
      expect(grants([held as Scope], required), `${held} → ${required}`).toBe(granted.includes(required));
    }
    expect(effectiveScopes([held as Scope])).toEqual(SCOPES.filter((s) => granted.includes(s)));
  });

  it('combines held scopes; none grants nothing', () => {
    expect(grants(['read', 'worker'], 'worker')).toBe(true);
    expect(grants(['read', 'worker'], 'write')).toBe(false);
    expect(effectiveScopes(['worker', 'write'])).toEqual(['read', 'write', 'worker']);
    for (const required of SCOPES) expect(grants([], required)).toBe(false);
  });

  it('parses a comma list, trimming, lowercasing and dropping repeats', () => {
    expect(parseScopeList('read,write')).toEqual(['read', 'write']);
    expect(parseScopeList(' Admin , worker,admin ')).toEqual(['admin', 'worker']);
  });

  it.each([
    ['', /No scope given/],
    [' , ', /No scope given/],
    ['read,,write', /Empty scope name/],
    ['read,superuser', /Unknown scope "superuser"; choose from read, write, admin, worker/],
  ])('refuses %j', (text, message) => {
    expect(() => parseScopeList(text)).toThrow(InvalidScopeError);
    expect(() => parseScopeList(text)).toThrow(message);
  });
});
