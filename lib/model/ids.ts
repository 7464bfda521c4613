import { hash } from 'node:crypto';
import { pythonStr } from './python.ts';

// One-shot hash (strings as UTF-8): a seventh of createHash's cost, which counts at 10,000 ids a batch.
const sha1 = (text: string) => hash('sha1', text, 'hex');

/** Document id: SHA-1 of `str(target.id) + str(creator.id)`, no separator (spec §1.1). */
export const documentId = (targetId: unknown, creatorId: unknown): string =>
  sha1(pythonStr(targetId) + pythonStr(creatorId));

/** Task id: SHA-1 of `document_id + KEY` with the key upper-cased (spec §1.2): one task per key per document. */
export const taskId = (docId: string, key: string): string => sha1(docId + key.toUpperCase());
