import { type Client, errors } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { withStore } from '../store/client.ts';
import {
  KeyExistsError,
  type KeyInfo,
  KeyNotFoundError,
  type KeyRecord,
  KeyRecordSchema,
  type KeyStore,
  keyInfo,
} from './key-store.ts';

/**
 * API keys in a small index of our own (AUTH_KEYS_INDEX, never the DANE index, which workers read and write).
 * On AWS it is the same index on the Amazon OpenSearch Service domain, reached through the same client as the
 * DANE index: requests signed with the function's IAM role. The worker gateway forwards only the DANE index, so
 * workers cannot read it. The document id is the key name, so verifying a key is one real-time GET by id.
 */

export const keyIndexMappings = {
  // Strict: a typo in a field name fails loudly instead of adding an unindexed field nobody checks.
  dynamic: 'strict',
  properties: {
    name: { type: 'keyword' },
    scopes: { type: 'keyword' },
    // Only ever compared after a GET by id: neither searchable nor aggregatable.
    hash: { type: 'keyword', index: false, doc_values: false },
    createdAt: { type: 'date' },
    lastUsedAt: { type: 'date' },
    revokedAt: { type: 'date' },
  },
} as const;

const statusOf = (error: unknown): number | undefined =>
  error instanceof errors.ResponseError ? (error.meta.statusCode ?? undefined) : undefined;
const typeOf = (error: unknown): string | undefined =>
  (error as { body?: { error?: { type?: string } } }).body?.error?.type;
const indexMissing = (error: unknown) => typeOf(error) === 'index_not_found_exception';

export class OpenSearchKeyStore implements KeyStore {
  #ready: Promise<void> | undefined;

  constructor(
    readonly index = getConfig().auth.keysIndex,
    private readonly replicas = getConfig().opensearch.replicas,
  ) {
    if (index === getConfig().opensearch.index) throw new Error('The key index must not be the DANE index');
  }

  /** Creates the index on first write; reads of a missing index simply find no key. */
  #ensureIndex(client: Client): Promise<void> {
    this.#ready ??= (async () => {
      const exists = await client.indices.exists({ index: this.index });
      if (exists.body === true) return;
      try {
        await client.indices.create({
          index: this.index,
          body: {
            settings: { number_of_shards: 1, number_of_replicas: this.replicas },
            mappings: keyIndexMappings,
          },
        });
        logger.info('Created the API key index', { index: this.index });
      } catch (error) {
        if (typeOf(error) !== 'resource_already_exists_exception') throw error;
      }
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async create(record: KeyRecord): Promise<void> {
    const body = KeyRecordSchema.parse(record);
    await withStore('create API key', async (client) => {
      await this.#ensureIndex(client);
      try {
        // Rare and followed by listings (`keys list` right after `keys create`): worth a refresh of a tiny index.
        await client.index({ index: this.index, id: body.name, op_type: 'create', refresh: true, body });
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        const existing = await this.get(body.name);
        throw new KeyExistsError(body.name, existing?.revokedAt != null);
      }
    });
  }

  async get(name: string): Promise<KeyRecord | undefined> {
    return (await this.#getVersioned(name))?.record;
  }

  async #getVersioned(
    name: string,
  ): Promise<{ record: KeyRecord; seqNo: number; primaryTerm: number } | undefined> {
    return withStore('read API key', async (client) => {
      try {
        const { body } = await client.get({ index: this.index, id: name });
        return {
          record: KeyRecordSchema.parse(body._source),
          seqNo: body._seq_no as number,
          primaryTerm: body._primary_term as number,
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async list(): Promise<KeyInfo[]> {
    return withStore('list API keys', async (client) => {
      const keys: KeyInfo[] = [];
      // Key names are unique keywords: the last name alone continues the listing.
      let after: string | undefined;
      for (;;) {
        let hits: { _source?: unknown }[];
        try {
          const { body } = await client.search({
            index: this.index,
            body: {
              size: 1_000,
              sort: [{ name: 'asc' }],
              // The hash never leaves the store in a listing, not even to this process.
              _source: { excludes: ['hash'] },
              ...(after !== undefined ? { search_after: [after] } : {}),
            },
          });
          hits = body.hits.hits as typeof hits;
        } catch (error) {
          if (indexMissing(error)) return [];
          throw error;
        }
        for (const hit of hits) {
          keys.push(keyInfo(KeyRecordSchema.parse({ ...(hit._source as object), hash: '-' })));
        }
        const last = keys.at(-1);
        if (hits.length < 1_000 || !last) return keys;
        after = last.name;
      }
    });
  }

  async revoke(name: string, at: string): Promise<KeyInfo> {
    // Conditional on the version read, so a concurrent revocation keeps the first time; a concurrent
    // `touch` makes us read again.
    for (let attempt = 0; ; attempt += 1) {
      const current = await this.#getVersioned(name);
      if (!current) throw new KeyNotFoundError(name);
      if (current.record.revokedAt !== null) return keyInfo(current.record);
      try {
        await withStore('revoke API key', (client) =>
          client.update({
            index: this.index,
            id: name,
            if_seq_no: current.seqNo,
            if_primary_term: current.primaryTerm,
            refresh: true,
            body: { doc: { revokedAt: at } },
          }),
        );
        return keyInfo({ ...current.record, revokedAt: at });
      } catch (error) {
        if (statusOf(error) !== 409 || attempt >= 5) throw error;
      }
    }
  }

  async touch(name: string, at: string): Promise<void> {
    await withStore('record API key use', (client) =>
      // A partial update: it never undoes a revocation written in between.
      client.update({ index: this.index, id: name, retry_on_conflict: 3, body: { doc: { lastUsedAt: at } } }),
    );
  }
}
