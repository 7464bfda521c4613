import type { RouteScopes } from './authorizer.ts';

/**
 * The scope each route needs, by API Gateway route key. Until the route registry declares scopes itself (and this
 * map is generated from it) a unit test holds it to the registry: every route is either here or public.
 *
 * - read: every GET that changes nothing.
 * - write: registering and deleting one document, assigning and deleting tasks, retry/forceretry/reset of one
 *   task, deleting a result; the GET aliases that change state need the same scope as their POST/DELETE form.
 * - admin: what touches many tasks or documents at once (batch delete, mass reset), and key management.
 */
export const routeScopes: RouteScopes = {
  'GET /DANE/document/{doc_id}': 'read',
  'GET /DANE/document/{doc_id}/tasks': 'read',
  'GET /DANE/document/{proxy+}': 'read',
  'GET /DANE/documents': 'read',
  'GET /DANE/search/document': 'read',
  'GET /DANE/search/{target_id}/{creator_id}': 'read',
  'GET /DANE/result/{result_id}': 'read',
  'GET /DANE/creator/{creator_id}/docs': 'read',
  'GET /DANE/task': 'read',
  'GET /DANE/task/{task_id}': 'read',
  'GET /DANE/task/{task_id}/document': 'read',
  'GET /DANE/task/{task_id}/results': 'read',
  'GET /DANE/creator/{creator_id}/{task_key}/tasks': 'read',
  'GET /DANE/creator/{creator_id}/{task_key}/results': 'read',
  'GET /DANE/workers': 'read',
  'GET /DANE/workers/{task_key}': 'read',
  'GET /DANE/overview': 'read',
  'GET /DANE/overview/creators': 'read',
  'GET /DANE/tasks': 'read',
  'GET /DANE/auth/me': 'read',

  'POST /DANE/document': 'write',
  'DELETE /DANE/document/{doc_id}': 'write',
  'GET /DANE/document/{doc_id}/delete': 'write',
  'POST /DANE/documents': 'write',
  'POST /DANE/task': 'write',
  'DELETE /DANE/task/{task_id}': 'write',
  'GET /DANE/task/{task_id}/delete': 'write',
  'POST /DANE/task/{task_id}/{action}': 'write',
  'GET /DANE/task/{task_id}/{action}': 'write',
  'DELETE /DANE/result/{result_id}': 'write',

  'DELETE /DANE/documents': 'admin',
  'POST /DANE/workers/{task_key}/reset': 'admin',
  'GET /DANE/workers/{task_key}/reset': 'admin',
  'POST /DANE/workers/{task_key}/reset/{state}': 'admin',
  'GET /DANE/workers/{task_key}/reset/{state}': 'admin',
  'POST /DANE/tasks/{action}': 'admin',
};

/**
 * Routes without the authorizer. /health and /ready are for load balancers and monitors, which hold no key;
 * /ready says only whether OpenSearch and RabbitMQ answer. /DANE/openapi.json describes the API, which is no
 * secret, and API tools fetch it before they have credentials.
 */
export const publicRoutes: readonly string[] = [
  'GET /health',
  'GET /ready',
  'GET /DANE/openapi.json',
  // The dashboard and the API reference are static pages; they ask for a key and send it with their API calls.
  'GET /DANE/manage',
  'GET /DANE/docs',
  'GET /DANE/assets/{file}',
];
