import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { getStoreClient, withStore } from './client.ts';
import {
  BOOKKEEPING_FIELD,
  daneBookkeepingMappings,
  daneIndexMappings,
  daneIndexSettings,
} from './index-layout.ts';

export type BootstrapOutcome = 'created' | 'exists';

type FieldMappings = Record<
  string,
  { mappings?: Record<string, { mapping?: Record<string, { type?: string }> }> }
>;

/**
 * Creates the DANE index when it is absent. An existing one (its mapping may have been created by a Python worker,
 * the original or an older version of ours, and it may hold data) keeps its mapping; only our own bookkeeping
 * field is added when it lacks it. One request when the index is ready (the field's mapping, which also tells
 * whether the index exists). Safe to race: a concurrent creator wins and we report `exists`.
 */
export async function bootstrapIndex(
  client: Client = getStoreClient(),
  index = getConfig().opensearch.index,
  replicas = getConfig().opensearch.replicas,
): Promise<BootstrapOutcome> {
  const found = await client.indices.getFieldMapping({ index, fields: BOOKKEEPING_FIELD }, { ignore: [404] });
  if (found.statusCode !== 404) {
    await ensureBookkeepingMapping(client, index, found.body as FieldMappings);
    return 'exists';
  }
  try {
    await client.indices.create({
      index,
      body: {
        settings: daneIndexSettings(replicas),
        mappings: { properties: { ...daneIndexMappings.properties, ...daneBookkeepingMappings.properties } },
      },
    });
    logger.info('Created the DANE index', { index });
    return 'created';
  } catch (error) {
    const type = (error as { body?: { error?: { type?: string } } }).body?.error?.type;
    if (type !== 'resource_already_exists_exception') throw error;
    // The racer that won may be a Python worker, whose mapping lacks our field. Its shards may not be started yet,
    // when reading field mappings answers nothing; putting the mapping is idempotent and needs none.
    await putBookkeepingMapping(client, index);
    return 'exists';
  }
}

async function ensureBookkeepingMapping(
  client: Client,
  index: string,
  mappings: FieldMappings,
): Promise<void> {
  // An alias may name several indices: each needs the field.
  const entries = Object.entries(mappings);
  const leaf = BOOKKEEPING_FIELD.split('.').at(-1) as string;
  const types = entries.map(([, entry]) => entry.mappings?.[BOOKKEEPING_FIELD]?.mapping?.[leaf]?.type);
  if (entries.length > 0 && types.every((type) => type !== undefined)) {
    const wrong = types.filter((type) => type !== 'keyword');
    // Only something else writing our field before us could do that: counting per creator then fails, say why.
    if (wrong.length > 0) {
      logger.error('The bookkeeping field has the wrong type; per-creator counts will fail', {
        index,
        field: BOOKKEEPING_FIELD,
        types: wrong,
      });
    }
    return;
  }
  await putBookkeepingMapping(client, index);
}

async function putBookkeepingMapping(client: Client, index: string): Promise<void> {
  await client.indices.putMapping({ index, body: daneBookkeepingMappings });
  logger.info('Put the bookkeeping field into the DANE index mapping', { index, field: BOOKKEEPING_FIELD });
}

let ready: Promise<void> | undefined;

/** Bootstraps the index once per warm container; a failure is retried on the next call. */
export function ensureIndex(): Promise<void> {
  ready ??= withStore('bootstrap index', (client) => bootstrapIndex(client)).then(
    () => undefined,
    (error: unknown) => {
      ready = undefined;
      throw error;
    },
  );
  return ready;
}
