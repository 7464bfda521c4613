import { getConfig } from '../config.ts';
import { type StoredDocument, StoredDocumentSchema } from '../model/document.ts';
import { ensureIndex } from './bootstrap.ts';
import { withStore } from './client.ts';

/** The parent documents of tasks, by id, in one round trip (ids that are not documents are left out). */
export async function getParentDocuments(ids: readonly string[]): Promise<Map<string, StoredDocument>> {
  const found = new Map<string, StoredDocument>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return found;
  await ensureIndex();
  return withStore('get parent documents', async (client) => {
    for (let i = 0; i < unique.length; i += 5_000) {
      const response = await client.mget({
        index: getConfig().opensearch.index,
        body: { ids: unique.slice(i, i + 5_000) },
      });
      for (const doc of (response.body as { docs: { _id: string; found?: boolean; _source?: unknown }[] })
        .docs) {
        if (!doc.found) continue;
        const parsed = StoredDocumentSchema.safeParse(doc._source);
        if (parsed.success) found.set(doc._id, parsed.data);
      }
    }
    return found;
  });
}
