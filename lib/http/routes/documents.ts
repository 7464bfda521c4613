import { z } from 'zod';
import { InvalidInputError } from '../../errors.ts';
import {
  ApiDocumentSchema,
  BatchDocumentsResultSchema,
  DocumentInputSchema,
  SearchResultSchema,
} from '../../model/document.ts';
import { ApiResultSchema } from '../../model/result.ts';
import { ApiTaskSchema } from '../../model/task.ts';
import { integerText, PageQuerySchema, pageHeaders } from '../paging.ts';
import { defineRoute, errorResponse, storeErrors } from './types.ts';

/**
 * The document side of the API (spec §7.2.1-8, .14, .18 and the 0.2.2 aliases of §7.5.1). Paths are declared
 * without the trailing slash the original used; both forms reach the route (see the README).
 */

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
    throw InvalidInputError.at([names[0] ?? 'ids'], 'at least one document id is required');
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

const emptyString = z
  .literal('')
  .meta({ description: 'The JSON string "" (the original answer to a delete)' });
const badRequest = errorResponse('A parameter or the body is invalid; `message` names the field');
const documentNotFound = errorResponse('No document with that id');

export const documentCreate = defineRoute({
  method: 'post',
  path: '/DANE/document',
  scope: 'write',
  function: 'documentCreate',
  operationId: 'createDocument',
  summary: 'Register one document',
  description:
    'The id is the SHA-1 of str(target.id) + str(creator.id), as the Python library computes it; target.url is ' +
    'normalised. Extra keys of target and creator are kept. Registering the same target and creator again is a 409.',
  tags: ['document'],
  body: DocumentInputSchema,
  responses: {
    200: { description: 'The registered document', schema: ApiDocumentSchema },
    400: badRequest,
    409: errorResponse('A document with this target.id and creator.id already exists'),
    ...storeErrors,
  },
});

export const documentGet = defineRoute({
  method: 'get',
  path: '/DANE/document/{doc_id}',
  scope: 'read',
  function: 'documentGet',
  operationId: 'getDocument',
  summary: 'Get a document',
  tags: ['document'],
  params: DocIdParamsSchema,
  responses: {
    200: { description: 'The document', schema: ApiDocumentSchema },
    404: documentNotFound,
    ...storeErrors,
  },
});

const deleteDocumentResponses = {
  200: { description: 'Deleted, with its tasks and their results', schema: emptyString },
  404: documentNotFound,
  ...storeErrors,
};

export const documentDelete = defineRoute({
  method: 'delete',
  path: '/DANE/document/{doc_id}',
  scope: 'write',
  function: 'documentDelete',
  operationId: 'deleteDocument',
  summary: 'Delete a document with its tasks and their results',
  description: 'Messages already queued for its tasks are not withdrawn.',
  tags: ['document'],
  params: DocIdParamsSchema,
  responses: deleteDocumentResponses,
});

export const documentDeleteAlias = defineRoute({
  method: 'get',
  path: '/DANE/document/{doc_id}/delete',

  scope: 'write',

  stateChangingGet: 'DELETE /DANE/document/{doc_id}',
  function: 'documentDelete',
  operationId: 'deleteDocumentByGet',
  summary: 'Delete a document (0.2.2 route)',
  description: 'The route the 0.2.2 README documents; prefer DELETE /DANE/document/{doc_id}.',
  tags: ['document', 'legacy'],
  deprecated: true,
  params: DocIdParamsSchema,
  responses: deleteDocumentResponses,
});

export const documentTasks = defineRoute({
  method: 'get',
  path: '/DANE/document/{doc_id}/tasks',
  scope: 'read',
  function: 'documentTasks',
  operationId: 'getTasksOfDocument',
  summary: 'All tasks of a document',
  description: 'Every task (the original stopped at 10), ordered by key.',
  tags: ['document'],
  params: DocIdParamsSchema,
  responses: {
    200: { description: 'The tasks', schema: z.array(ApiTaskSchema) },
    404: documentNotFound,
    ...storeErrors,
  },
});

/**
 * The `dane-workflows` client asks for `/DANE/document//{doc_id}/tasks` (a double slash). API Gateway and
 * serverless-offline match no single-segment route for it, so a greedy route catches it; the handler accepts
 * only that shape and 404s anything else. Not in the OpenAPI document: it is no route to build clients on.
 */
export const documentTasksDoubleSlash = defineRoute({
  method: 'get',
  path: '/DANE/document/{proxy+}',
  scope: 'read',
  function: 'documentTasks',
  operationId: 'getTasksOfDocumentDoubleSlash',
  summary: 'GET /DANE/document//{doc_id}/tasks, as dane-workflows sends it',
  tags: ['document', 'legacy'],
  undocumented: true,
  params: z.object({ proxy: z.string() }),
  responses: documentTasks.responses,
});

