import { z } from 'zod';
import { documentId } from './ids.ts';
import { PyFloat, PyInt, pythonStr } from './python.ts';
import { requoteUrl } from './url.ts';

export const TargetTypeSchema = z.enum(['Dataset', 'Image', 'Video', 'Sound', 'Text']);
export const CreatorTypeSchema = z.enum(['Organization', 'Human', 'Software']);

/** `target.id`/`creator.id`: what `str()` turns into the id hash. Null and containers are refused. */
const IdValueSchema = z.union(
  [
    z.string().min(1, 'must not be empty'),
    z.number(),
    z.boolean(),
    z.instanceof(PyFloat).meta({ type: 'number' } as never),
    z.instanceof(PyInt).meta({ type: 'integer' } as never),
  ],
  { error: 'must be a string or a number' },
);

/** Extra keys of `target` and `creator` are kept and stored, as the original did. */
export const TargetInputSchema = z.looseObject({
  id: IdValueSchema,
  url: z
    .string({ error: 'is required and must be a string' })
    .refine((u) => u.trim() !== '', 'must not be empty'),
  type: TargetTypeSchema,
});

export const CreatorInputSchema = z.looseObject({
  id: IdValueSchema,
  type: CreatorTypeSchema,
});

/**
 * A document as clients post it. `created_at`/`updated_at` are accepted (the original did) and overwritten;
 * `_id` is assigned by the server; any other top-level key is refused.
 */
export const DocumentInputSchema = z.strictObject({
  target: TargetInputSchema,
  creator: CreatorInputSchema,
  created_at: z.unknown().optional(),
  updated_at: z.unknown().optional(),
});
export type DocumentInput = z.infer<typeof DocumentInputSchema>;

const ScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** `_source` of a document in the DANE index (spec §2.2), as read back. */
export const StoredDocumentSchema = z.object({
  target: z.looseObject({ id: ScalarSchema, url: z.string(), type: z.string() }),
  creator: z.looseObject({ id: ScalarSchema, type: z.string() }),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  role: z.literal('document'),
});
export type StoredDocument = z.infer<typeof StoredDocumentSchema>;

/** A document as the API returns it: the original's field order, target and creator in full. */
export const ApiDocumentSchema = z
  .object({
    _id: z.string().meta({ description: 'SHA-1 of str(target.id) + str(creator.id)' }),
    target: z.looseObject({ id: ScalarSchema, url: z.string(), type: z.string() }),
    creator: z.looseObject({ id: ScalarSchema, type: z.string() }),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'Document' });
export type ApiDocument = z.infer<typeof ApiDocumentSchema>;

export interface NewDocument {
  id: string;
  source: StoredDocument;
}

/**
 * Builds the stored form of a validated input: id hash, normalised url, timestamps. Numbers keep their Python
 * form (PyFloat, PyInt) so that `toPythonJson` stores `1.0` as `1.0`; they serialise as plain numbers anywhere
 * else.
 */
export function newDocument(input: DocumentInput, now: string): NewDocument {
  const id = documentId(input.target.id, input.creator.id);
  const target = { ...input.target, url: requoteUrl(input.target.url) } as StoredDocument['target'];
  const creator = input.creator as StoredDocument['creator'];
  return { id, source: { target, creator, created_at: now, updated_at: now, role: 'document' } };
}

export function toApiDocument(id: string, source: Omit<StoredDocument, 'role'>): ApiDocument {
  return {
    _id: id,
    target: source.target,
    creator: source.creator,
    created_at: source.created_at ?? null,
    updated_at: source.updated_at ?? null,
  };
}

/**
 * A creator id as the `creator.id` keyword field indexes it (and a terms aggregation names its bucket): strings as
 * they are, numbers and booleans as JSON writes them. An integral id that the document's source spells in float
 * notation (`1.0`) reads back as `1` and would not match; ids are strings in practice.
 */
export const creatorTerm = (id: ApiDocument['creator']['id']): string | undefined =>
  id === null ? undefined : typeof id === 'string' ? id : String(id);

export const duplicateDocumentMessage = (targetId: unknown, creatorId: unknown) =>
  `A document with target.id \`${pythonStr(targetId)}\`, and creator.id \`${pythonStr(creatorId)}\` already exists`;

/** What GET /DANE/search/document answers. */
export const SearchResultSchema = z
  .object({
    total: z
      .number()
      .int()
      .meta({ description: 'Exact number of matching documents (not capped at 10,000)' }),
    hits: z.array(ApiDocumentSchema),
  })
  .meta({ id: 'SearchResult' });
export type SearchResult = z.infer<typeof SearchResultSchema>;

/** What POST /DANE/documents answers: every element accounted for. */
export const BatchDocumentsResultSchema = z
  .object({
    success: z.array(ApiDocumentSchema),
    failed: z.array(
      z.object({
        index: z.number().int().meta({ description: 'Position of the element in the posted array' }),
        document: ApiDocumentSchema.nullable().meta({
          description:
            'The document as it would have been stored (with its _id); null when the element was invalid',
        }),
        invalid: z.unknown().meta({ description: 'The element as posted when it was invalid, else null' }),
        error: z.string(),
      }),
    ),
  })
  .meta({ id: 'BatchDocumentsResult' });
export type BatchDocumentsResult = z.infer<typeof BatchDocumentsResultSchema>;
