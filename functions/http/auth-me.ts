import { principalOf } from '../../lib/auth/authorizer.ts';
import { effectiveScopes, SCOPES, type Scope } from '../../lib/auth/scopes.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';

/**
 * GET /DANE/auth/me: the caller as the authorizer identified it. Without an authorizer in front (auth not
 * wired, as locally) anyone may do anything, and the answer says so, so that the dashboard shows every action.
 */
export const handler = httpHandler((request) => {
  const principal = principalOf({ requestContext: { authorizer: { lambda: request.authorizer } } });
  if (!principal) return json(200, { name: 'anonymous', scopes: ['read', 'write', 'admin'], mode: 'none' });
  const held = principal.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
  return json(200, { name: principal.name, scopes: effectiveScopes(held), mode: principal.kind });
});
