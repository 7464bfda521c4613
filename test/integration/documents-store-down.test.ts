import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call } from '../support/http.ts';

// OpenSearch unreachable for this process only (nothing listens on port 1), as in ready-database-down.test.ts.
type Handler = unknown;
const handlers: Record<string, Handler> = {};

beforeAll(async () => {
  vi.resetModules();
  process.env.OPENSEARCH_URL = 'http://127.0.0.1:1';
  handlers.create = (await import('../../functions/http/document-create.ts')).handler;
  handlers.batch = (await import('../../functions/http/documents-create.ts')).handler;
  handlers.get = (await import('../../functions/http/document-get.ts')).handler;
  handlers.search = (await import('../../functions/http/search-documents.ts')).handler;
  handlers.result = (await import('../../functions/http/result-get.ts')).handler;
});

afterAll(() => {
  delete process.env.OPENSEARCH_URL;
});

const doc = { target: { id: 'a', url: 'u', type: 'Video' }, creator: { id: 'b', type: 'Human' } };

describe('the document routes with OpenSearch unreachable', () => {
  it.each([
    ['POST /DANE/document', 'create', 'POST', { rawBody: JSON.stringify(doc) }],
    ['POST /DANE/documents', 'batch', 'POST', { rawBody: JSON.stringify([doc]) }],
    ['GET /DANE/document/{doc_id}', 'get', 'GET', { pathParameters: { doc_id: 'x' } }],
    ['GET /DANE/search/document', 'search', 'GET', { query: 'target_id=*' }],
    ['GET /DANE/result/{result_id}', 'result', 'GET', { pathParameters: { result_id: 'x' } }],
  ] as const)('%s answers 503 with a clear message', async (_route, name, method, options) => {
    const response = await call(handlers[name], method, '/x', options);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toMatchObject({
      message: 'The database (OpenSearch) is unavailable; try again later',
      dependency: 'database',
    });
  });

  it('still answers 400 for a bad body first, without needing the database', async () => {
    const response = await call(handlers.create, 'POST', '/x', { rawBody: '[]' });
    expect(response.status).toBe(400);
  });
});
