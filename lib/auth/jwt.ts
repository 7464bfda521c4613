import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Config } from '../config.ts';
import { SCOPES, type Scope } from './scopes.ts';

/**
 * Optional OIDC bearer tokens, verified here with `jose` (signature against the issuer's JWKS, `iss`, `aud`,
 * `exp`/`nbf`), never by serverless-offline's JWT emulation, which checks no signature. Scopes come from one
 * configured claim, a space-separated string (`scope`, RFC 9068) or an array (`scp`, `groups`, ...).
 */

export type JwtSettings = NonNullable<Config['auth']['oidc']>;

export type JwtCheck = { ok: true; name: string; scopes: Scope[] } | { ok: false; reason: string };

// Asymmetric algorithms only: with a symmetric one, whoever can read the JWKS could mint tokens.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Three base64url segments: worth handing to the verifier rather than calling it a malformed key. */
export const looksLikeJwt = (token: string): boolean =>
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

function scopesOf(payload: JWTPayload, settings: JwtSettings): Scope[] {
  const raw = payload[settings.scopesClaim];
  const values = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw : [];
  const scopes = new Set<Scope>();
  for (const value of values) {
    if (typeof value !== 'string' || !value.startsWith(settings.scopePrefix)) continue;
    const name = value.slice(settings.scopePrefix.length);
    if ((SCOPES as readonly string[]).includes(name)) scopes.add(name as Scope);
  }
  return SCOPES.filter((scope) => scopes.has(scope));
}

function reasonOf(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'Token has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `Token claim "${error.claim}" is not acceptable`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'Token signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return "Token is not signed by one of the issuer's keys";
  if (error instanceof errors.JOSEAlgNotAllowed) return 'Token algorithm is not allowed';
  return `Token is invalid (${error.code})`;
}

export interface JwtVerifier {
  verify(token: string): Promise<JwtCheck>;
}

/** `keys` replaces the remote JWKS (tests); jose caches the remote one and refetches on an unknown `kid`. */
export function createJwtVerifier(settings: JwtSettings, keys?: JWTVerifyGetKey): JwtVerifier {
  const keySet = keys ?? createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 3_000 });
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keySet, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: ALGORITHMS,
          requiredClaims: ['exp'],
          clockTolerance: 30,
        }));
      } catch (error) {
        // No JWKS means we cannot tell: that is our outage (5xx), not the caller's bad token. jose signals a
        // failed fetch with a timeout, the fetch's own error, or its base class (a non-200 or non-JSON answer).
        if (
          error instanceof errors.JWKSTimeout ||
          !(error instanceof errors.JOSEError) ||
          error.code === errors.JOSEError.code
        ) {
          throw new JwksUnavailableError(`The OIDC key set at ${settings.jwksUrl} could not be fetched`, {
            cause: error,
          });
        }
        return { ok: false, reason: reasonOf(error) };
      }
      const subject = payload[settings.nameClaim];
      const name = typeof subject === 'string' && subject !== '' ? subject : '(no name claim)';
      return { ok: true, name, scopes: scopesOf(payload, settings) };
    },
  };
}
