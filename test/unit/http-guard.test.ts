import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routeScopes } from '../../lib/auth/route-scopes.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { routes } from '../../lib/http/routes/index.ts';
import { captureLogs, type LogCapture } from '../support/log-capture.ts';

// This file's process runs with the GET aliases switched off and a small body limit (lib/config reads the
// environment at first use, after these lines).
process.env.HTTP_GET_ALIASES = 'false';
process.env.HTTP_MAX_BODY_BYTES = '2048';

const handler = httpHandler(async () => json(200, { _id: 'doc-1' }));
const invoke = async (routeKey: string, options: { body?: string; principal?: string } = {}) => {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  const event = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: 'docs=a&docs=b',
    headers: { 'content-type': 'application/json', authorization: 'Bearer dane_x_secret' },
    pathParameters: { task_id: 't1' },
    requestContext: {
      http: { method, path },
      requestId: 'r1',
      ...(options.principal
        ? { authorizer: { lambda: { principal: options.principal, kind: 'key', scopes: 'admin' } } }
        : {}),
    },
    body: options.body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  const result = (await handler(event, { awsRequestId: 'r1' } as Context)) as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };
  return { status: result.statusCode, headers: result.headers, body: JSON.parse(result.body || 'null') };
};

let logs: LogCapture;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.stop());
const auditLines = () =>
  logs
    .lines()
    .filter((line) => line.includes('"message":"audit"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the shared HTTP stack', () => {
  it('names, for every state-changing GET alias, a route of the same scope', () => {
    const aliases = routes.filter((route) => route.stateChangingGet);
    expect(aliases.length).toBe(5);
    for (const alias of aliases) {
      const form = alias.stateChangingGet as string;
      expect(routeScopes[form], form).toBeDefined();
      expect(routeScopes[`GET ${alias.path}`]).toBe(routeScopes[form]);
    }
  });

  it('answers 405 for a state-changing GET alias when HTTP_GET_ALIASES=false, naming the form to use', async () => {
    const response = await invoke('GET /DANE/task/{task_id}/{action}');
    expect(response).toMatchObject({
      status: 405,
      headers: { allow: 'POST' },
      body: { message: expect.stringContaining('use POST /DANE/task/{task_id}/{action}') },
    });
    // GETs that change nothing still answer.
    expect((await invoke('GET /DANE/task/{task_id}')).status).toBe(200);
  });

  it('answers 413 for a body over HTTP_MAX_BODY_BYTES, before parsing it', async () => {
    const response = await invoke('POST /DANE/document', { body: `{"x":"${'a'.repeat(3000)}` });
    expect(response.status).toBe(413);
    expect(response.body.message).toMatch(/over the limit of 2048 bytes \(HTTP_MAX_BODY_BYTES\)/);
    // Not parsed: the same oversized body, malformed, is still a 413 and not a 400.
    expect((await invoke('POST /DANE/document', { body: '{'.repeat(3000) })).status).toBe(413);
    expect((await invoke('POST /DANE/document', { body: '{"x":1}' })).status).toBe(200);
  });

  it('writes one audit line per mutation, with the principal, route, ids and outcome, and none for a read', async () => {
    await invoke('DELETE /DANE/documents', { principal: 'ops' });
    await invoke('GET /DANE/task/{task_id}/{action}', { principal: 'ops' });
    await invoke('GET /DANE/task/{task_id}', { principal: 'ops' });
    expect(auditLines()).toMatchObject([
      {
        principal: 'ops',
        route: 'DELETE /DANE/documents',
        ids: { task_id: 't1', docs: ['a', 'b'], answered: ['doc-1'] },
        status: 200,
        outcome: 'done',
      },
      { principal: 'ops', route: 'GET /DANE/task/{task_id}/{action}', status: 405, outcome: 'refused' },
    ]);
    expect(logs.lines().join('\n')).not.toContain('dane_x_secret');
  });
});
