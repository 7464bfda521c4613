import { afterAll, describe, expect, it } from 'vitest';
import { handler as resultDelete } from '../../functions/http/result-delete.ts';
import { handler as resultGet } from '../../functions/http/result-get.ts';
import { documentId, taskId } from '../../lib/model/ids.ts';
import { call } from '../support/http.ts';
import {
  exists,
  removeCreator,
  seedDocument,
  seedResult,
  seedTask,
  uniqueName,
} from './documents-fixtures.ts';

const creator = uniqueName('results-test');
const doc = documentId('with-results', creator);
const task = taskId(doc, 'ASR');

afterAll(async () => {
  await removeCreator(creator);
});

const get = (id: string) =>
  call(resultGet, 'GET', `/DANE/result/${id}`, { pathParameters: { result_id: id } });
const del = (id: string) =>
  call(resultDelete, 'DELETE', `/DANE/result/${id}`, { pathParameters: { result_id: id } });

describe('GET /DANE/result/{result_id}', () => {
  it('returns a result a Python worker saved (routed by task id): payload whole, timestamps, task id', async () => {
    await seedDocument(doc, 'with-results', creator);
    await seedTask(task, doc, 'ASR');
    const payload = { a: 1, b: null, c: { d: [1, null] }, e: 'x', f: null };
    const id = await seedResult(task, payload);

    const response = await get(id);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      _id: id,
      generator: { id: 'abc123', type: 'Software', name: 'ASR', homepage: 'https://example.org/asr' },
      payload,
      created_at: '2023-06-16T15:14:00',
      updated_at: '2023-06-16T15:14:00',
      task_id: task,
    });
    expect(Object.keys(response.body as object)).toEqual([
      '_id',
      'generator',
      'payload',
      'created_at',
      'updated_at',
      'task_id',
    ]);
  });

  it('404 for an unknown id, and for ids of a document or a task', async () => {
    for (const id of ['nope', doc, task]) {
      const response = await get(id);
      expect(response.status).toBe(404);
      expect((response.body as { message: string }).message).toBe(`No result with id \`${id}\``);
    }
  });
});

describe('DELETE /DANE/result/{result_id}', () => {
  it('deletes it (200 ""), then 404s', async () => {
    const id = await seedResult(task, { n: 1 }, { refresh: false });
    expect(await del(id)).toMatchObject({ status: 200, body: '' });
    expect(await exists(id)).toBe(false);
    expect((await get(id)).status).toBe(404);
    expect((await del(id)).status).toBe(404);
  });

  it('404 for a task id, leaving the task alone', async () => {
    expect((await del(task)).status).toBe(404);
    expect(await exists(task)).toBe(true);
  });
});
