import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as documentCreate } from '../../functions/http/document-create.ts';
import { handler as documentDelete } from '../../functions/http/document-delete.ts';
import { handler as documentGet } from '../../functions/http/document-get.ts';
import { handler as documentTasks } from '../../functions/http/document-tasks.ts';
import { handler as documentsCreate } from '../../functions/http/documents-create.ts';
import { handler as documentsDelete } from '../../functions/http/documents-delete.ts';
import { handler as documentsGet } from '../../functions/http/documents-get.ts';
import { getConfig } from '../../lib/config.ts';
import { documentId, taskId } from '../../lib/model/ids.ts';
import { call } from '../support/http.ts';
import {
  client,
  exists,
  index,
  removeCreator,
  removeIds,
  seedDocument,
  seedResult,
  seedTask,
  uniqueName,
} from './documents-fixtures.ts';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

const doc = (targetId: unknown, creatorId: unknown, extra: Record<string, unknown> = {}) => ({
  target: { id: targetId, url: 'http://example.org/v.mp4', type: 'Video' },
  creator: { id: creatorId, type: 'Organization' },
  ...extra,
});

const post = (body: unknown) =>
  call(documentCreate, 'POST', '/DANE/document', { rawBody: JSON.stringify(body) });
const postRaw = (rawBody: string) => call(documentCreate, 'POST', '/DANE/document', { rawBody });
const getDoc = (id: string) =>
  call(documentGet, 'GET', `/DANE/document/${id}`, { pathParameters: { doc_id: id } });
const message = (response: { body?: unknown }) => (response.body as { message: string }).message;

// The spec's Appendix B vectors have fixed ids; clear them so that reruns start from nothing.
const vectorIds = [
  '8fc4285cf003586e102d7da0380f2097c118367b',
  '7a6b5b3198f7da229799da89ce7a68ce6b17668b',
  'c3246342f60f2a9b06026fac7348e50b60a7f0e1',
  'd31951301de00ed1a659bf0f563c474dea8d5419',
];
const creator = uniqueName('docs-test');

beforeAll(() => removeIds(vectorIds));
afterAll(async () => {
  await removeIds(vectorIds);
  await removeCreator(creator);
});

