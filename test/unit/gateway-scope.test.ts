import { describe, expect, it } from 'vitest';
import { classify, foreignIndexIn } from '../../lib/gateway/scope.ts';

const INDEX = 'dane-index';
const req = (method: string, path: string, body?: unknown, query = '') =>
  classify(
    {
      method,
      path,
      query: new URLSearchParams(query),
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    },
    INDEX,
  );
const ndjson = (...lines: unknown[]) => `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;

describe('worker gateway scope rules', () => {
  it('answers the product check and ping itself', () => {
    expect(req('GET', '/')).toEqual({ outcome: 'info', operation: 'info', access: 'read' });
    expect(req('HEAD', '/')).toMatchObject({ outcome: 'info' });
    expect(req('POST', '/')).toMatchObject({ outcome: 'refuse', status: 403 });
  });

  it('forwards what the DANE worker library does on the DANE index, with credentials', () => {
    const worker = [
      ['HEAD', `/${INDEX}`, 'index'],
      ['PUT', `/${INDEX}`, 'index'],
      ['POST', `/${INDEX}/_doc`, 'doc'],
      ['PUT', `/${INDEX}/_doc/abc`, 'doc'],
      ['DELETE', `/${INDEX}/_doc/abc`, 'doc'],
      ['PUT', `/${INDEX}/_create/abc`, 'create'],
      ['POST', `/${INDEX}/_update/abc`, 'update'],
      ['POST', `/${INDEX}/_delete_by_query`, 'delete_by_query'],
      ['POST', `/${INDEX}/_msearch`, 'msearch'],
      ['POST', `/${INDEX}/_bulk`, 'bulk'],
      ['POST', `/${INDEX}/_refresh`, 'refresh'],
      ['GET', `/${INDEX}/_mapping`, 'mapping'],
    ] as const;
    for (const [method, path, operation] of worker) {
      expect(req(method, path), `${method} ${path}`).toEqual({
        outcome: 'forward',
        operation,
        access: 'worker',
      });
    }
  });

  it('marks search, count, get and mget as readable anonymously, nothing else', () => {
    const read = [
      ['GET', `/${INDEX}/_search`],
      ['POST', `/${INDEX}/_search`],
      ['POST', `/${INDEX}/_count`],
      ['GET', `/${INDEX}/_doc/abc`],
      ['HEAD', `/${INDEX}/_doc/abc`],
      ['GET', `/${INDEX}/_source/abc`],
      ['POST', `/${INDEX}/_mget`],
      ['GET', `/${INDEX}/_search/`],
    ] as const;
    for (const [method, path] of read)
      expect(req(method, path), `${method} ${path}`).toMatchObject({ access: 'read' });
    expect(req('PUT', `/${INDEX}/_doc/abc`)).toMatchObject({ access: 'worker' });
    expect(req('POST', `/${INDEX}/_msearch`)).toMatchObject({ access: 'worker' });
  });

  it('decodes ids and the index name before comparing', () => {
    expect(req('GET', `/${INDEX}/_doc/a%2Fb`)).toMatchObject({ outcome: 'forward', operation: 'doc' });
    expect(req('GET', '/dane%2Dindex/_search')).toMatchObject({ outcome: 'forward' });
    expect(req('GET', `/${INDEX},${INDEX}/_search`)).toMatchObject({ outcome: 'forward' });
  });

  it('refuses other indices, _all, wildcards and index expressions, naming why', () => {
    const cases: [string, RegExp][] = [
      ['/other/_search', /`other` is another index; only the DANE index `dane-index` is served/],
      [`/${INDEX},other/_search`, /`other` is another index/],
      ['/_all/_search', /`_all` reaches every index/],
      ['/dane-*/_search', /wildcard `dane-\*` can reach other indices/],
      [`/${INDEX}?/_search`.replace('?', '%3F'), /wildcard/],
      ['/-other/_search', /not a plain index name/],
      ['/remote:dane-index/_search', /not a plain index name/],
      ['/%3Cdane-%7Bnow%2Fd%7D%3E/_search', /not a plain index name/],
    ];
    for (const [path, reason] of cases) {
      const decision = req('GET', path);
      expect(decision, path).toMatchObject({ outcome: 'refuse', status: 403 });
      expect(decision.outcome === 'refuse' && decision.reason, path).toMatch(reason);
    }
  });

  it('refuses cluster and node APIs, and root-level document APIs that take an index in the body', () => {
    for (const path of [
      '/_cluster/health',
      '/_nodes',
      '/_cat/indices',
      '/_search',
      '/_bulk',
      '/_mget',
      '/_tasks',
      '/_snapshot',
      '/_search/scroll',
      '/_reindex',
      '/_aliases',
    ]) {
      const decision = req('POST', path);
      expect(decision, path).toMatchObject({ outcome: 'refuse', status: 403 });
      expect(decision.outcome === 'refuse' && decision.reason).toMatch(
        /Cluster and node APIs .* are not available/,
      );
    }
  });

  it('refuses index administration on the DANE index itself', () => {
    for (const [method, path] of [
      ['DELETE', `/${INDEX}`],
      ['POST', `/${INDEX}/_close`],
      ['PUT', `/${INDEX}/_mapping`],
      ['PUT', `/${INDEX}/_settings`],
      ['POST', `/${INDEX}/_forcemerge`],
      ['POST', `/${INDEX}/_alias/x`],
      ['DELETE', `/${INDEX}/_search`],
      ['GET', `/${INDEX}/_doc/a/b`],
    ]) {
      const decision = req(method as string, path as string);
      expect(decision, `${method} ${path}`).toMatchObject({ outcome: 'refuse', status: 403 });
      expect(decision.outcome === 'refuse' && decision.reason).toContain(
        'not available through the worker gateway',
      );
    }
  });

  it('refuses malformed paths with 400', () => {
    for (const path of [`/${INDEX}//_search`, `/${INDEX}/../_cluster`, `/${INDEX}/%E0%A4%A`]) {
      expect(req('GET', path), path).toMatchObject({ outcome: 'refuse', status: 400 });
    }
  });

  it('refuses queries that read another index (terms lookup, more_like_this, the source parameter)', () => {
    const lookup = { query: { terms: { user: { index: 'users', id: '2', path: 'followers' } } } };
    expect(req('POST', `/${INDEX}/_search`, lookup)).toMatchObject({ outcome: 'refuse', status: 403 });
    const mlt = { query: { more_like_this: { like: [{ _index: 'other', _id: '1' }] } } };
    expect(req('POST', `/${INDEX}/_count`, mlt)).toMatchObject({ outcome: 'refuse', status: 403 });
    expect(
      req('GET', `/${INDEX}/_search`, undefined, `source=${encodeURIComponent(JSON.stringify(lookup))}`),
    ).toMatchObject({
      outcome: 'refuse',
    });
    // A lookup into the DANE index itself, and an aggregation called "index", are fine.
    const own = {
      query: { terms: { x: { index: INDEX, id: '1', path: 'y' } } },
      aggs: { index: { terms: { field: 'k' } } },
    };
    expect(req('POST', `/${INDEX}/_search`, own)).toMatchObject({ outcome: 'forward' });
    expect(req('POST', `/${INDEX}/_search`, '{"query":')).toMatchObject({ outcome: 'refuse', status: 400 });
  });

  it('checks every header of a multi-search and every action of a bulk', () => {
    const search = { query: { match_all: {} } };
    expect(req('POST', `/${INDEX}/_msearch`, ndjson({}, search, { index: INDEX }, search))).toMatchObject({
      outcome: 'forward',
    });
    const foreignHeader = req('POST', `/${INDEX}/_msearch`, ndjson({}, search, { index: 'other' }, search));
    expect(foreignHeader).toMatchObject({ outcome: 'refuse', status: 403 });
    expect(foreignHeader.outcome === 'refuse' && foreignHeader.reason).toMatch(
      /Line 3 of the multi-search body names the index `other`/,
    );
    expect(req('POST', `/${INDEX}/_msearch`, ndjson({ index: [INDEX, 'x'] }, search))).toMatchObject({
      outcome: 'refuse',
    });

    const bulk = ndjson(
      { index: { _id: '1' } },
      { index: 'a field called index is data', _index: 'so is this' },
      { delete: { _index: INDEX, _id: '2' } },
      { update: { _id: '3' } },
      { doc: { a: 1 } },
    );
    expect(req('POST', `/${INDEX}/_bulk`, bulk)).toMatchObject({ outcome: 'forward' });
    expect(req('POST', `/${INDEX}/_bulk`, ndjson({ delete: { _index: 'other', _id: '2' } }))).toMatchObject({
      outcome: 'refuse',
      status: 403,
    });
    expect(req('POST', `/${INDEX}/_bulk`, ndjson({ reindex: {} }))).toMatchObject({
      outcome: 'refuse',
      status: 400,
    });
  });

  it('checks the documents of a multi-get', () => {
    expect(
      req('POST', `/${INDEX}/_mget`, { docs: [{ _id: 'a' }, { _index: INDEX, _id: 'b' }] }),
    ).toMatchObject({ outcome: 'forward' });
    expect(req('POST', `/${INDEX}/_mget`, { docs: [{ _index: 'other', _id: 'b' }] })).toMatchObject({
      outcome: 'refuse',
      status: 403,
    });
    expect(req('POST', `/${INDEX}/_mget`, { ids: ['a', 'b'] })).toMatchObject({ outcome: 'forward' });
  });

  it('finds index references anywhere in a query', () => {
    expect(foreignIndexIn({ a: [{ b: { index: 'x,dane-index' } }] }, INDEX)).toBe('x');
    expect(foreignIndexIn({ a: { _index: ['dane-index'] } }, INDEX)).toBeUndefined();
    expect(foreignIndexIn({ index: { nested: true } }, INDEX)).toBeUndefined();
  });
});
