import { z } from 'zod';
import { routes as allRoutes } from './routes/index.ts';
import type { ResponseSpec, RouteSpec } from './routes/types.ts';

/**
 * The OpenAPI 3.1 document, generated from the route registry with zod's own JSON Schema output (draft 2020-12,
 * the dialect OpenAPI 3.1 uses). Schemas that carry a `.meta({ id })` become shared components.
 */

type Json = Record<string, unknown>;

const COMPONENT_REF = '#/components/schemas/';

class SchemaCollector {
  readonly components: Record<string, Json> = {};

  /** The JSON Schema of `schema` with its named parts moved to the components. */
  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
    const { $schema: _dialect, $defs, ...root } = converted;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, Json>)) {
      this.add(id, rewriteRefs(definition) as Json);
    }
    return rewriteRefs(root) as Json;
  }

  private add(id: string, definition: Json): void {
    const existing = this.components[id];
    // Two different schemas under one id would make every $ref to it ambiguous; catch it here, in the tests.
    if (existing && JSON.stringify(existing) !== JSON.stringify(definition)) {
      throw new Error(`Two different schemas are registered as "${id}"`);
    }
    this.components[id] = definition;
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')
        ? COMPONENT_REF + inner.slice('#/$defs/'.length)
        : rewriteRefs(inner);
  }
  return out;
}

function parameters(route: RouteSpec, collector: SchemaCollector): Json[] {
  const out: Json[] = [];
  const add = (where: 'path' | 'query', object: z.ZodObject | undefined) => {
    if (!object) return;
    const converted = collector.convert(object, 'input');
    const properties = (converted.properties ?? {}) as Record<string, Json>;
    const required = new Set((converted.required ?? []) as string[]);
    for (const [name, { description, ...schema }] of Object.entries(properties)) {
      out.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(description !== undefined ? { description } : {}),
        schema,
        ...(schema.type === 'array' ? { style: 'form', explode: true } : {}),
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  return out;
}

function response(spec: ResponseSpec, collector: SchemaCollector): Json {
  const headers = Object.entries(spec.headers ?? {}).map(([name, header]) => [
    name,
    { description: header.description, schema: collector.convert(header.schema, 'output') },
  ]);
  return {
    description: spec.description,
    ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
    ...(spec.schema
      ? { content: { 'application/json': { schema: collector.convert(spec.schema, 'output') } } }
      : {}),
  };
}

/** API Gateway's own answers in front of a protected route (README, "401 and 403"). */
const authResponses: Record<number, ResponseSpec> = {
  401: { description: 'No Authorization header (answered by API Gateway; the function is not invoked)' },
  403: {
    description:
      'A credential that is malformed, unknown, revoked, or without the scope of the route (answered by API Gateway)',
  },
};

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

const defaultInfo: OpenApiInfo = {
  title: 'DANE API',
  version: '0.3.1',
  description:
    "DANE (Distributed Annotation 'n' Enrichment): register documents, assign tasks to them and read their " +
    'results. Compatible with the routes of DANE-server 0.3.1 (and the 0.2.2 aliases) without its bugs. Routes ' +
    'declared here without a trailing slash also answer with one.',
};

export function buildOpenApiDocument(routes: readonly RouteSpec[] = allRoutes, info = defaultInfo): Json {
  const collector = new SchemaCollector();
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    if (route.undocumented) continue;
    const operation: Json = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      ...(route.deprecated ? { deprecated: true } : {}),
      // An empty requirement list opens the operation; otherwise either scheme carries the key. OpenAPI 3.1 lets
      // the scopes of a non-OAuth scheme be named, so each operation says which scope it needs.
      security:
        route.scope === 'public' ? [] : [{ bearerApiKey: [route.scope] }, { basicApiKey: [route.scope] }],
      ...(route.scope === 'public' ? {} : { 'x-dane-scope': route.scope }),
    };
    const params = parameters(route, collector);
    if (params.length > 0) operation.parameters = params;
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: collector.convert(route.body, 'input') } },
      };
    }
    operation.responses = Object.fromEntries(
      Object.entries({ ...(route.scope === 'public' ? {} : authResponses), ...route.responses }).map(
        ([status, spec]) => [status, response(spec, collector)],
      ),
    );
    paths[route.path] ??= {};
    const item = paths[route.path] as Record<string, Json>;
    if (item[route.method])
      throw new Error(`Route ${route.method.toUpperCase()} ${route.path} is registered twice`);
    item[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: collector.components,
      securitySchemes: {
        bearerApiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A DANE API key (`dane_<name>_<secret>`) or, where configured, an OIDC access token. Each operation ' +
            'names the scope it needs (x-dane-scope); admin implies write implies read.',
        },
        basicApiKey: {
          type: 'http',
          scheme: 'basic',
          description: 'The same API key as HTTP Basic: user = the key name, password = the whole key.',
        },
      },
    },
  };
}

let cached: Json | undefined;

/** Built once per container: the registry does not change at run time. */
export function getOpenApiDocument(): Json {
  cached ??= buildOpenApiDocument();
  return cached;
}