describe('POST /DANE/document', () => {
  it.each([
    ['"ITM123"', '"NISV"', '8fc4285cf003586e102d7da0380f2097c118367b', 'ITM123', 'NISV'],
    ['12345', '"TesterHTTP"', '7a6b5b3198f7da229799da89ce7a68ce6b17668b', '12345', 'TesterHTTP'],
    ['1.0', '"X"', 'c3246342f60f2a9b06026fac7348e50b60a7f0e1', '1.0', 'X'],
    ['"Ü-id"', '"Cré"', 'd31951301de00ed1a659bf0f563c474dea8d5419', 'Ü-id', 'Cré'],
  ])(
    'registers target.id %s + creator.id %s under the id Python computes, and 409s the second time',
    async (t, c, id, tStr, cStr) => {
      const rawBody = `{"target":{"id":${t},"url":"http://example.org/v.mp4","type":"Video"},"creator":{"id":${c},"type":"Organization"}}`;
      const first = await postRaw(rawBody);
      expect(first.status).toBe(200);
      expect((first.body as { _id: string })._id).toBe(id);

      const again = await postRaw(rawBody);
      expect(again.status).toBe(409);
      expect(message(again)).toBe(
        `A document with target.id \`${tStr}\`, and creator.id \`${cStr}\` already exists`,
      );
    },
  );

  it('answers the original document shape, stores the original _source, no routing, numbers in Python form', async () => {
    const targetId = uniqueName('t');
    const rawBody =
      `{"target":{"id":"${targetId}","url":"  http://a b/vid.mp4 ","type":"Sound","duration":1.0,"n":5},` +
      `"creator":{"id":"${creator}","type":"Human","name":"Tester"},"created_at":"ignored"}`;
    const response = await postRaw(rawBody);
    expect(response.status).toBe(200);
    const body = response.body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['_id', 'target', 'creator', 'created_at', 'updated_at']);
    expect(body._id).toBe(documentId(targetId, creator));
    expect(body.target).toEqual({
      id: targetId,
      url: 'http://a%20b/vid.mp4',
      type: 'Sound',
      duration: 1,
      n: 5,
    });
    expect(body.creator).toEqual({ id: creator, type: 'Human', name: 'Tester' });
    expect(body.created_at).toMatch(TIMESTAMP);
    expect(body.updated_at).toBe(body.created_at);

    // The raw stored text: `1.0` stays a float for Python readers, and no routing is set.
    const raw = await fetch(`${getConfig().opensearch.url}/${index()}/_doc/${body._id}`);
    const text = await raw.text();
    expect(text).toContain('"duration":1.0');
    const stored = JSON.parse(text) as { _routing?: string; _source: Record<string, unknown> };
    expect(stored._routing).toBeUndefined();
    expect(Object.keys(stored._source).sort()).toEqual([
      'created_at',
      'creator',
      'role',
      'target',
      'updated_at',
    ]);
    expect(stored._source.role).toBe('document');
    expect(stored._source.created_at).toBe(body.created_at);
  });

  it('keeps every digit of an integer beyond 2^53, as Python does', async () => {
    const rawBody = `{"target":{"id":12345678901234567890,"url":"http://x/","type":"Video"},"creator":{"id":"${creator}","type":"Human"}}`;
    const response = await postRaw(rawBody);
    expect(response.status).toBe(200);
    const id = (response.body as { _id: string })._id;
    expect(id).toBe(documentId('12345678901234567890', creator));
    const raw = await (await fetch(`${getConfig().opensearch.url}/${index()}/_doc/${id}`)).text();
    expect(raw).toContain('"id":12345678901234567890');
  });

  it.each([
    ['not JSON', '{"target":', /not valid JSON/],
    ['an array', '[]', /Invalid body: expected a JSON object/],
    ['a number', '42', /Invalid body: expected a JSON object/],
    ['null', 'null', /Invalid body: expected a JSON object/],
    ['an _id', JSON.stringify({ ...doc('a', 'b'), _id: 'x' }), /^Invalid _id: /],
    ['an unknown key', JSON.stringify({ ...doc('a', 'b'), colour: 'red' }), /colour/],
    ['no target', JSON.stringify({ creator: { id: 'b', type: 'Human' } }), /^Invalid target: /],
    [
      'no target.url',
      JSON.stringify({ target: { id: 'a', type: 'Video' }, creator: { id: 'b', type: 'Human' } }),
      /^Invalid target\.url: /,
    ],
    [
      'an empty target.url',
      JSON.stringify({ target: { id: 'a', url: ' ', type: 'Video' }, creator: { id: 'b', type: 'Human' } }),
      /^Invalid target\.url: /,
    ],
    [
      'no target.id',
      JSON.stringify({ target: { url: 'u', type: 'Video' }, creator: { id: 'b', type: 'Human' } }),
      /^Invalid target\.id: /,
    ],
    [
      'a null target.id',
      JSON.stringify({ target: { id: null, url: 'u', type: 'Video' }, creator: { id: 'b', type: 'Human' } }),
      /^Invalid target\.id: /,
    ],
    [
      'a target.type outside the enum',
      JSON.stringify({ target: { id: 'a', url: 'u', type: 'video' }, creator: { id: 'b', type: 'Human' } }),
      /^Invalid target\.type: /,
    ],
    [
      'a creator.type outside the enum',
      JSON.stringify({ target: { id: 'a', url: 'u', type: 'Video' }, creator: { id: 'b', type: 'Robot' } }),
      /^Invalid creator\.type: /,
    ],
    [
      'no creator.id',
      JSON.stringify({ target: { id: 'a', url: 'u', type: 'Video' }, creator: { type: 'Human' } }),
      /^Invalid creator\.id: /,
    ],
    [
      'a target that is not an object',
      JSON.stringify({ target: 'a', creator: { id: 'b', type: 'Human' } }),
      /^Invalid target: /,
    ],
  ])('400 for %s, naming the field', async (_label, rawBody, pattern) => {
    const response = await postRaw(rawBody);
    expect(response.status).toBe(400);
    expect(message(response)).toMatch(pattern);
  });

  it('400 for a missing body', async () => {
    const response = await call(documentCreate, 'POST', '/DANE/document');
    expect(response.status).toBe(400);
    expect(message(response)).toMatch(/Missing request body/);
  });

  it('400 when the index refuses an extra field of a conflicting type, naming it', async () => {
    const first = await post(doc(uniqueName('t'), creator, {}));
    expect(first.status).toBe(200);
    const a = await post({
      ...doc(uniqueName('t'), creator),
      target: { id: uniqueName('t'), url: 'u', type: 'Video', year: 1999 },
    });
    expect(a.status).toBe(200);
    const b = await post({
      ...doc(uniqueName('t'), creator),
      target: { id: uniqueName('t'), url: 'u', type: 'Video', year: 'late' },
    });
    expect(b.status).toBe(400);
    expect(message(b)).toContain('target.year');
  });
});

