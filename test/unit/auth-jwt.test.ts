import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createJwtVerifier,
  JwksUnavailableError,
  type JwtSettings,
  looksLikeJwt,
} from '../../lib/auth/jwt.ts';
import { parseConfig } from '../../lib/config.ts';

// A local issuer: an RSA key pair made here, its public half served as a JWKS on loopback, exactly as an
// identity provider's jwks_uri would serve it.
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let server: Server;
let jwksUrl: string;
let signingKey: SigningKey;
let strangerKey: SigningKey;
let jwksStatus = 200;
let jwksFetches = 0;

const ISSUER = 'https://login.example.org/realms/dane';
const AUDIENCE = 'dane-api';

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    jwksFetches += 1;
    res.writeHead(jwksStatus, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const settings = (overrides: Partial<JwtSettings> = {}): JwtSettings => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUrl,
  scopesClaim: 'scope',
  scopePrefix: '',
  nameClaim: 'sub',
  ...overrides,
});

async function token(
  claims: Record<string, unknown> = { scope: 'read write' },
  options: { key?: SigningKey; kid?: string; iss?: string; aud?: string; exp?: string | number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m')
    .sign(options.key ?? signingKey);
}

describe('OIDC JWT verification', () => {
  it('accepts a token signed by the issuer and reads its scopes and name', async () => {
    const verifier = createJwtVerifier(settings());
    expect(await verifier.verify(await token())).toEqual({
      ok: true,
      name: 'alice',
      scopes: ['read', 'write'],
    });
    expect(jwksFetches).toBeGreaterThan(0);
  });

  it('reads scopes from an array claim with a prefix, ignoring what is not ours', async () => {
    const verifier = createJwtVerifier(settings({ scopesClaim: 'groups', scopePrefix: 'dane:' }));
    const jwt = await token({ groups: ['dane:admin', 'dane:bogus', 'read', 'other:write', 7] });
    expect(await verifier.verify(jwt)).toEqual({ ok: true, name: 'alice', scopes: ['admin'] });
    expect(await verifier.verify(await token({}))).toEqual({ ok: true, name: 'alice', scopes: [] });
  });

  it.each([
    ['another issuer', () => token(undefined, { iss: 'https://evil.example' }), /claim "iss"/],
    ['another audience', () => token(undefined, { aud: 'other-api' }), /claim "aud"/],
    ['an expired token', () => token(undefined, { exp: Math.floor(Date.now() / 1000) - 3_600 }), /expired/],
    ['a stranger’s signature', () => token(undefined, { key: strangerKey }), /signature does not verify/],
    ['an unknown key id', () => token(undefined, { key: strangerKey, kid: 'nope' }), /not signed by one of/],
    ['an unsigned token', () => Promise.resolve(unsigned()), /algorithm is not allowed|invalid/i],
    ['a token without exp', () => tokenWithoutExp(), /claim "exp"/],
  ])('refuses %s', async (_what, make, reason) => {
    const check = await createJwtVerifier(settings()).verify(await make());
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it('treats an unreachable or failing JWKS as an outage, not as a bad token', async () => {
    const down = createJwtVerifier(settings({ jwksUrl: 'http://127.0.0.1:9/jwks.json' }));
    await expect(down.verify(await token())).rejects.toThrow(JwksUnavailableError);
    jwksStatus = 500;
    try {
      await expect(createJwtVerifier(settings()).verify(await token())).rejects.toThrow(JwksUnavailableError);
    } finally {
      jwksStatus = 200;
    }
  });

  it('recognises the shape of a JWT', () => {
    expect(looksLikeJwt('aaa.bbb.ccc')).toBe(true);
    expect(looksLikeJwt(`dane_ci_${'a'.repeat(64)}`)).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
  });

  it('is configured by AUTH_OIDC_* settings, all three or none', () => {
    expect(parseConfig({}).auth.oidc).toBeUndefined();
    const config = parseConfig({
      AUTH_OIDC_ISSUER: ISSUER,
      AUTH_OIDC_AUDIENCE: AUDIENCE,
      AUTH_OIDC_JWKS_URL: 'https://login.example.org/jwks',
      AUTH_OIDC_SCOPES_CLAIM: 'scp',
    });
    expect(config.auth.oidc).toEqual({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: 'https://login.example.org/jwks',
      scopesClaim: 'scp',
      scopePrefix: '',
      nameClaim: 'sub',
    });
    expect(() => parseConfig({ AUTH_OIDC_ISSUER: ISSUER })).toThrow(/must be set together/);
  });
});

function unsigned(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none' })}.${part({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', exp: now + 300, scope: 'admin' })}.`;
}

function tokenWithoutExp(): Promise<string> {
  return new SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('alice')
    .sign(signingKey);
}
