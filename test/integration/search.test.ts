import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as creatorDocs } from '../../functions/http/creator-docs.ts';
import { handler as documentsCreate } from '../../functions/http/documents-create.ts';
import { handler as searchHandler } from '../../functions/http/search-documents.ts';
import { documentId } from '../../lib/model/ids.ts';
import { searchDocuments } from '../../lib/store/documents.ts';
import { call } from '../support/http.ts';
import { client, index, removeCreator, uniqueName } from './documents-fixtures.ts';

// More documents than OpenSearch's 10,000-hit window, under a creator no other test uses.
const COUNT = 10_050;
const bulkCreator = uniqueName('search-bulk');
const oddCreator = uniqueName('search-odd');
const targetOf = (i: number) => `t-${String(i).padStart(5, '0')}`;
const oddTargets = ['a\\b', 'a*b', 'a?b', 'axb', 'a OR b', '[ab]', 'A-B'];

interface Doc {
  _id: string;
  target: { id: unknown };
  creator: { id: unknown };
}
interface SearchBody {
  total: number;
  hits: Doc[];
}

const search = async (query: string) => call(searchHandler, 'GET', '/DANE/search/document', { query });
const searchBody = async (query: string) => {
  const response = await search(query);
  expect(response.status).toBe(200);
  return response.body as SearchBody;
};
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const targets = (docs: Doc[]) => docs.map((d) => String(d.target.id));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => targetOf(from + i));

let registered: { success: Doc[]; failed: unknown[] };

beforeAll(async () => {
  const docs = Array.from({ length: COUNT }, (_, i) => ({
    target: { id: targetOf(i), url: `http://example.org/${i}.mp4`, type: 'Video' },
    creator: { id: bulkCreator, type: 'Organization' },
  }));
  for (const target of oddTargets) {
    docs.push({
      target: { id: target, url: 'http://example.org/odd', type: 'Video' },
      creator: { id: oddCreator, type: 'Organization' },
    });
  }
  // Shuffled, so that the order of the answers comes from the sort and not from the order of indexing.
  docs.sort(() => Math.random() - 0.5);
  const response = await call(documentsCreate, 'POST', '/DANE/documents', { rawBody: JSON.stringify(docs) });
  expect(response.status).toBe(200);
  registered = response.body as typeof registered;
  // A batch registration does not wait for a refresh (README, read-your-write): searches see it after the next.
  await client().indices.refresh({ index: index() });
}, 180_000);

afterAll(async () => {
  await removeCreator(bulkCreator);
  await removeCreator(oddCreator);
});

describe('a batch of 10,050 documents', () => {
  it('is registered completely in one request', () => {
    expect(registered.failed).toEqual([]);
    expect(registered.success).toHaveLength(COUNT + oddTargets.length);
  });
});