describe('GET /DANE/document/{doc_id}', () => {
  it('returns a stored document, also one the original wrote', async () => {
    const id = documentId('orig', creator);
    await seedDocument(id, 'orig', creator);
    const response = await getDoc(id);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      _id: id,
      target: { id: 'orig', url: 'http://example.org/orig', type: 'Video' },
      creator: { id: creator, type: 'Organization' },
      created_at: '2023-06-16T15:13:01',
      updated_at: '2023-06-16T15:13:01',
    });
  });

  it('404 for an unknown id, a task id, and an id longer than the index allows', async () => {
    const docId = documentId('has-task', creator);
    await seedDocument(docId, 'has-task', creator);
    const task = taskId(docId, 'ASR');
    await seedTask(task, docId, 'ASR');
    for (const id of ['0'.repeat(40), task, 'x'.repeat(600)]) {
      const response = await getDoc(id);
      expect(response.status).toBe(404);
      expect(message(response)).toContain('No document with id');
    }
  });
});

describe('GET /DANE/document/{doc_id}/tasks', () => {
  it('returns every task (no cap at 10) whole: integer state, args with nulls kept, {} when absent', async () => {
    const id = documentId('many-tasks', creator);
    await seedDocument(id, 'many-tasks', creator);
    const keys = Array.from({ length: 12 }, (_, i) => `KEY${String(i).padStart(2, '0')}`);
    for (const key of keys) {
      await seedTask(taskId(id, key), id, key, {
        refresh: false,
        ...(key === 'KEY00' ? { args: { a: 1, b: null, c: { d: [1, null] }, e: 'x' } } : {}),
      });
    }
    await client().indices.refresh({ index: index() });

    const response = await call(documentTasks, 'GET', `/DANE/document/${id}/tasks`, {
      pathParameters: { doc_id: id },
    });
    expect(response.status).toBe(200);
    const tasks = response.body as Record<string, unknown>[];
    expect(tasks.map((t) => t.key)).toEqual(keys);
    // toMatchObject: the task routes may add fields of their own beside the original's.
    expect(tasks[0]).toMatchObject({
      _id: taskId(id, 'KEY00'),
      key: 'KEY00',
      state: 201,
      msg: 'Created',
      priority: 1,
      created_at: '2023-06-16T15:13:02',
      updated_at: '2023-06-16T15:13:02',
    });
    expect(tasks[0]?.args).toEqual({ a: 1, b: null, c: { d: [1, null] }, e: 'x' });
    expect(tasks[1]?.args).toEqual({});
  });

  it('answers /DANE/document//{doc_id}/tasks (the double slash dane-workflows sends) the same way', async () => {
    const id = documentId('double-slash', creator);
    await seedDocument(id, 'double-slash', creator);
    await seedTask(taskId(id, 'ASR'), id, 'ASR');
    // What the greedy route hands over for that path, with and without a trailing slash.
    for (const proxy of [`/${id}/tasks`, `/${id}/tasks/`]) {
      const response = await call(documentTasks, 'GET', `/DANE/document/${proxy}`, {
        pathParameters: { proxy },
      });
      expect(response.status).toBe(200);
      expect((response.body as { key: string }[]).map((t) => t.key)).toEqual(['ASR']);
    }
    for (const proxy of [`${id}/results`, `/${id}/tasks/x`, 'a/b/c']) {
      const response = await call(documentTasks, 'GET', '/x', { pathParameters: { proxy } });
      expect(response.status).toBe(404);
      expect(message(response)).toBe(`No route for /DANE/document/${proxy}`);
    }
  });

  it('[] for a document without tasks, 404 for an unknown document', async () => {
    const id = documentId('no-tasks', creator);
    await seedDocument(id, 'no-tasks', creator);
    const empty = await call(documentTasks, 'GET', '/x', { pathParameters: { doc_id: id } });
    expect(empty).toMatchObject({ status: 200, body: [] });
    const missing = await call(documentTasks, 'GET', '/x', { pathParameters: { doc_id: 'nope' } });
    expect(missing.status).toBe(404);
  });
});

