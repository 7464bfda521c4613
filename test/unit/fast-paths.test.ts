import { describe, expect, it } from 'vitest';
import {
  holdsOnlyPlainNumbers,
  PyFloat,
  PyInt,
  parsePythonJson,
  parsePythonJsonExactly,
  toPythonJson,
  toPythonJsonExactly,
} from '../../lib/model/python.ts';
import { requoteUrl } from '../../lib/model/url.ts';

/** What either parser makes of a text: the value with its Python numbers, or the error message. */
function outcome(parse: (text: string) => unknown, text: string) {
  try {
    const value = parse(text);
    return { value, text: toPythonJsonExactly(value), types: pythonNumbers(value) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function pythonNumbers(value: unknown): string[] {
  if (value instanceof PyFloat) return ['float'];
  if (value instanceof PyInt) return ['int'];
  if (Array.isArray(value)) return value.flatMap(pythonNumbers);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(pythonNumbers);
  return [];
}

const samples = [
  '[{"target":{"id":"ITEM-1","url":"http://example.org/1.0.mp4","type":"Video"},"creator":{"id":"C","type":"Human"}}]',
  '{"a":1,"b":-0,"c":123456789012345,"d":[true,false,null],"e":"1.5e10"}',
  '{"id":1.0}',
  '{"id":1e16}',
  '{"id":1E5}',
  '{"id":2.5}',
  '{"id":-0.0}',
  '[9007199254740993]',
  '[1234567890123456]',
  '[123456789012345]',
  '{"s":"quote \\" inside, then 1.0 and \\\\"}',
  '{"s":"\\\\","n":1.0}',
  '{"s":"\\\\\\"","n":7}',
  '{"__proto__":{"x":1},"a":1,"a":2}',
  '{"2":"b","1":"a","x":"c"}',
  ' \t\n[ 1 , 2 ]\r\n',
  '"just a string"',
  '"unterminated',
  '{"a":}',
  '[1,]',
  '01',
  '1.',
  '.5',
  '"\\x"',
  '1 2',
  '',
  'tru',
  '{"a":"control \u0001 character"}',
  `${'['.repeat(300)}1${']'.repeat(300)}`,
  `${'['.repeat(512)}${']'.repeat(512)}`,
  `${'['.repeat(513)}1${']'.repeat(513)}`,
  `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`,
];

describe('parsePythonJson fast path', () => {
  it.each(samples)('gives what the exact parser gives: %j', (text) => {
    expect(outcome(parsePythonJson, text)).toEqual(outcome(parsePythonJsonExactly, text));
  });

  it('gives what the exact parser gives on generated texts', () => {
    const pieces = [
      '1',
      '0',
      '-3',
      '1.0',
      '2e3',
      '12345678901234567',
      '"a.b"',
      '"e1"',
      '"\\""',
      'null',
      'true',
    ];
    let seed = 7;
    const pick = <T>(items: readonly T[]) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return items[seed % items.length] as T;
    };
    const value = (depth: number): string => {
      const kind = depth > 3 ? 0 : pick([0, 0, 1, 2]);
      if (kind === 1) return `[${Array.from({ length: pick([0, 1, 3]) }, () => value(depth + 1)).join(',')}]`;
      if (kind === 2)
        return `{${Array.from({ length: pick([0, 1, 2]) }, (_, i) => `"k${i}":${value(depth + 1)}`).join(',')}}`;
      return pick(pieces);
    };
    for (let i = 0; i < 500; i += 1) {
      const text = value(0);
      expect(outcome(parsePythonJson, text), text).toEqual(outcome(parsePythonJsonExactly, text));
    }
  });

  it('leaves float notation, long integers and deep nesting to the exact parser, not strings that look so', () => {
    expect(holdsOnlyPlainNumbers('[{"url":"http://x/1.0e5.mp4","n":12,"b":false,"t":true}]')).toBe(true);
    expect(holdsOnlyPlainNumbers('[1.5]')).toBe(false);
    expect(holdsOnlyPlainNumbers('[1e5]')).toBe(false);
    expect(holdsOnlyPlainNumbers('[1234567890123456]')).toBe(false);
    expect(holdsOnlyPlainNumbers('["\\"",1.0]')).toBe(false);
    expect(holdsOnlyPlainNumbers(`${'['.repeat(300)}${']'.repeat(300)}`)).toBe(false);
  });
});

describe('toPythonJson fast path', () => {
  it.each([
    { a: 'x', b: [1, null, true, { c: -0.5 }], d: undefined, e: () => 1 },
    [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY, -0],
    { target: { id: new PyFloat(1), big: new PyInt('12345678901234567890') } },
    [[new PyFloat(3)]],
    Object.assign(Object.create(null), { a: 1 }),
    { when: new Date(0) },
    'é"\n',
    null,
  ])('writes what the exact writer writes: %j', (value) => {
    expect(toPythonJson(value)).toBe(toPythonJsonExactly(value));
  });
});

describe('target.url fast path', () => {
  it.each([
    "http://x.org/a-b_c.d~e!$&'()*+,;=:@/?q=1#frag[0]",
    'http://x.org/a%20b',
    'http://x.org/%7e',
    'http://x.org/a b',
    'http://x.org/é',
  ])('%j is requoted as before', (url) => {
    expect(requoteUrl(url)).toBe(requoteUrl(` ${url}\t`));
  });

  it('returns a URL without anything to quote or unquote as it is', () => {
    const url = "https://example.org/media/a-b_c.d~e!$&'()*+,;=:@/v.mp4?x=1&y=[2]#t";
    expect(requoteUrl(url)).toBe(url);
  });
});
