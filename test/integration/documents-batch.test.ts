import { afterAll, describe, expect, it } from 'vitest';
import { handler as documentCreate } from '../../functions/http/document-create.ts';
import { handler as documentsCreate } from '../../functions/http/documents-create.ts';
import { documentId } from '../../lib/model/ids.ts';
import { documentChunks } from '../../lib/store/documents.ts';
import { call } from '../support/http.ts';
import { client, index, removeCreator, uniqueName } from './documents-fixtures.ts';

/**
 * Batches large enough to go to the index in several concurrent `_bulk` requests (documentChunks): the answer
 * must be what one request gave, element by element and in order, and the refresh promise must hold for all.
 */

const creator = uniqueName('docs-batch');
afterAll(() => removeCreator(creator));

const doc = (targetId: string) => ({
  target: { id: targetId, url: `http://example.org/${targetId}.mp4`, type: 'Video' },
  creator: { id: creator, type: 'Organization' },
});

interface Answer {
  success: { _id: string; target: { id: unknown } }[];
  failed: { index: number; document: { _id: string } | null; invalid: unknown; error: string }[];
}

describe('POST /DANE/documents in several bulk requests', () => {
  it('accounts for every element in order, across the requests, and every registered one is searchable', async () => {
    const existing = 'pre-existing';
    const single = await call(documentCreate, 'POST', '/DANE/document', {
      rawBody: JSON.stringify(doc(existing)),
    });
    expect(single.status).toBe(200);

    const targets = Array.from({ length: 3_000 }, (_, i) => `item-${i}`);
    const batch: unknown[] = targets.map(doc);
    // After validation and in-batch duplicates, 3,001 documents go to the index: three requests of ~1,000.
    batch.splice(1_500, 0, {
      target: { id: 'no-url', type: 'Video' },
      creator: { id: creator, type: 'Human' },
    });
    batch.splice(2_800, 0, doc(targets[5] as string));
    batch.splice(2_900, 0, doc(existing));
    batch.push({ ...doc('float'), target: { ...doc('float').target, id: '__FLOAT__' } });
    const rawBody = JSON.stringify(batch).replace('"__FLOAT__"', '1.0');

    const response = await call(documentsCreate, 'POST', '/DANE/documents', { rawBody });
    expect(response.status).toBe(200);
    const { success, failed } = response.body as Answer;

    expect(success.map((d) => d.target.id)).toEqual([...targets, 1]);
    expect(success.map((d) => d._id)).toEqual([
      ...targets.map((t) => documentId(t, creator)),
      documentId('1.0', creator),
    ]);
    expect(failed.map((f) => f.index)).toEqual([1_500, 2_800, 2_900]);
    expect(failed[0]).toMatchObject({ document: null, invalid: batch[1_500] });
    expect(failed[0]?.error).toMatch(/^Invalid target\.url: /);
    expect(failed[1]).toMatchObject({
      document: { _id: documentId(targets[5] as string, creator) },
      error: `A document with target.id \`${targets[5]}\`, and creator.id \`${creator}\` already exists`,
    });
    expect(failed[2]).toMatchObject({
      document: { _id: documentId(existing, creator) },
      error: `A document with target.id \`${existing}\`, and creator.id \`${creator}\` already exists`,
    });

    // A search, not a get by id: only a refresh after the last request makes all of them visible to it.
    const count = await client().count({
      index: index(),
      body: { query: { term: { 'creator.id': creator } } },
    });
    expect(count.body.count).toBe(3_002);
    const stored = await client().get({ index: index(), id: documentId('1.0', creator) });
    expect((stored.body._source as { target: { id: unknown } }).target.id).toBe(1);
  });

  it('sends such a batch in more than one request (else the test above would prove nothing)', () => {
    const docs = Array.from({ length: 3_001 }, (_, i) => ({
      id: String(i),
      source: {
        target: { id: String(i), url: 'u', type: 'Video' },
        creator: { id: creator, type: 'Organization' },
        created_at: null,
        updated_at: null,
        role: 'document' as const,
      },
    }));
    expect(documentChunks(docs).length).toBe(3);
  });
});
