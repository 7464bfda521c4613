import { apiKeyName } from './api-keys.ts';
import { authorizationHeader, type Credential, parseAuthorization } from './credentials.ts';
import { type JwtVerifier, looksLikeJwt } from './jwt.ts';
import type { KeyVerifier } from './keys.ts';
import { grants, type Scope } from './scopes.ts';

/**
 * The authorizer's decision, as a pure function of the request and its ports: who is calling (an API key by
 * Bearer or Basic, or an OIDC token), and whether their scopes grant the scope the route declares. A route
 * that declares none is refused (fail closed), so a new route cannot go out open by omission.
 */

/** A route key as API Gateway writes it: `GET /DANE/document/{doc_id}`. */
export type RouteScopes = Readonly<Record<string, Scope>>;

export interface AuthRequest {
  routeKey: string;
  headers: Record<string, string | undefined> | null | undefined;
}

export interface Principal {
  /** The key name, or the OIDC name claim prefixed `oidc:`; what audit lines name. */
  name: string;
  kind: 'key' | 'oidc' | 'anonymous';
  scopes: Scope[];
}

export type Decision =
  | { allow: true; principal: Principal; required: Scope | undefined; reason: string }
  | {
      allow: false;
      /** 401: no valid credential; 403: a valid one without the scope, or a route without one. */
      status: 401 | 403;
      reason: string;
      principal?: Principal;
      required?: Scope;
    };

export interface AuthorizerDeps {
  mode: 'keys' | 'none';
  routeScopes: RouteScopes;
  keys: KeyVerifier;
  /** Absent: OIDC is not configured, and a bearer token must be an API key. */
  jwt?: JwtVerifier | undefined;
}

/**
 * `GET /DANE/document/{proxy*}` → `GET /DANE/document/{proxy+}`: serverless-offline reports hapi's form of
 * greedy parameters and drops trailing slashes; API Gateway reports the declared form.
 */
export function normaliseRouteKey(routeKey: string): string {
  const [method = '', ...rest] = routeKey.trim().split(' ');
  let path = rest.join(' ').trim().replaceAll('*}', '+}');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return `${method.toUpperCase()} ${path}`;
}

const deny = (status: 401 | 403, reason: string, extra: Partial<Decision> = {}): Decision =>
  ({ allow: false, status, reason, ...extra }) as Decision;

async function identify(credential: Credential, deps: AuthorizerDeps): Promise<Principal | string> {
  if (credential.kind === 'basic') {
    const check = await deps.keys.verify(credential.password, credential.user);
    return check.ok ? { name: check.name, kind: 'key', scopes: check.scopes } : check.reason;
  }
  if (apiKeyName(credential.token) !== undefined) {
    const check = await deps.keys.verify(credential.token);
    return check.ok ? { name: check.name, kind: 'key', scopes: check.scopes } : check.reason;
  }
  if (deps.jwt && looksLikeJwt(credential.token)) {
    const check = await deps.jwt.verify(credential.token);
    return check.ok ? { name: `oidc:${check.name}`, kind: 'oidc', scopes: check.scopes } : check.reason;
  }
  return deps.jwt
    ? 'Bearer token is neither a DANE API key nor a JWT'
    : 'Bearer token is not a DANE API key (dane_<name>_<secret>)';
}

/** Store or JWKS outages are thrown: the caller must answer 5xx, never "bad credentials". */
export async function decide(request: AuthRequest, deps: AuthorizerDeps): Promise<Decision> {
  const routeKey = normaliseRouteKey(request.routeKey);
  if (deps.mode === 'none') {
    return {
      allow: true,
      principal: { name: 'anonymous', kind: 'anonymous', scopes: ['admin', 'worker'] },
      required: deps.routeScopes[routeKey],
      reason: 'AUTH_MODE=none lets every request through',
    };
  }
  const required = deps.routeScopes[routeKey];
  if (required === undefined) return deny(403, `Route ${routeKey} declares no scope`);
  const parsed = parseAuthorization(authorizationHeader(request.headers));
  if (!parsed.ok) return deny(401, parsed.reason, { required });
  const principal = await identify(parsed.credential, deps);
  if (typeof principal === 'string') return deny(401, principal, { required });
  if (!grants(principal.scopes, required)) {
    return deny(
      403,
      `${principal.name} has scope ${principal.scopes.join(', ') || '(none)'}; ${routeKey} needs ${required}`,
      { principal, required },
    );
  }
  return { allow: true, principal, required, reason: `${principal.name} has ${required}` };
}

/** What the authorizer passes to the route's function (strings only: API Gateway's rule for context values). */
export interface AuthContext {
  principal: string;
  kind: Principal['kind'];
  scopes: string;
  [key: string]: string;
}

/**
 * The HTTP API simple response. A denial is `isAuthorized: false`, which API Gateway and serverless-offline
 * both answer with 403; a request without any Authorization header is answered 401 by the gateway itself when
 * the authorizer's identitySource names the header (then our function is not even invoked).
 */
export function toSimpleResponse(decision: Decision): { isAuthorized: boolean; context?: AuthContext } {
  if (!decision.allow) return { isAuthorized: false };
  return {
    isAuthorized: true,
    context: {
      principal: decision.principal.name,
      kind: decision.principal.kind,
      scopes: decision.principal.scopes.join(','),
    },
  };
}

/**
 * The caller as the route's function sees it (for audit lines): `requestContext.authorizer.lambda` on AWS and
 * under serverless-offline. Offline only, a client can forge it with the `sls-offline-authorizer-override`
 * header; on AWS only the authorizer writes it.
 */
export function principalOf(event: {
  requestContext?: { authorizer?: { lambda?: Record<string, unknown> } };
}): { name: string; kind: string; scopes: string[] } | undefined {
  const context = event.requestContext?.authorizer?.lambda;
  if (!context || typeof context.principal !== 'string') return undefined;
  return {
    name: context.principal,
    kind: typeof context.kind === 'string' ? context.kind : 'key',
    scopes: typeof context.scopes === 'string' ? context.scopes.split(',').filter(Boolean) : [],
  };
}
