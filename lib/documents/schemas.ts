import { z } from 'zod';
import { integerText } from '../http/routes/types.ts';
import { ApiDocumentSchema } from '../model/document.ts';
import { creatorDocumentsSortLength } from '../store/documents.ts';
import { decodeCursor, type SortValues } from '../store/paging.ts';

/** Path and query parameters of the document-side routes, and the shapes of their answers. */

export const DocIdParamsSchema = z.object({
  doc_id: z.string().min(1, 'must not be empty').meta({ description: 'Document id (40 hex characters)' }),
});

export const ResultIdParamsSchema = z.object({
  result_id: z
    .string()
    .min(1, 'must not be empty')
    .meta({ description: 'Result id (assigned by OpenSearch)' }),
});

export const CreatorIdParamsSchema = z.object({
  creator_id: z.string().min(1, 'must not be empty').meta({ description: 'creator.id, matched exactly' }),
});

const idList = (description: string) => z.array(z.string()).optional().meta({ description });

/** `doc` and `doc[]`, each repeatable, each value possibly a comma-separated list (the original's forms). */
export const DocIdsQuerySchema = z.object({
  doc: idList('Document id(s); repeat the parameter or separate ids with commas'),
  'doc[]': idList('Same as doc (the form some HTTP clients produce for lists)'),
});

/**
 * `docs` and `docs[]` for the batch delete. `doc`/`doc[]` are accepted too, because the original's Swagger page
 * documented `doc` for this route while the code silently ignored it.
 */
export const DeleteDocIdsQuerySchema = z.object({
  docs: idList('Document id(s); repeat the parameter or separate ids with commas'),
  'docs[]': idList('Same as docs'),
  doc: idList('Accepted as a synonym of docs'),
  'doc[]': idList('Accepted as a synonym of docs'),
});

/** Every id named by `names` in a parsed id-list query; a 400 naming the first parameter when there is none. */
export function idsFrom(query: Record<string, string[] | undefined>, names: readonly string[]): string[] {
  const ids = names
    .flatMap((name) => query[name] ?? [])
    .flatMap((value) => value.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) {
    throw new z.ZodError([
      {
        code: 'custom',
        path: [names[0] ?? 'ids'],
        message: 'at least one document id is required',
        input: undefined,
      },
    ]);
  }
  return ids;
}

const pattern = (field: string) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === '' ? '*' : value))
    .meta({
      description:
        `Pattern matched case-sensitively against ${field}: \`*\` any characters, \`?\` one character, ` +
        'everything else literal. Absent or empty: `*`.',
    });

const page = integerText()
  .optional()
  .transform((value) => Math.max(value ?? 1, 1))
  .meta({ description: 'Page number, 100 documents per page; values below 1 read as 1. Default 1.' });

export const SearchQuerySchema = z.object({
  target_id: pattern('target.id'),
  creator_id: pattern('creator.id'),
  page,
});

export const SearchAliasParamsSchema = z.object({
  target_id: z.string().meta({ description: 'Pattern for target.id (see /DANE/search/document)' }),
  creator_id: z.string().meta({ description: 'Pattern for creator.id' }),
});

export const SearchAliasQuerySchema = z.object({ page });

export const SearchResultSchema = z
  .object({
    total: z
      .number()
      .int()
      .meta({ description: 'Exact number of matching documents (not capped at 10,000)' }),
    hits: z.array(ApiDocumentSchema),
  })
  .meta({ id: 'SearchResult' });

export const CREATOR_PAGE_DEFAULT = 1_000;
export const CREATOR_PAGE_MAX = 10_000;

/** The same paging parameters as the other listings (`limit`, `cursor`; see the README). */
export const CreatorDocsQuerySchema = z.object({
  limit: integerText()
    .optional()
    .transform((value) => value ?? CREATOR_PAGE_DEFAULT)
    .pipe(
      z
        .number()
        .int()
        .min(1, 'must be at least 1')
        .max(CREATOR_PAGE_MAX, `must be at most ${CREATOR_PAGE_MAX}`),
    )
    .meta({ description: `Documents per page, 1-${CREATOR_PAGE_MAX}; default ${CREATOR_PAGE_DEFAULT}` }),
  cursor: z
    .string()
    .optional()
    .transform((cursor, ctx): SortValues | undefined => {
      if (cursor === undefined) return undefined;
      const values = decodeCursor(cursor, creatorDocumentsSortLength);
      if (!values)
        ctx.addIssue({ code: 'custom', message: 'is not a cursor from a previous page\'s "next" link' });
      return values;
    })
    .meta({
      description: 'From the `Link: <...>; rel="next"` header of the previous page; absent for the first',
    }),
});

/** Headers of a paged listing whose body stays the original's plain JSON array. */
export const pageHeaders = {
  'x-total-count': { description: 'Exact number of matches over all pages', schema: z.string() },
  link: {
    description: 'While more pages follow: `<url of the next page>; rel="next"`',
    schema: z.string(),
  },
};

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
