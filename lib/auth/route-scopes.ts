import { routes } from '../http/routes/index.ts';
import type { RouteSpec } from '../http/routes/types.ts';
import type { RouteScopes } from './authorizer.ts';

/**
 * The authorizer's table, generated from the route registry (lib/http/routes), where every route must declare its
 * scope: adding a route without deciding who may call it does not compile.
 *
 * - read: every GET that changes nothing.
 * - write: registering and deleting one document, assigning and deleting tasks, retry/forceretry/reset of one
 *   task, deleting a result; the GET aliases that change state need the same scope as their POST/DELETE form.
 * - admin: what touches many tasks or documents at once (batch delete, mass reset), and key management.
 * - public (no authorizer): /health and /ready are for load balancers and monitors, which hold no key; /ready
 *   says only whether OpenSearch and RabbitMQ answer. /DANE/openapi.json describes the API, which is no secret,
 *   and API tools fetch it before they have credentials.
 */

/** `GET /DANE/document/{doc_id}`: the route key as API Gateway writes it. */
export const routeKeyOf = (route: Pick<RouteSpec, 'method' | 'path'>): string =>
  `${route.method.toUpperCase()} ${route.path}`;

export const routeScopes: RouteScopes = Object.fromEntries(
  routes.flatMap((route) => (route.scope === 'public' ? [] : [[routeKeyOf(route), route.scope]])),
);

export const publicRoutes: readonly string[] = routes
  .filter((route) => route.scope === 'public')
  .map(routeKeyOf);