describe('DELETE /DANE/document/{doc_id}', () => {
  async function seedFamily(label: string, refresh: boolean) {
    const doc = documentId(label, creator);
    await seedDocument(doc, label, creator, refresh);
    const tasks = [taskId(doc, 'ASR'), taskId(doc, 'DOWNLOAD')];
    await seedTask(tasks[0] as string, doc, 'ASR', { refresh });
    await seedTask(tasks[1] as string, doc, 'DOWNLOAD', { refresh });
    const results = [
      // As Python workers write them: routed by the task id.
      await seedResult(tasks[0] as string, { words: 3 }, { refresh }),
      await seedResult(tasks[1] as string, { file: 'x' }, { refresh }),
      // As a correct writer would route a grandchild: by the document id.
      await seedResult(tasks[0] as string, { words: 4 }, { routing: doc, refresh }),
    ];
    return { doc, tasks, results };
  }

  it('deletes the document, its tasks and their results (however routed), and nothing else; 200 ""', async () => {
    const victim = await seedFamily('victim', true);
    const bystander = await seedFamily('bystander', true);

    const response = await call(documentDelete, 'DELETE', `/DANE/document/${victim.doc}`, {
      pathParameters: { doc_id: victim.doc },
    });
    expect(response).toMatchObject({ status: 200, body: '' });

    for (const id of [victim.doc, ...victim.tasks, ...victim.results]) expect(await exists(id)).toBe(false);
    for (const id of [bystander.doc, ...bystander.tasks, ...bystander.results])
      expect(await exists(id)).toBe(true);
    expect((await getDoc(victim.doc)).status).toBe(404);
  });

  it('also deletes children written a moment ago and not yet refreshed', async () => {
    const fresh = await seedFamily('fresh', false);
    const response = await call(documentDelete, 'DELETE', '/x', { pathParameters: { doc_id: fresh.doc } });
    expect(response.status).toBe(200);
    for (const id of [fresh.doc, ...fresh.tasks, ...fresh.results]) expect(await exists(id)).toBe(false);
  });

  it('404 for an unknown document', async () => {
    const response = await call(documentDelete, 'DELETE', '/x', { pathParameters: { doc_id: 'nope' } });
    expect(response.status).toBe(404);
  });

  it('answers the 0.2.2 alias GET /DANE/document/{doc_id}/delete the same way', async () => {
    const family = await seedFamily('alias', true);
    const response = await call(documentDelete, 'GET', `/DANE/document/${family.doc}/delete`, {
      pathParameters: { doc_id: family.doc },
    });
    expect(response).toMatchObject({ status: 200, body: '' });
    for (const id of [family.doc, ...family.tasks, ...family.results]) expect(await exists(id)).toBe(false);
  });
});

