import { ConflictError, InvalidInputError, NotFoundError, parseInput } from '../errors.ts';
import {
  type ApiDocument,
  type BatchDocumentsResult,
  type DocumentInput,
  DocumentInputSchema,
  duplicateDocumentMessage,
  type NewDocument,
  newDocument,
  toApiDocument,
} from '../model/document.ts';
import { holdsOnlyPlainNumbers, JsonSyntaxError, parsePythonJson } from '../model/python.ts';
import type { ApiResult } from '../model/result.ts';
import { type ApiTask, toApiTask } from '../model/task.ts';
import { timestamp } from '../model/time.ts';
import {
  createDocument,
  createDocuments,
  deleteDocuments,
  getDocument,
  getDocuments,
  getDocumentsOfCreator,
  searchDocuments,
} from '../store/documents.ts';
import type { Paged, PageParams } from '../store/paging.ts';
import { deleteResult, getResult } from '../store/results.ts';
import { tasksOfDocument } from '../store/tasks.ts';

/** The document side of the API: what each route does between parsing its input and answering. */

export const SEARCH_PAGE_SIZE = 100;

/**
 * The body with Python number semantics, so that `target.id: 1.0` hashes as Python's `1.0` does. `parsed` is
 * JSON.parse of the same text when the caller has it already (the HTTP stack parses every body): it is the answer
 * whenever the text holds no number that JSON.parse reads differently, which spares a second parse of a batch.
 */
function parseBody(rawBody: string | undefined, expected: string, parsed?: unknown): unknown {
  if (rawBody === undefined) throw new InvalidInputError(`Missing request body: expected ${expected}`);
  if (parsed !== undefined && holdsOnlyPlainNumbers(rawBody)) return parsed;
  try {
    return parsePythonJson(rawBody);
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      throw new InvalidInputError(`Request body is not valid JSON: ${error.message}`);
    throw error;
  }
}

/** A document as posted, checked; throws an InvalidInputError naming the field at fault. */
export function validateDocument(value: unknown): DocumentInput {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw InvalidInputError.at([], 'expected a JSON object with "target" and "creator"');
  }
  if ('_id' in value) throw InvalidInputError.at(['_id'], 'is assigned by the server and must not be sent');
  return parseInput(DocumentInputSchema, value);
}

export async function registerDocument(rawBody: string | undefined): Promise<ApiDocument> {
  const input = validateDocument(parseBody(rawBody, 'a JSON object (a document)'));
  const doc = newDocument(input, timestamp());
  const outcome = await createDocument(doc);
  if (outcome.status === 'exists') {
    throw new ConflictError(duplicateDocumentMessage(input.target.id, input.creator.id));
  }
  if (outcome.status === 'rejected')
    throw new InvalidInputError(`The index refused the document: ${outcome.reason}`);
  return toApiDocument(doc.id, doc.source);
}

type Failure = BatchDocumentsResult['failed'][number];

/**
 * A batch element as 0.3.1 read it (`Document.from_json`): a JSON string holding a document is parsed first,
 * with Python number semantics like a body. dane-workflows sends its batches that way (`Document.to_json()`).
 */
function batchElement(element: unknown): unknown {
  if (typeof element !== 'string') return element;
  try {
    return parsePythonJson(element);
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      throw InvalidInputError.at([], `is a string that does not hold a JSON document (${error.message})`);
    throw error;
  }
}

/**
 * Registers a batch by `_bulk` (createDocuments). Every element ends up in `success` or `failed`, invalid ones included
 * (the original dropped them silently). Copies of one document within the batch: the first is registered, the
 * later ones fail with the duplicate message, as if they had come in a later request.
 */
