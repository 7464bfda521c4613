import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.ts';
import { KeyNameSchema } from './api-keys.ts';
import { ScopeSchema } from './scopes.ts';

/** One API key as stored: a hash, never the key. Revoked keys stay, so that names are never reused. */
export const KeyRecordSchema = z.object({
  name: KeyNameSchema,
  scopes: z.array(ScopeSchema).min(1),
  hash: z.string().min(1),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

/** What listings show: everything but the hash. */
export type KeyInfo = Omit<KeyRecord, 'hash'>;

export const keyInfo = ({ hash: _hash, ...info }: KeyRecord): KeyInfo => info;

export class KeyExistsError extends ConflictError {
  override name = 'KeyExistsError';
  constructor(name: string, revoked: boolean) {
    super(
      revoked
        ? `A revoked key named "${name}" exists; key names are never reused, choose another`
        : `A key named "${name}" already exists`,
    );
  }
}

export class KeyNotFoundError extends NotFoundError {
  override name = 'KeyNotFoundError';
  constructor(name: string) {
    super(`No key named "${name}"`);
  }
}

/** The port the key service and the authorizer use; OpenSearch in every deployed world, memory in unit tests. */
export interface KeyStore {
  /** Fails with KeyExistsError when the name is taken, by a revoked key too. */
  create(record: KeyRecord): Promise<void>;
  /** Real time: a revocation is seen by the next call, whatever the index refresh. */
  get(name: string): Promise<KeyRecord | undefined>;
  /** Every key by name, revoked ones included; never a hash. */
  list(): Promise<KeyInfo[]>;
  /** Marks the key revoked (a second revocation keeps the first time); KeyNotFoundError when absent. */
  revoke(name: string, at: string): Promise<KeyInfo>;
  /** Records a use; best effort, callers throttle it. */
  touch(name: string, at: string): Promise<void>;
}

export class MemoryKeyStore implements KeyStore {
  readonly records = new Map<string, KeyRecord>();
  /** Counts calls, so unit tests can see that caching and throttling save store round trips. */
  readonly calls = { get: 0, touch: 0 };

  async create(record: KeyRecord): Promise<void> {
    const existing = this.records.get(record.name);
    if (existing) throw new KeyExistsError(record.name, existing.revokedAt !== null);
    this.records.set(record.name, KeyRecordSchema.parse(structuredClone(record)));
  }

  async get(name: string): Promise<KeyRecord | undefined> {
    this.calls.get += 1;
    const record = this.records.get(name);
    return record ? structuredClone(record) : undefined;
  }

  async list(): Promise<KeyInfo[]> {
    return [...this.records.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(keyInfo);
  }

  async revoke(name: string, at: string): Promise<KeyInfo> {
    const record = this.records.get(name);
    if (!record) throw new KeyNotFoundError(name);
    record.revokedAt ??= at;
    return keyInfo(structuredClone(record));
  }

  async touch(name: string, at: string): Promise<void> {
    this.calls.touch += 1;
    const record = this.records.get(name);
    if (record) record.lastUsedAt = at;
  }
}