describe('POST /DANE/documents', () => {
  const postBatch = (body: unknown) =>
    call(documentsCreate, 'POST', '/DANE/documents', {
      rawBody: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('accounts for every element: registered, invalid, duplicate in the batch, already registered', async () => {
    const existing = uniqueName('t');
    expect((await post(doc(existing, creator))).status).toBe(200);
    const fresh = [uniqueName('t'), uniqueName('t')];
    const batch = [
      doc(fresh[0], creator),
      { target: { id: 'x', type: 'Video' }, creator: { id: creator, type: 'Human' } },
      doc(fresh[0], creator),
      doc(existing, creator),
      { ...doc('y', creator), _id: 'mine' },
      42,
      doc(fresh[1], creator),
    ];
    const response = await postBatch(batch);
    expect(response.status).toBe(200);
    const { success, failed } = response.body as {
      success: { _id: string; target: { id: string } }[];
      failed: { index: number; document: { _id: string } | null; invalid: unknown; error: string }[];
    };
    expect(success.map((d) => d.target.id)).toEqual(fresh);
    expect(success.map((d) => d._id)).toEqual(fresh.map((t) => documentId(t, creator)));
    expect(failed.map((f) => f.index)).toEqual([1, 2, 3, 4, 5]);
    expect(failed[0]).toMatchObject({ document: null, invalid: batch[1] });
    expect(failed[0]?.error).toMatch(/^Invalid target\.url: /);
    const duplicate = `A document with target.id \`${fresh[0]}\`, and creator.id \`${creator}\` already exists`;
    expect(failed[1]).toMatchObject({
      document: { _id: documentId(fresh[0], creator) },
      invalid: null,
      error: duplicate,
    });
    expect(failed[2]).toMatchObject({
      document: { _id: documentId(existing, creator) },
      error: `A document with target.id \`${existing}\`, and creator.id \`${creator}\` already exists`,
    });
    expect(failed[3]?.error).toMatch(/^Invalid _id: /);
    expect(failed[4]?.error).toMatch(/^Invalid body: /);

    for (const t of fresh) expect((await getDoc(documentId(t, creator))).status).toBe(200);
  });

  it('accepts elements that are JSON strings holding a document, as 0.3.1 did (dane-workflows sends them)', async () => {
    const fresh = uniqueName('t');
    // What dane-workflows posts: Document.to_json() of the dane library, a string, with null timestamps.
    const encoded = JSON.stringify({ ...doc(fresh, creator), created_at: null, updated_at: null });
    const floatId = `{"target":{"id":1.0,"url":"http://example.org/f","type":"Video"},"creator":{"id":"${creator}","type":"Human"}}`;
    const batch = [
      encoded,
      '{"target": {',
      '"just a string"',
      JSON.stringify({ ...doc('z', creator), _id: 'x' }),
      floatId,
    ];
    const response = await postBatch(batch);
    expect(response.status).toBe(200);
    const { success, failed } = response.body as {
      success: { _id: string; target: { id: unknown } }[];
      failed: { index: number; document: unknown; invalid: unknown; error: string }[];
    };
    expect(success.map((d) => d._id)).toEqual([documentId(fresh, creator), documentId('1.0', creator)]);
    expect(failed.map((f) => [f.index, f.document, f.invalid])).toEqual([
      [1, null, batch[1]],
      [2, null, batch[2]],
      [3, null, batch[3]],
    ]);
    expect(failed[0]?.error).toMatch(/^Invalid body: is a string that does not hold a JSON document \(/);
    expect(failed[1]?.error).toMatch(/^Invalid body: expected a JSON object/);
    expect(failed[2]?.error).toMatch(/^Invalid _id: /);
    expect((await getDoc(documentId(fresh, creator))).status).toBe(200);
    // Only the batch read strings in 0.3.1: the single route still wants the object itself.
    expect((await postRaw(JSON.stringify(encoded))).status).toBe(400);
  });

  it('an empty array registers nothing; a body that is not an array is a 400', async () => {
    expect(await postBatch([])).toMatchObject({ status: 200, body: { success: [], failed: [] } });
    const object = await postBatch(doc('a', 'b'));
    expect(object.status).toBe(400);
    expect(message(object)).toMatch(/expected a JSON array/);
    expect((await postBatch('[{')).status).toBe(400);
  });

  it('uses Python ids for non-string target ids in a batch', async () => {
    const response = await postBatch(
      `[{"target":{"id":2.0,"url":"u","type":"Text"},"creator":{"id":"${creator}","type":"Human"}}]`,
    );
    expect((response.body as { success: { _id: string }[] }).success[0]?._id).toBe(
      documentId('2.0', creator),
    );
  });
});

describe('GET /DANE/documents', () => {
  it('returns the array in the order asked, from doc, doc[] and comma lists', async () => {
    const ids = ['g1', 'g2', 'g3'].map((t) => documentId(t, creator));
    for (const [i, id] of ids.entries()) await seedDocument(id, `g${i + 1}`, creator);
    const response = await call(documentsGet, 'GET', '/DANE/documents', {
      query: `doc=${ids[2]}&doc%5B%5D=${ids[0]},${ids[1]}&doc=${ids[2]}`,
    });
    expect(response.status).toBe(200);
    expect((response.body as { _id: string }[]).map((d) => d._id)).toEqual([ids[2], ids[2], ids[0], ids[1]]);
  });

  it('404 naming the unknown ids; 400 without ids', async () => {
    const known = documentId('g1', creator);
    const response = await call(documentsGet, 'GET', '/x', { query: `doc=${known},nope1&doc=nope2` });
    expect(response.status).toBe(404);
    expect(message(response)).toBe('No document with id `nope1`, `nope2`');
    const none = await call(documentsGet, 'GET', '/x', { query: '' });
    expect(none.status).toBe(400);
    expect(message(none)).toMatch(/^Invalid doc: /);
  });
});

describe('DELETE /DANE/documents', () => {
  it('deletes the named documents with their tasks and results, skipping unknown ids', async () => {
    const ids = ['d1', 'd2', 'd3', 'd4'].map((t) => documentId(t, creator));
    for (const [i, id] of ids.entries()) await seedDocument(id, `d${i + 1}`, creator);
    const task = taskId(ids[0] as string, 'ASR');
    await seedTask(task, ids[0] as string, 'ASR');
    const result = await seedResult(task, { ok: true });

    const response = await call(documentsDelete, 'DELETE', '/DANE/documents', {
      query: `docs=${ids[0]},unknown&docs%5B%5D=${ids[1]}&doc=${ids[2]}`,
    });
    expect(response).toMatchObject({ status: 200, body: '' });
    for (const id of [ids[0], ids[1], ids[2], task, result]) expect(await exists(id as string)).toBe(false);
    expect(await exists(ids[3] as string)).toBe(true);
  });

  it('400 without ids', async () => {
    const response = await call(documentsDelete, 'DELETE', '/x', { query: 'docs=' });
    expect(response.status).toBe(400);
    expect(message(response)).toMatch(/^Invalid docs: /);
  });
});
