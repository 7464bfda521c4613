import { describe, expect, it } from 'vitest';
import { newDocument } from '../../lib/model/document.ts';
import { BULK_CHUNK_MIN, BULK_CONCURRENCY, documentChunks } from '../../lib/store/documents.ts';

describe('documentChunks', () => {
  const plain = (i: number) =>
    newDocument(
      { target: { id: `t${i}`, url: 'u', type: 'Video' }, creator: { id: 'c', type: 'Human', name: 'N' } },
      '2026-01-01T00:00:00',
    );
  const docs = (n: number) => Array.from({ length: n }, (_, i) => plain(i));
  const sizes = (n: number) => documentChunks(docs(n)).map(({ start, end }) => end - start);

  it('splits large batches into at most BULK_CONCURRENCY contiguous chunks of at least BULK_CHUNK_MIN', () => {
    expect(BULK_CHUNK_MIN).toBe(1_000);
    expect(BULK_CONCURRENCY).toBe(4);
    expect(sizes(1)).toEqual([1]);
    expect(sizes(1_999)).toEqual([1_999]);
    expect(sizes(2_000)).toEqual([1_000, 1_000]);
    expect(sizes(3_001)).toEqual([1_001, 1_001, 999]);
    expect(sizes(10_000)).toEqual([2_500, 2_500, 2_500, 2_500]);
    expect(sizes(10_001)).toEqual([2_501, 2_501, 2_501, 2_498]);
    const chunks = documentChunks(docs(10_001));
    expect(chunks.map((c) => c.start)).toEqual([0, 2_501, 5_002, 7_503]);
    expect(chunks.at(-1)?.end).toBe(10_001);
  });

  it('keeps a batch in one request when a document brings a field the index layout does not map', () => {
    for (const extra of [{ target: { year: 1999 } }, { creator: { email: 'x' } }]) {
      const batch = docs(10_000);
      const odd = newDocument(
        {
          target: { id: 'odd', url: 'u', type: 'Video', ...extra.target },
          creator: { id: 'c', type: 'Human', ...extra.creator },
        },
        '2026-01-01T00:00:00',
      );
      batch[9_999] = odd;
      expect(documentChunks(batch)).toEqual([{ start: 0, end: 10_000 }]);
    }
  });
});
