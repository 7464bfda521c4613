import type { Client } from '@opensearch-project/opensearch';
import { getConfig } from '../config.ts';
import { logger } from '../log.ts';
import { getStoreClient, withStore } from './client.ts';
import { daneIndexMappings, daneIndexSettings } from './index-layout.ts';

export type BootstrapOutcome = 'created' | 'exists';

/**
 * Creates the DANE index when it is absent and leaves an existing one untouched (its mapping may have been
 * created by a Python worker, or hold data). Safe to race: a concurrent creator wins and we report `exists`.
 */
export async function bootstrapIndex(
  client: Client = getStoreClient(),
  index = getConfig().opensearch.index,
  replicas = getConfig().opensearch.replicas,
): Promise<BootstrapOutcome> {
  const exists = await client.indices.exists({ index });
  if (exists.body === true) return 'exists';
  try {
    await client.indices.create({
      index,
      body: { settings: daneIndexSettings(replicas), mappings: daneIndexMappings },
    });
    logger.info('Created the DANE index', { index });
    return 'created';
  } catch (error) {
    const type = (error as { body?: { error?: { type?: string } } }).body?.error?.type;
    if (type === 'resource_already_exists_exception') return 'exists';
    throw error;
  }
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
