import { createHash, timingSafeEqual } from 'node:crypto';
import { apiKeyName } from './api-keys.ts';
import type { KeyVerifier } from './keys.ts';
import { grants } from './scopes.ts';

/**
 * The check of the basic-auth credential that DANE workers send to the worker gateway. A port of its own because
 * the auth issue replaces the one configured credential by `worker`-scoped API keys: callers only ask "is this
 * user/password a worker?".
 */
export type WorkerCredentialCheck = (username: string, password: string) => Promise<boolean>;

// Hashing first gives equal-length inputs, so timingSafeEqual never throws and the time taken does not depend
// on where (or whether) the strings differ, nor on their lengths.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** The configured worker credential (`config.gateway.worker`); none configured: nobody is a worker. */
export function configuredWorkerCredential(
  expected: { username: string; password: string } | undefined,
): WorkerCredentialCheck {
  return async (username, password) => {
    if (!expected) return false;
    // Both comparisons always run: no early exit that would tell a right user name from a wrong one.
    const userOk = same(username, expected.username);
    const passwordOk = same(password, expected.password);
    return userOk && passwordOk;
  };
}

/**
 * A `worker`-scoped API key as basic auth: user = the key's name, password = the whole key (`dane_<name>_...`),
 * which is what a DANE worker's `ELASTICSEARCH.USER`/`PASSWORD` carry. Keys of other scopes are refused: an
 * operator's admin key is no worker key. Store outages propagate (the gateway answers 503).
 */
export function workerKeyCredential(keys: Pick<KeyVerifier, 'verify'>): WorkerCredentialCheck {
  return async (username, password) => {
    if (apiKeyName(password) === undefined) return false;
    const check = await keys.verify(password, username);
    return check.ok && grants(check.scopes, 'worker');
  };
}

/** Accepts what any of the checks accepts, tried in order. */
export function anyWorkerCredential(...checks: WorkerCredentialCheck[]): WorkerCredentialCheck {
  return async (username, password) => {
    for (const check of checks) if (await check(username, password)) return true;
    return false;
  };
}
