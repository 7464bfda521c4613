import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  MAX_AUTHORIZATION_LENGTH,
  parseAuthorization,
} from '../../lib/auth/credentials.ts';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
const KEY = `dane_ci_${'ab'.repeat(32)}`;

describe('parseAuthorization', () => {
  it('reads a Bearer token, whatever the case of the scheme and the spacing', () => {
    for (const header of [`Bearer ${KEY}`, `bearer ${KEY}`, `BEARER   ${KEY}  `, `\tBearer\t${KEY}`]) {
      expect(parseAuthorization(header)).toEqual({ ok: true, credential: { kind: 'bearer', token: KEY } });
    }
  });

  it('reads Basic user and password; the password may hold colons, the user may be unicode', () => {
    expect(parseAuthorization(basic(`ci:${KEY}`))).toEqual({
      ok: true,
      credential: { kind: 'basic', user: 'ci', password: KEY },
    });
    expect(parseAuthorization(basic('ci:a:b'))).toMatchObject({
      credential: { user: 'ci', password: 'a:b' },
    });
    expect(parseAuthorization(basic('jürgen-ключ:x'))).toMatchObject({
      credential: { user: 'jürgen-ключ', password: 'x' },
    });
    // requests pads; some clients do not.
    expect(
      parseAuthorization(`Basic ${Buffer.from('ci:x').toString('base64').replace(/=+$/, '')}`),
    ).toMatchObject({
      ok: true,
    });
  });

  it.each([
    [undefined, /No credentials/],
    ['', /No credentials/],
    ['   ', /No credentials/],
    ['Bearer', /Bearer without credentials/],
    ['Bearer    ', /Bearer without credentials/],
    ['Basic', /Basic without credentials/],
    ['Token abc', /scheme must be Bearer or Basic/],
    [KEY, /scheme must be Bearer or Basic/],
    ['Bearer a b', /malformed/],
    ['Bearer "abc"', /malformed/],
    [`Bearer ${KEY}, Bearer ${KEY}`, /More than one credential/],
    ['Bearer abc\u0000', /control/],
    ['Bearer abc\r\nX-Evil: 1', /control/],
    ['Bearer ключ', /non-Latin-1/],
    ['Bearer 🔑', /non-Latin-1/],
    ['Bearer é', /malformed/],
    ['Basic !!!!', /malformed/],
    ['Basic abc=def', /malformed|not base64/],
    ['Basic a', /not base64/],
    [basic('no-colon'), /lack the ":"/],
    [basic(':secret'), /empty user name/],
    [basic('ci:'), /empty password/],
    [`Basic ${Buffer.from([0x63, 0x3a, 0xff, 0xfe]).toString('base64')}`, /not UTF-8/],
  ])('refuses %j with a reason', (header, reason) => {
    const result = parseAuthorization(header);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('refuses very long input with a reason, without echoing it', () => {
    const secretish = 'x'.repeat(MAX_AUTHORIZATION_LENGTH);
    const result = parseAuthorization(`Bearer ${secretish}`);
    expect(result).toEqual({
      ok: false,
      reason: `Authorization header longer than ${MAX_AUTHORIZATION_LENGTH} characters`,
    });
    // A 10 MB header too (API Gateway caps headers far lower; this only proves there is no pathological path).
    expect(parseAuthorization(`Bearer ${'y'.repeat(10_000_000)}`).ok).toBe(false);
    const justFits = `Bearer ${'z'.repeat(MAX_AUTHORIZATION_LENGTH - 7)}`;
    expect(parseAuthorization(justFits).ok).toBe(true);
  });

  it('never quotes the header in a reason', () => {
    const headers = [`Bearer ${KEY} extra`, `Token ${KEY}`, `Bearer ${KEY}\u0001`, `${KEY}`, basic(KEY)];
    for (const header of headers) {
      const result = parseAuthorization(header);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).not.toContain(KEY);
        expect(result.reason).not.toContain('ab'.repeat(8));
      }
    }
  });
});

describe('authorizationHeader', () => {
  it('finds the header in any case (offline keeps the case, API Gateway lowercases)', () => {
    expect(authorizationHeader({ Authorization: 'a' })).toBe('a');
    expect(authorizationHeader({ authorization: 'b', host: 'h' })).toBe('b');
    expect(authorizationHeader({ AUTHORIZATION: 'c' })).toBe('c');
    expect(authorizationHeader({ host: 'h' })).toBeUndefined();
    expect(authorizationHeader(null)).toBeUndefined();
    expect(authorizationHeader(undefined)).toBeUndefined();
  });
});
