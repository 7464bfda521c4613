import { z } from 'zod';
import { KeyNameSchema } from '../../auth/api-keys.ts';
import { KeyRecordSchema } from '../../auth/key-store.ts';
import { ScopeSchema } from '../../auth/scopes.ts';
import { defineRoute, errorResponse, storeErrors } from './types.ts';

/** Key management over the API, for an admin key: the same operations as `npm run keys`. */

export const KeyInfoSchema = KeyRecordSchema.omit({ hash: true }).meta({ id: 'ApiKeyInfo' });

export const CreateKeyBodySchema = z.object({
  name: z.string().describe('1-64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit; never reused'),
  scopes: z.array(ScopeSchema).min(1),
});

const KeyNameParamsSchema = z.object({ name: KeyNameSchema });

export const keyCreate = defineRoute({
  method: 'post',
  path: '/DANE/keys',
  scope: 'admin',
  function: 'apiKeys',
  operationId: 'createKey',
  summary: 'Create an API key; the answer is the only time the key is shown',
  tags: ['keys'],
  body: CreateKeyBodySchema,
  responses: {
    201: {
      description: 'The key record and, once, the key itself',
      schema: KeyInfoSchema.extend({ key: z.string().describe('dane_<name>_<secret>: keep it secret') }),
    },
    400: errorResponse('Invalid name or scope'),
    409: errorResponse('A key of that name exists (revoked ones included: names are never reused)'),
    ...storeErrors,
  },
});

export const keyList = defineRoute({
  method: 'get',
  path: '/DANE/keys',
  scope: 'admin',
  function: 'apiKeys',
  operationId: 'listKeys',
  summary: 'Every API key by name: scopes, created, last used, revoked; never a secret or hash',
  tags: ['keys'],
  responses: { 200: { description: 'The keys', schema: z.array(KeyInfoSchema) }, ...storeErrors },
});

export const keyRevoke = defineRoute({
  method: 'delete',
  path: '/DANE/keys/{name}',
  scope: 'admin',
  function: 'apiKeys',
  operationId: 'revokeKey',
  summary: 'Revoke an API key: refused from the next request on',
  tags: ['keys'],
  params: KeyNameParamsSchema,
  responses: {
    200: { description: 'The revoked key', schema: KeyInfoSchema },
    400: errorResponse('Invalid key name'),
    404: errorResponse('No key of that name'),
    ...storeErrors,
  },
});

export const keyRoutes = [keyCreate, keyList, keyRevoke];
