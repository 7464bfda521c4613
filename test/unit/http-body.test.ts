import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler as documentCreate } from '../../functions/http/document-create.ts';
import { handler as documentsCreate } from '../../functions/http/documents-create.ts';
import { handler as taskCreate } from '../../functions/http/task-create.ts';
import { errorToResponse } from '../../lib/http/errors.ts';
import { call } from '../support/http.ts';

// JSON bodies that are valid JSON but not what a route needs answer 400 naming the problem, never 500. Each is
// refused before any store call, so no service is needed. The second table is what serverless-offline hands a
// function for a JSON content type: the value it parsed itself when that is falsy or a string.
const SCALARS = ['0', 'false', '"x"', 'null', '[]', '12.5', 'true'];

describe('scalar JSON bodies', () => {
  it.each(SCALARS)('POST /DANE/task with %s: 400 "Invalid body: must be a JSON object"', async (raw) => {
    const response = await call(taskCreate, 'POST', '/DANE/task', { rawBody: raw });
    expect(response).toMatchObject({ status: 400, body: { message: 'Invalid body: must be a JSON object' } });
  });

  it.each(SCALARS)('POST /DANE/document with %s: 400 naming the body', async (raw) => {
    const response = await call(documentCreate, 'POST', '/DANE/document', { rawBody: raw });
    expect(response.status).toBe(400);
    expect((response.body as { message: string }).message).toBe(
      'Invalid body: expected a JSON object with "target" and "creator"',
    );
  });

  it.each(SCALARS.filter((s) => s !== '[]'))(
    'POST /DANE/documents with %s: 400 naming the body',
    async (raw) => {
      const response = await call(documentsCreate, 'POST', '/DANE/documents', { rawBody: raw });
      expect(response).toMatchObject({
        status: 400,
        body: { message: 'Invalid body: expected a JSON array of documents' },
      });
    },
  );

  it('a body that is not JSON is a 400 saying so; "x" is JSON, x is not', async () => {
    const response = await call(taskCreate, 'POST', '/DANE/task', { rawBody: 'x' });
    expect(response.status).toBe(400);
    expect((response.body as { message: string }).message).toMatch(/^Request body is not valid JSON: /);
  });

  it.each<[string, unknown, string]>([
    ['0', 0, '1'],
    ['false', false, '5'],
    ['null', null, '4'],
    ['"x"', 'x', '3'],
  ])('as serverless-offline hands over %s: 400, not 500', async (_raw, body, length) => {
    const event = {
      rawPath: '/DANE/task',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', 'content-length': length },
      requestContext: { http: { method: 'POST', path: '/DANE/task' } },
      body,
      isBase64Encoded: false,
    };
    const result = await taskCreate(event as never, { awsRequestId: 'offline' } as never);
    expect({ status: result.statusCode, body: JSON.parse(result.body ?? '{}') }).toEqual({
      status: 400,
      body: expect.objectContaining({ message: 'Invalid body: must be a JSON object' }),
    });
  });
});

describe('errors of our own', () => {
  it("a ZodError that is not about the caller's input is a logged 500 with the request id, no internals", async () => {
    const ours = z.object({ state: z.number() }).safeParse({ state: 'x' });
    if (ours.success) throw new Error('expected a failure');
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as never;
    try {
      expect(errorToResponse(ours.error, 'req-9')).toEqual({
        statusCode: 500,
        body: { message: 'Internal server error', requestId: 'req-9' },
      });
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toContain('Unhandled error');
  });
});