export async function registerDocuments(
  rawBody: string | undefined,
  parsed?: unknown,
): Promise<BatchDocumentsResult> {
  const body = parseBody(rawBody, 'a JSON array of documents', parsed);
  if (!Array.isArray(body)) throw new InvalidInputError('Invalid body: expected a JSON array of documents');
  const now = timestamp();
  const failed: Failure[] = [];
  const pending: { index: number; doc: NewDocument; input: DocumentInput }[] = [];
  const firstOf = new Set<string>();
  body.forEach((element, index) => {
    let input: DocumentInput;
    try {
      input = validateDocument(batchElement(element));
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      failed.push({ index, document: null, invalid: element, error: error.message });
      return;
    }
    const doc = newDocument(input, now);
    if (firstOf.has(doc.id)) {
      failed.push({
        index,
        document: toApiDocument(doc.id, doc.source),
        invalid: null,
        error: duplicateDocumentMessage(input.target.id, input.creator.id),
      });
      return;
    }
    firstOf.add(doc.id);
    pending.push({ index, doc, input });
  });

  const outcomes = await createDocuments(pending.map((p) => p.doc));
  const success: ApiDocument[] = [];
  pending.forEach(({ index, doc, input }, i) => {
    const outcome = outcomes[i] ?? {
      status: 'rejected',
      reason: 'no answer from the index',
      httpStatus: 500,
    };
    const document = toApiDocument(doc.id, doc.source);
    if (outcome.status === 'created') success.push(document);
    else {
      const error =
        outcome.status === 'exists'
          ? duplicateDocumentMessage(input.target.id, input.creator.id)
          : outcome.reason;
      failed.push({ index, document, invalid: null, error });
    }
  });
  failed.sort((a, b) => a.index - b.index);
  return { success, failed };
}

const notFound = (id: string) => new NotFoundError(`No document with id \`${id}\``);

export async function findDocument(id: string): Promise<ApiDocument> {
  const doc = await getDocument(id);
  if (!doc) throw notFound(id);
  return doc;
}

/** The documents in the order asked for; a 404 naming every id that is not a document. */
export async function findDocuments(ids: readonly string[]): Promise<ApiDocument[]> {
  const found = await getDocuments(ids);
  const missing = [...new Set(ids.filter((id) => !found.has(id)))];
  if (missing.length > 0) {
    throw new NotFoundError(`No document with id ${missing.map((id) => `\`${id}\``).join(', ')}`);
  }
  return ids.flatMap((id) => found.get(id) ?? []);
}

/** Deletes a document with its tasks and their results. */
export async function removeDocument(id: string): Promise<void> {
  await findDocument(id);
  await deleteDocuments([id]);
}

/** Deletes the documents that exist among `ids` (unknown ids are skipped, as in the original). */
export async function removeDocuments(ids: readonly string[]): Promise<void> {
  const found = await getDocuments(ids);
  await deleteDocuments([...found.keys()]);
}

/**
 * The document id in what the greedy `/DANE/document/{proxy+}` route caught: only `/{doc_id}/tasks` (the
 * double slash of dane-workflows), with an optional trailing slash. Anything else is a path we do not serve.
 */
export function documentIdOfTasksPath(proxy: string): string {
  const match = /^\/*([^/]+)\/tasks\/?$/.exec(proxy);
  if (!match?.[1]) throw new NotFoundError(`No route for /DANE/document/${proxy}`);
  return match[1];
}

export async function listTasksOfDocument(id: string): Promise<ApiTask[]> {
  await findDocument(id);
  return (await tasksOfDocument(id)).map((hit) => toApiTask(hit.id, hit.source));
}

export async function search(targetId: string, creatorId: string, page: number) {
  return searchDocuments({ targetId, creatorId, page, perPage: SEARCH_PAGE_SIZE });
}

/** A page of a creator's documents, in target.id order. */
export const listDocumentsOfCreator = (creatorId: string, page: PageParams): Promise<Paged<ApiDocument>> =>
  getDocumentsOfCreator(creatorId, page);

export async function findResult(id: string): Promise<ApiResult> {
  const result = await getResult(id);
  if (!result) throw new NotFoundError(`No result with id \`${id}\``);
  return result;
}

export async function removeResult(id: string): Promise<void> {
  if (!(await deleteResult(id))) throw new NotFoundError(`No result with id \`${id}\``);
}
