import { z } from 'zod';
import { parseInput } from '../errors.ts';
import type { HttpRequest } from './handler.ts';
import type { RouteSpec } from './routes/types.ts';

/** Query and path input checked against a route's schemas; a mismatch is a 400 naming the parameter. */

function isArraySchema(schema: z.ZodType): boolean {
  let inner: z.ZodType = schema;
  for (;;) {
    if (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodPipe) {
      // A transform of a list (e.g. comma-separated values split and checked) still takes repeated values.
      inner = inner.in as z.ZodType;
    } else break;
  }
  return inner instanceof z.ZodArray;
}

export function parseQuery<Q extends z.ZodObject>(
  route: Pick<RouteSpec<z.ZodObject, Q>, 'query'>,
  request: HttpRequest,
): z.output<Q> {
  const schema = route.query;
  if (!schema) throw new Error('route has no query schema');
  const raw: Record<string, string | string[]> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    // Repeated parameters are kept for array fields; for single-valued ones the first occurrence counts.
    const values = request.query.getAll(name);
    if (values.length === 0) continue;
    raw[name] = isArraySchema(field as z.ZodType) ? values : (values[0] as string);
  }
  return parseInput(schema, raw);
}

export function parsePath<P extends z.ZodObject>(
  route: Pick<RouteSpec<P>, 'params'>,
  request: HttpRequest,
): z.output<P> {
  const schema = route.params;
  if (!schema) throw new Error('route has no path parameters');
  return parseInput(schema, request.pathParameters);
}

export function parseBody<B extends z.ZodType>(
  route: Pick<RouteSpec<z.ZodObject, z.ZodObject, B>, 'body'>,
  request: HttpRequest,
): z.output<B> {
  const schema = route.body;
  if (!schema) throw new Error('route has no body schema');
  return parseInput(schema, request.body);
}
