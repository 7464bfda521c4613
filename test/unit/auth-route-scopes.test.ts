import { describe, expect, it } from 'vitest';
import { normaliseRouteKey } from '../../lib/auth/authorizer.ts';
import { publicRoutes, routeScopes } from '../../lib/auth/route-scopes.ts';
import { routes } from '../../lib/http/routes/index.ts';

const keyOf = (route: { method: string; path: string }) => `${route.method.toUpperCase()} ${route.path}`;

describe('route scopes', () => {
  it('cover every route of the registry exactly once: with a scope, or public', () => {
    const registry = routes.map(keyOf).sort();
    const declared = [...Object.keys(routeScopes), ...publicRoutes].sort();
    expect(declared).toEqual(registry);
    expect(Object.keys(routeScopes).filter((key) => publicRoutes.includes(key))).toEqual([]);
  });

  it('leave open only the liveness, readiness and API description routes, and the static pages', () => {
    // The dashboard and the API reference pages hold no data; they ask for a key and send it with their API calls.
    expect([...publicRoutes].sort()).toEqual([
      'GET /DANE/assets/{file}',
      'GET /DANE/docs',
      'GET /DANE/manage',
      'GET /DANE/openapi.json',
      'GET /health',
      'GET /ready',
    ]);
  });

  it('are written in the normalised form the authorizer looks up', () => {
    for (const key of Object.keys(routeScopes)) expect(normaliseRouteKey(key)).toBe(key);
  });

  it('give a state-changing GET alias the scope of its POST or DELETE form', () => {
    const aliases: [string, string][] = [
      ['GET /DANE/task/{task_id}/{action}', 'POST /DANE/task/{task_id}/{action}'],
      ['GET /DANE/task/{task_id}/delete', 'DELETE /DANE/task/{task_id}'],
      ['GET /DANE/document/{doc_id}/delete', 'DELETE /DANE/document/{doc_id}'],
      ['GET /DANE/workers/{task_key}/reset', 'POST /DANE/workers/{task_key}/reset'],
      ['GET /DANE/workers/{task_key}/reset/{state}', 'POST /DANE/workers/{task_key}/reset/{state}'],
    ];
    for (const [alias, form] of aliases) {
      expect(routeScopes[alias], alias).toBeDefined();
      expect(routeScopes[alias], alias).toBe(routeScopes[form]);
    }
  });

  it('keep mass operations for admin and never ask an API route for the worker scope', () => {
    expect(routeScopes['DELETE /DANE/documents']).toBe('admin');
    expect(routeScopes['POST /DANE/workers/{task_key}/reset']).toBe('admin');
    expect(Object.values(routeScopes)).not.toContain('worker');
  });
});