export const documentsCreate = defineRoute({
  method: 'post',
  path: '/DANE/documents',
  scope: 'write',
  function: 'documentsCreate',
  operationId: 'createDocuments',
  summary: 'Register a batch of documents',
  description:
    'One bulk request. Every element is reported, in `success` or in `failed` (invalid elements with the reason ' +
    'and the element under `invalid`; existing documents with their `_id`). Copies of one document within the ' +
    'batch: the first is registered, later copies fail as duplicates.',
  tags: ['documents'],
  body: z.array(DocumentInputSchema),
  responses: {
    200: { description: 'What became of each element', schema: BatchDocumentsResultSchema },
    400: errorResponse('The body is not a JSON array'),
    ...storeErrors,
  },
});

export const documentsGet = defineRoute({
  method: 'get',
  path: '/DANE/documents',
  scope: 'read',
  function: 'documentsGet',
  operationId: 'getDocuments',
  summary: 'Get several documents',
  description: 'The documents in the order asked for (the original answered an object of nulls instead).',
  tags: ['documents'],
  query: DocIdsQuerySchema,
  responses: {
    200: { description: 'The documents', schema: z.array(ApiDocumentSchema) },
    400: errorResponse('No id given'),
    404: errorResponse('Some ids name no document; the message lists them'),
    ...storeErrors,
  },
});

export const documentsDelete = defineRoute({
  method: 'delete',
  path: '/DANE/documents',
  scope: 'admin',
  function: 'documentsDelete',
  operationId: 'deleteDocuments',
  summary: 'Delete several documents with their tasks and results',
  description: 'Ids that name no document are skipped.',
  tags: ['documents'],
  query: DeleteDocIdsQuerySchema,
  responses: {
    200: { description: 'Deleted', schema: emptyString },
    400: errorResponse('No id given'),
    ...storeErrors,
  },
});

export const searchDocuments = defineRoute({
  method: 'get',
  path: '/DANE/search/document',
  scope: 'read',
  function: 'searchDocuments',
  operationId: 'searchDocuments',
  summary: 'Search documents by target.id and creator.id patterns',
  description:
    '100 documents per page, ordered by target.id then creator.id, with the exact total. Any page can be ' +
    'reached, also beyond 10,000 matches.',
  tags: ['search'],
  query: SearchQuerySchema,
  responses: {
    200: { description: 'A page of matches', schema: SearchResultSchema },
    400: badRequest,
    ...storeErrors,
  },
});

export const searchAlias = defineRoute({
  method: 'get',
  path: '/DANE/search/{target_id}/{creator_id}',
  scope: 'read',
  function: 'searchDocuments',
  operationId: 'searchDocumentsByPath',
  summary: 'Search documents (0.2.2 route)',
  description:
    'The route the 0.2.2 README documents: a plain array of documents (100 per page, as the 0.2 code), with the ' +
    'paging in headers.',
  tags: ['search', 'legacy'],
  deprecated: true,
  params: SearchAliasParamsSchema,
  query: SearchAliasQuerySchema,
  responses: {
    200: { description: 'A page of matches', schema: z.array(ApiDocumentSchema), headers: pageHeaders },
    400: badRequest,
    ...storeErrors,
  },
});

export const resultGet = defineRoute({
  method: 'get',
  path: '/DANE/result/{result_id}',
  scope: 'read',
  function: 'resultGet',
  operationId: 'getResult',
  summary: 'Get a result',
  tags: ['result'],
  params: ResultIdParamsSchema,
  responses: {
    200: { description: 'The result, payload whole', schema: ApiResultSchema },
    404: errorResponse('No result with that id'),
    ...storeErrors,
  },
});

export const resultDelete = defineRoute({
  method: 'delete',
  path: '/DANE/result/{result_id}',
  scope: 'write',
  function: 'resultDelete',
  operationId: 'deleteResult',
  summary: 'Delete a result',
  tags: ['result'],
  params: ResultIdParamsSchema,
  responses: {
    200: { description: 'Deleted', schema: emptyString },
    404: errorResponse('No result with that id'),
    ...storeErrors,
  },
});

export const creatorDocs = defineRoute({
  method: 'get',
  path: '/DANE/creator/{creator_id}/docs',
  scope: 'read',
  function: 'creatorDocs',
  operationId: 'getDocumentsOfCreator',
  summary: 'All documents of a creator, a page at a time',
  description:
    'A plain array of documents as in the original, in target.id order, `limit` per page. While more follow, ' +
    "the `Link` header holds the next page's URL (with `cursor`); `X-Total-Count` has the exact total.",
  tags: ['creator'],
  params: CreatorIdParamsSchema,
  query: PageQuerySchema(1_000),
  responses: {
    200: { description: 'A page of documents', schema: z.array(ApiDocumentSchema), headers: pageHeaders },
    400: badRequest,
    ...storeErrors,
  },
});

export const documentRoutes = [
  documentCreate,
  documentGet,
  documentDelete,
  documentDeleteAlias,
  documentTasks,
  documentTasksDoubleSlash,
  documentsCreate,
  documentsGet,
  documentsDelete,
  searchDocuments,
  searchAlias,
  resultGet,
  resultDelete,
  creatorDocs,
];
