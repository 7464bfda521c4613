import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * API keys look like `dane_<name>_<64 hex digits>`: the prefix makes a leaked key recognisable to secret scanners
 * and people, the name lets the store find its record with one GET by id (no scan, no index on the hash), and
 * the 32 random bytes from the OS CSPRNG make guessing hopeless. Only an HMAC-SHA-256 of the whole key, keyed
 * with a server-side pepper, is stored: a copy of the key index alone cannot even confirm a guess, and the
 * random part is far too long for a slow hash to add anything but latency on every request.
 */

export const KEY_PREFIX = 'dane_';
const SECRET_BYTES = 32;
const HASH_VERSION = 'hmac-sha256';

export const KeyNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'must be 1-64 characters of lowercase letters, digits, ".", "_" and "-", starting with a letter or digit',
  );

const KEY_PATTERN = /^dane_([a-z0-9][a-z0-9._-]{0,63})_([0-9a-f]{64})$/;

/** A new key for `name`; the caller shows it once and stores only `hashApiKey(key)`. */
export function generateApiKey(name: string): string {
  return `${KEY_PREFIX}${KeyNameSchema.parse(name)}_${randomBytes(SECRET_BYTES).toString('hex')}`;
}

/** The key's name when `text` has the shape of one of our keys, else `undefined`. */
export function apiKeyName(text: string): string | undefined {
  return KEY_PATTERN.exec(text)?.[1];
}

export function hashApiKey(key: string, pepper: string): string {
  return `${HASH_VERSION}:${createHmac('sha256', pepper).update(key, 'utf8').digest('hex')}`;
}

/** Constant-time in the key: compares fixed-length digests, never the strings. */
export function apiKeyMatches(key: string, storedHash: string, pepper: string): boolean {
  const [version, hex] = storedHash.split(':');
  if (version !== HASH_VERSION || hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return false;
  const expected = Buffer.from(hex, 'hex');
  const actual = createHmac('sha256', pepper).update(key, 'utf8').digest();
  return timingSafeEqual(expected, actual);
}
