import { type Config, ConfigError, getConfig } from '../config.ts';
import { InvalidInputError } from '../errors.ts';
import { type Logger, logger } from '../log.ts';
import { apiKeyMatches, apiKeyName, generateApiKey, hashApiKey, KeyNameSchema } from './api-keys.ts';
import { type KeyInfo, type KeyRecord, type KeyStore, keyInfo } from './key-store.ts';
import type { Scope } from './scopes.ts';

/** Key management (the `keys` CLI, later the admin API) and key verification (the authorizer). */

/** The pepper of this stage; a deployed stage without one refuses to hash or verify anything. */
export function requirePepper(config: Config = getConfig()): string {
  if (config.auth.pepper === undefined) {
    throw new ConfigError(
      config.auth.pepperSecret === undefined
        ? `AUTH_KEY_PEPPER must be set on stage ${config.stage} (at least 32 characters), or ` +
            'AUTH_KEY_PEPPER_SECRET to the Secrets Manager secret holding it'
        : `The pepper of stage ${config.stage} is in Secrets Manager (${config.auth.pepperSecret}): use pepperSource`,
    );
  }
  return config.auth.pepper;
}

/** Reads a secret's string (the port a test replaces). */
export type SecretReader = (name: string) => Promise<string>;

const readSecret: SecretReader = async (name) => {
  // Loaded on first use: only deployed stages need the Secrets Manager client.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const answer = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: name }));
  const value = answer.SecretString;
  if (value === undefined || value.length < 32) {
    throw new ConfigError(`Secret ${name} must hold the pepper as a string of at least 32 characters`);
  }
  return value;
};

/**
 * The pepper as a (lazy) source: the configured value, or a read of the Secrets Manager secret at first use, kept
 * for the container's life (a failed read is tried again on the next request). Neither configured: throws now.
 */
export function pepperSource(
  config: Config = getConfig(),
  read: SecretReader = readSecret,
): () => Promise<string> {
  const secret = config.auth.pepperSecret;
  if (config.auth.pepper !== undefined || secret === undefined) {
    const pepper = requirePepper(config);
    return async () => pepper;
  }
  let loading: Promise<string> | undefined;
  return () => {
    loading ??= read(secret).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

export class InvalidKeyNameError extends InvalidInputError {
  override name = 'InvalidKeyNameError';
}

/** Creates a key and returns it with its record: the only moment the key exists outside its holder's hands. */
export async function createKey(
  store: KeyStore,
  pepper: string,
  request: { name: string; scopes: readonly Scope[] },
  now: Date = new Date(),
): Promise<{ info: KeyInfo; key: string }> {
  const name = KeyNameSchema.safeParse(request.name);
  if (!name.success) throw new InvalidKeyNameError(`Invalid key name: ${name.error.issues[0]?.message}`);
  const key = generateApiKey(name.data);
  const record: KeyRecord = {
    name: name.data,
    scopes: [...request.scopes],
    hash: hashApiKey(key, pepper),
    createdAt: now.toISOString(),
    lastUsedAt: null,
    revokedAt: null,
  };
  await store.create(record);
  return { info: keyInfo(record), key };
}

export type KeyCheck = { ok: true; name: string; scopes: Scope[] } | { ok: false; reason: string };

export interface KeyVerifierOptions {
  store: KeyStore;
  /** The pepper, or where to get it (pepperSource): read once, when the first key is checked. */
  pepper: string | (() => Promise<string>);
  /** Reuse of a read record; also the longest a revoked key keeps working (0: every check reads the store). */
  cacheMs?: number;
  /** At most one `lastUsedAt` write per key in this interval, so a busy key does not cost a write per request. */
  lastUsedIntervalMs?: number;
  now?: () => number;
  log?: Logger;
}

/** Never given a key; compared against when a name is unknown, so that an unknown name costs what a known one does. */
const DUMMY_HASH = `hmac-sha256:${'0'.repeat(64)}`;

export class KeyVerifier {
  readonly #store: KeyStore;
  readonly #pepper: () => Promise<string>;
  readonly #cacheMs: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #cache = new Map<string, { record: KeyRecord; until: number }>();
  readonly #touched = new Map<string, number>();

  constructor(options: KeyVerifierOptions) {
    this.#store = options.store;
    const { pepper } = options;
    this.#pepper = typeof pepper === 'string' ? async () => pepper : pepper;
    this.#cacheMs = options.cacheMs ?? 0;
    this.#intervalMs = options.lastUsedIntervalMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? logger;
  }

  /**
   * Checks a presented key. `user` is the Basic user name, which must be the key's own name. Store outages
   * propagate (the caller answers 5xx, not "bad key"); everything else is a reason.
   */
  async verify(key: string, user?: string): Promise<KeyCheck> {
    const name = apiKeyName(key);
    if (name === undefined) return { ok: false, reason: 'Credential is not a DANE API key' };
    if (user !== undefined && user !== name) {
      return { ok: false, reason: 'Basic user name is not the name of the key given as password' };
    }
    const pepper = await this.#pepper();
    const record = await this.#record(name);
    if (!apiKeyMatches(key, record?.hash ?? DUMMY_HASH, pepper) || !record) {
      return { ok: false, reason: record ? `Wrong secret for key "${name}"` : `No key named "${name}"` };
    }
    if (record.revokedAt !== null) {
      return { ok: false, reason: `Key "${name}" was revoked at ${record.revokedAt}` };
    }
    await this.#touch(record);
    return { ok: true, name, scopes: record.scopes };
  }

  async #record(name: string): Promise<KeyRecord | undefined> {
    const now = this.#now();
    const cached = this.#cache.get(name);
    if (cached && cached.until > now) return cached.record;
    const record = await this.#store.get(name);
    if (record && this.#cacheMs > 0) this.#cache.set(name, { record, until: now + this.#cacheMs });
    else this.#cache.delete(name);
    return record;
  }

  async #touch(record: KeyRecord): Promise<void> {
    const now = this.#now();
    const stored = record.lastUsedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(record.lastUsedAt);
    const last = Math.max(stored, this.#touched.get(record.name) ?? Number.NEGATIVE_INFINITY);
    if (now - last < this.#intervalMs) return;
    this.#touched.set(record.name, now);
    try {
      await this.#store.touch(record.name, new Date(now).toISOString());
    } catch (error) {
      // "Last used" is information, not access control: a failed write must not fail the request.
      this.#log.warn('Could not record the use of an API key', { key: record.name, error });
    }
  }
}

/** The verifier of this process, from its configuration. */
export function keyVerifierFromConfig(store: KeyStore, config: Config = getConfig()): KeyVerifier {
  return new KeyVerifier({
    store,
    pepper: pepperSource(config),
    cacheMs: config.auth.keyCacheMs,
    lastUsedIntervalMs: config.auth.lastUsedIntervalMs,
  });
}