describe('GET /DANE/search/document', () => {
  it('gives the exact total beyond 10,000 and 100 documents per page in target.id order', async () => {
    const body = await searchBody(q({ creator_id: bulkCreator }));
    expect(body.total).toBe(COUNT);
    expect(targets(body.hits)).toEqual(range(0, 100));
    expect(body.hits[0]).toEqual({
      _id: documentId(targetOf(0), bulkCreator),
      target: { id: targetOf(0), url: 'http://example.org/0.mp4', type: 'Video' },
      creator: { id: bulkCreator, type: 'Organization' },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('serves the last page inside the window and the pages past it', async () => {
    const page100 = await searchBody(q({ creator_id: bulkCreator, page: '100' }));
    expect(targets(page100.hits)).toEqual(range(9_900, 10_000));
    const page101 = await searchBody(q({ creator_id: bulkCreator, page: '101' }));
    expect(page101.total).toBe(COUNT);
    expect(targets(page101.hits)).toEqual(range(10_000, COUNT));
    const page102 = await searchBody(q({ creator_id: bulkCreator, page: '102' }));
    expect(page102).toEqual({ total: COUNT, hits: [] });
  });

  it('walks past the window with search_after exactly as from/size pages', async () => {
    const search = { targetId: '*', creatorId: bulkCreator, perPage: 100 };
    for (const page of [25, 36, 100]) {
      const walked = await searchDocuments({ ...search, page }, 1_000);
      const direct = await searchDocuments({ ...search, page });
      expect(walked.total).toBe(COUNT);
      expect(targets(walked.hits)).toEqual(targets(direct.hits));
    }
  });

  it('matches * and ? as wildcards on target.id and creator.id', async () => {
    const digits = await searchBody(q({ target_id: 't-0000?', creator_id: bulkCreator }));
    expect(targets(digits.hits)).toEqual(range(0, 10));
    const prefix = await searchBody(q({ target_id: 't-1004*', creator_id: `${bulkCreator.slice(0, -3)}*` }));
    expect(prefix.total).toBe(10);
  });

  it('takes every other character literally: backslash, Lucene operators, brackets', async () => {
    const find = async (target: string) =>
      targets((await searchBody(q({ target_id: target, creator_id: oddCreator }))).hits).sort();
    expect(await find('a\\b')).toEqual(['a\\b']);
    expect(await find('a OR b')).toEqual(['a OR b']);
    expect(await find('[ab]')).toEqual(['[ab]']);
    expect(await find('a?b')).toEqual(['a*b', 'a?b', 'a\\b', 'axb'].sort());
    expect(await find('a*b')).toEqual(['a OR b', 'a*b', 'a?b', 'a\\b', 'axb'].sort());
    expect(await find('a-b')).toEqual([]);
  });

  it('reads absent or empty patterns as *, and pages below 1 as page 1', async () => {
    const empty = await searchBody(`target_id=&creator_id=${oddCreator}&page=0`);
    expect(empty.total).toBe(oddTargets.length);
    const negative = await searchBody(q({ creator_id: oddCreator, page: '-3' }));
    expect(negative.hits).toHaveLength(oddTargets.length);
  });

  it('400 for a page that is not an integer, naming it', async () => {
    for (const page of ['abc', '1.5', '']) {
      const response = await search(q({ page }));
      expect(response.status).toBe(400);
      expect((response.body as { message: string }).message).toBe('Invalid page: must be an integer');
    }
  });

  it('searches only documents, never tasks or results', async () => {
    const everything = await searchBody(q({ target_id: '*', creator_id: oddCreator }));
    expect(everything.hits.every((d) => d.creator.id === oddCreator)).toBe(true);
  });
});

describe('GET /DANE/search/{target_id}/{creator_id} (0.2.2)', () => {
  const alias = (target: string, creator: string, query = '') =>
    call(searchHandler, 'GET', `/DANE/search/${target}/${creator}`, {
      pathParameters: { target_id: target, creator_id: creator },
      query,
    });

  it('answers a plain array with the total and the next page in headers', async () => {
    const first = await alias('*', bulkCreator);
    expect(first.status).toBe(200);
    expect(targets(first.body as Doc[])).toEqual(range(0, 100));
    expect(first.headers['x-total-count']).toBe(String(COUNT));
    expect(first.headers.link).toBe(`</DANE/search/*/${bulkCreator}?page=2>; rel="next"`);

    const last = await alias('*', bulkCreator, 'page=101');
    expect(targets(last.body as Doc[])).toEqual(range(10_000, COUNT));
    expect(last.headers.link).toBeUndefined();
  });
});

describe('GET /DANE/creator/{creator_id}/docs', () => {
  const docsOf = (creator: string, query = '') =>
    call(creatorDocs, 'GET', `/DANE/creator/${creator}/docs`, {
      pathParameters: { creator_id: creator },
      query,
    });

  it('pages through every document with the cursor in the Link header, exact total in X-Total-Count', async () => {
    const seen: string[] = [];
    let query = 'limit=4000';
    for (let page = 1; ; page += 1) {
      const response = await docsOf(bulkCreator, query);
      expect(response.status).toBe(200);
      expect(response.headers['x-total-count']).toBe(String(COUNT));
      seen.push(...targets(response.body as Doc[]));
      const link = response.headers.link as string | undefined;
      if (page < 3) {
        expect(link).toMatch(
          new RegExp(`^</DANE/creator/${bulkCreator}/docs\\?limit=4000&cursor=[^>]+>; rel="next"$`),
        );
      } else {
        expect(link).toBeUndefined();
        break;
      }
      query = String(link).slice(String(link).indexOf('?') + 1, String(link).indexOf('>'));
    }
    expect(seen).toEqual(range(0, COUNT));
  });

  it('defaults to 1,000 per page; matches the creator exactly (no wildcards)', async () => {
    const first = await docsOf(bulkCreator);
    expect(first.body as Doc[]).toHaveLength(1_000);
    const pattern = await docsOf(`${bulkCreator.slice(0, -1)}*`);
    expect(pattern).toMatchObject({ status: 200, body: [] });
    expect(pattern.headers['x-total-count']).toBe('0');
    expect(pattern.headers.link).toBeUndefined();
  });

  it('400 for a bad limit or cursor, naming the parameter', async () => {
    for (const [query, name] of [
      ['limit=0', 'limit'],
      ['limit=10001', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'cursor'],
    ]) {
      const response = await docsOf(bulkCreator, query);
      expect(response.status).toBe(400);
      expect((response.body as { message: string }).message).toMatch(new RegExp(`^Invalid ${name}: `));
    }
  });
});
