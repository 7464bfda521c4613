import { randomUUID } from 'node:crypto';
import { getConfig } from '../../lib/config.ts';
import { getStoreClient } from '../../lib/store/client.ts';

/**
 * A document written straight into the test index in the shape of spec §2.2, for tests about tasks that need a
 * parent but are not about registering documents. Reads the configuration on each call, so a test file may pick
 * its own index before the first one.
 */
export async function indexTestDocument(
  options: { type?: string; creator?: string; refresh?: boolean } = {},
): Promise<string> {
  const id = randomUUID().replace(/-/g, '').padEnd(40, '0').slice(0, 40);
  await getStoreClient().index({
    index: getConfig().opensearch.index,
    id,
    body: {
      target: { id: `T-${id.slice(0, 8)}`, url: 'http://example.org/v.mp4', type: options.type ?? 'Video' },
      creator: { id: options.creator ?? 'TESTS', type: 'Organization' },
      created_at: '2026-01-01T00:00:00',
      updated_at: '2026-01-01T00:00:00',
      role: 'document',
    },
    ...(options.refresh === false ? {} : { refresh: 'wait_for' as const }),
  });
  return id;
}
