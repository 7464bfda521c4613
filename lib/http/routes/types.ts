import { z } from 'zod';
import type { Scope } from '../../auth/scopes.ts';

/**
 * One API route as both the handler and the OpenAPI document see it. Handlers parse their path and query with
 * these schemas (`parsePath`, `parseQuery`), so the published contract is the one that is enforced.
 */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** Absent: no JSON body worth describing. */
  schema?: z.ZodType;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
}

export interface RouteSpec<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI form, `{name}` for a path parameter; identical to the serverless.yml httpApi path. */
  path: string;
  /** The serverless.yml function key that serves it (several routes may share one function). */
  function: string;
  /**
   * The scope a caller needs (lib/auth/scopes.ts), or `public` for a route without the authorizer. Required, so
   * that no route can be written without deciding who may call it: the authorizer's table, the authorizer lines
   * of serverless.yml (held to this by a unit test) and the OpenAPI security of each operation come from here.
   */
  scope: Scope | 'public';
  /**
   * Set on a GET that changes state (a 0.2.2 alias): the route key of its POST or DELETE form, which needs the
   * same scope. HTTP_GET_ALIASES=false answers such a GET with 405 naming that form.
   */
  stateChangingGet?: `${'POST' | 'DELETE'} /${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  deprecated?: boolean;
  /** A compatibility shim that serverless.yml must declare but the OpenAPI document should not offer. */
  undocumented?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** Body as the OpenAPI document should show it when it differs from what `body` parses (e.g. raw text). */
  bodyDescription?: string;
  responses: Record<number, ResponseSpec>;
}

export const defineRoute = <P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> => spec;

/** `{"message": ...}` and, for validation errors, one entry per field at fault. */
export const ErrorSchema = z
  .object({
    message: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    requestId: z.string().optional(),
    dependency: z.enum(['database', 'messagequeue']).optional(),
  })
  .meta({ id: 'Error' });

export const errorResponse = (description: string): ResponseSpec => ({ description, schema: ErrorSchema });

/** What every route touching OpenSearch may also answer. */
export const storeErrors = {
  503: {
    ...errorResponse('OpenSearch is unavailable; nothing was written. Retry later.'),
    headers: { 'retry-after': { description: 'Seconds to wait', schema: z.string() } },
  },
} satisfies Record<number, ResponseSpec>;
