import { describe, expect, it } from 'vitest';
import { validateDocument } from '../../lib/documents/service.ts';
import { InvalidInputError } from '../../lib/errors.ts';
import { parseQuery } from '../../lib/http/request.ts';
import { creatorDocs, documentsGet, idsFrom, searchDocuments } from '../../lib/http/routes/documents.ts';
import { newDocument } from '../../lib/model/document.ts';
import { parsePythonJson, toPythonJson } from '../../lib/model/python.ts';
import { escapeWildcard } from '../../lib/store/documents.ts';
import { decodeCursor, encodeCursor } from '../../lib/store/paging.ts';

const request = (query: string) => ({ query: new URLSearchParams(query) }) as never;

const messageOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.message;
    throw error;
  }
  throw new Error('did not throw');
};

describe('validateDocument', () => {
  const valid = { target: { id: 'a', url: 'u', type: 'Video' }, creator: { id: 'b', type: 'Human' } };

  it('accepts the original shape, timestamps included, and keeps extra target/creator keys', () => {
    const input = validateDocument({ ...valid, created_at: 'x', creator: { ...valid.creator, name: 'N' } });
    expect(input.creator).toEqual({ id: 'b', type: 'Human', name: 'N' });
  });

  it.each([
    [[], 'Invalid body: expected a JSON object with "target" and "creator"'],
    [{ ...valid, _id: 'x' }, 'Invalid _id: is assigned by the server and must not be sent'],
    [{ ...valid, extra: 1 }, 'Invalid body: Unrecognized key: "extra"'],
    [
      { ...valid, target: { id: 'a', type: 'Video' } },
      'Invalid target.url: is required and must be a string',
    ],
    [
      { ...valid, target: { id: {}, url: 'u', type: 'Video' } },
      'Invalid target.id: must be a string or a number',
    ],
  ])('names the field at fault: %j', (value, message) => {
    expect(messageOf(() => validateDocument(value))).toBe(message);
  });
});

describe('stored _source text', () => {
  it('keeps float notation and big integers as Python json.dumps writes them', () => {
    const input = validateDocument(
      parsePythonJson(
        '{"target":{"id":1.0,"url":"u","type":"Video","big":12345678901234567890,"f":2.5,"e":1e16},' +
          '"creator":{"id":7,"type":"Human"}}',
      ),
    );
    const { source } = newDocument(input, '2023-01-01T00:00:00');
    expect(toPythonJson(source)).toBe(
      '{"target":{"id":1.0,"url":"u","type":"Video","big":12345678901234567890,"f":2.5,"e":1e+16},' +
        '"creator":{"id":7,"type":"Human"},"created_at":"2023-01-01T00:00:00",' +
        '"updated_at":"2023-01-01T00:00:00","role":"document"}',
    );
    // Anywhere else (API answers) they are plain numbers.
    expect(JSON.parse(JSON.stringify(source)).target.id).toBe(1);
  });

  it('writes strings, nulls, nested arrays and unicode as JSON does', () => {
    const value = { a: ['x', null, { b: '"é\n' }], c: true, d: -0.5 };
    expect(toPythonJson(value)).toBe(JSON.stringify(value));
  });
});

describe('query parameters', () => {
  it('collects ids from repeated doc and doc[] parameters and comma lists', () => {
    const query = parseQuery(documentsGet, request('doc=a,b&doc%5B%5D=c&doc=%20d%20,,'));
    expect(idsFrom(query, ['doc', 'doc[]'])).toEqual(['a', 'b', 'd', 'c']);
  });

  it('names the parameter when no id is given', () => {
    expect(messageOf(() => idsFrom({}, ['docs', 'docs[]']))).toBe(
      'Invalid docs: at least one document id is required',
    );
  });

  it('reads search defaults as the original: * patterns, page 1, pages below 1 as 1', () => {
    expect(parseQuery(searchDocuments, request(''))).toEqual({ target_id: '*', creator_id: '*', page: 1 });
    expect(parseQuery(searchDocuments, request('page=-2&target_id=x')).page).toBe(1);
    expect(parseQuery(searchDocuments, request('page=7&page=9')).page).toBe(7);
  });

  it('checks the creator paging parameters', () => {
    expect(parseQuery(creatorDocs, request(''))).toEqual({ limit: 1000, cursor: undefined });
    const cursor = encodeCursor(['t-1']);
    expect(parseQuery(creatorDocs, request(`limit=5&cursor=${cursor}`))).toEqual({
      limit: 5,
      cursor: ['t-1'],
    });
    expect(messageOf(() => parseQuery(creatorDocs, request('limit=0')))).toBe(
      'Invalid limit: must be at least 1',
    );
    expect(messageOf(() => parseQuery(creatorDocs, request('cursor=%%%')))).toMatch(/^Invalid cursor: /);
  });
});

describe('wildcards and cursors', () => {
  it('escapes the backslash, the only wildcard metacharacter besides * and ?', () => {
    expect(escapeWildcard('a\\b*c?d OR [e]')).toBe('a\\\\b*c?d OR [e]');
  });

  it('round-trips sort values and refuses anything else', () => {
    expect(decodeCursor(encodeCursor(['a', 1, null]))).toEqual(['a', 1, null]);
    expect(decodeCursor(encodeCursor([]))).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"a":1}').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('[{}]').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('!!!')).toBeUndefined();
  });
});
