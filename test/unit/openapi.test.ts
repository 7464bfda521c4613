import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { handler as openapiHandler } from '../../functions/http/openapi.ts';
import { buildOpenApiDocument } from '../../lib/http/openapi.ts';
import { routes } from '../../lib/http/routes/index.ts';
import { call } from '../support/http.ts';

interface ServerlessFile {
  functions: Record<string, { handler: string; events?: { httpApi?: { method: string; path: string } }[] }>;
}

const serverless = parse(
  readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'),
) as ServerlessFile;

const declared = Object.entries(serverless.functions).flatMap(([name, fn]) =>
  (fn.events ?? []).flatMap((event) =>
    event.httpApi ? [`${event.httpApi.method.toUpperCase()} ${event.httpApi.path} -> ${name}`] : [],
  ),
);
const registered = routes.map((route) => `${route.method.toUpperCase()} ${route.path} -> ${route.function}`);

describe('the route registry', () => {
  it('holds exactly the httpApi events of serverless.yml, each served by the same function', () => {
    expect([...registered].sort()).toEqual([...declared].sort());
  });

  it('declares every path parameter of each path, and no other', () => {
    for (const route of routes) {
      // A greedy `{name+}` reaches the handler as `name`.
      const inPath = [...route.path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]).sort();
      expect(Object.keys(route.params?.shape ?? {}).sort(), `${route.method} ${route.path}`).toEqual(inPath);
    }
  });

  it('has unique operation ids', () => {
    const ids = routes.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument() as unknown as OpenAPIV3_1.Document;

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('covers every registered route with its method, compatibility shims excepted', () => {
    expect(document.paths?.['/DANE/document/{proxy+}']).toBeUndefined();
    for (const route of routes.filter((r) => !r.undocumented)) {
      expect(document.paths?.[route.path]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it('shares the document, task and result schemas as components', () => {
    const schemas = document.components?.schemas ?? {};
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['Document', 'Task', 'Result', 'Error']));
    const documentGet = document.paths?.['/DANE/document/{doc_id}']?.get;
    const ok = documentGet?.responses?.['200'] as OpenAPIV3_1.ResponseObject;
    expect(ok.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Document' });
  });

  it('describes repeated query parameters as exploded arrays', () => {
    const params = document.paths?.['/DANE/documents']?.get?.parameters as OpenAPIV3_1.ParameterObject[];
    expect(params.find((p) => p.name === 'doc')).toMatchObject({
      in: 'query',
      required: false,
      style: 'form',
      explode: true,
      schema: { type: 'array', items: { type: 'string' } },
    });
  });

  it('is served at GET /DANE/openapi.json', async () => {
    const response = await call(openapiHandler, 'GET', '/DANE/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('refuses two different schemas under one component name', () => {
    const a = z.object({ a: z.string() }).meta({ id: 'Clash' });
    const b = z.object({ b: z.string() }).meta({ id: 'Clash' });
    const route = (schema: z.ZodType, path: string) => ({
      method: 'get' as const,
      path,
      function: 'f',
      scope: 'read' as const,
      operationId: path,
      summary: 's',
      tags: [],
      responses: { 200: { description: 'd', schema } },
    });
    expect(() => buildOpenApiDocument([route(a, '/a'), route(b, '/b')])).toThrow(/Clash/);
  });
});
