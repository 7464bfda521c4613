import { createHash, timingSafeEqual } from 'node:crypto';

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
