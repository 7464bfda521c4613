/**
 * Reads the one credential a request carries from its `Authorization` header. Every outcome is a value, never an
 * exception, and no reason ever quotes the header: whatever a client sent may be a secret.
 */

export type Credential =
  | { kind: 'bearer'; token: string }
  /** HTTP Basic: for dane-workflows (`~/.netrc`) and DANE workers, which can send nothing else. */
  | { kind: 'basic'; user: string; password: string };

export type CredentialResult = { ok: true; credential: Credential } | { ok: false; reason: string };

/**
 * Longer than any key or sensible JWT (ours are ~100 characters; OIDC access tokens a few KB), shorter than what
 * would make parsing a cost.
 */
export const MAX_AUTHORIZATION_LENGTH = 8_192;

// RFC 7235 token68 (base64, base64url and JWTs all fit); no spaces, commas or anything outside ASCII.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
// Tab and printable ASCII/Latin-1 except DEL: what RFC 9110 allows in a field value; controls are refused.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const fail = (reason: string): CredentialResult => ({ ok: false, reason });

/** The header, whatever its case: API Gateway lowercases names, serverless-offline's authorizer event does not. */
export function authorizationHeader(
  headers: Record<string, string | undefined> | null | undefined,
): string | undefined {
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization' && value !== undefined) return value;
  }
  return undefined;
}

export function parseAuthorization(header: string | undefined): CredentialResult {
  if (header === undefined || header.trim() === '')
    return fail('No credentials: send an Authorization header');
  if (header.length > MAX_AUTHORIZATION_LENGTH) {
    return fail(`Authorization header longer than ${MAX_AUTHORIZATION_LENGTH} characters`);
  }
  if (!FIELD_VALUE.test(header)) return fail('Authorization header holds control or non-Latin-1 characters');
  const trimmed = header.trim();
  const space = trimmed.search(/[ \t]/);
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const value = space === -1 ? '' : trimmed.slice(space).trim();
  if (scheme !== 'bearer' && scheme !== 'basic') {
    return fail('Authorization scheme must be Bearer or Basic');
  }
  if (value === '')
    return fail(`Authorization ${scheme === 'bearer' ? 'Bearer' : 'Basic'} without credentials`);
  // A comma is what API Gateway puts between repeated headers: two credentials are none.
  if (value.includes(',')) return fail('More than one credential in the Authorization header');
  if (!TOKEN68.test(value)) {
    return fail(`Authorization ${scheme === 'bearer' ? 'Bearer token' : 'Basic value'} is malformed`);
  }
  if (scheme === 'bearer') return { ok: true, credential: { kind: 'bearer', token: value } };
  return parseBasic(value);
}

function parseBasic(value: string): CredentialResult {
  if (!BASE64.test(value)) return fail('Authorization Basic value is not base64');
  const bytes = Buffer.from(value, 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('Authorization Basic credentials are not UTF-8');
  }
  const colon = text.indexOf(':');
  if (colon === -1) return fail('Authorization Basic credentials lack the ":" between user and password');
  const user = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (user === '') return fail('Authorization Basic credentials have an empty user name');
  if (password === '') return fail('Authorization Basic credentials have an empty password');
  return { ok: true, credential: { kind: 'basic', user, password } };
}
