import { createKey, pepperSource } from '../../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parseBody, parsePath } from '../../lib/http/request.ts';
import { keyCreate, keyRevoke } from '../../lib/http/routes/keys.ts';

/** POST /DANE/keys, GET /DANE/keys, DELETE /DANE/keys/{name} (scope admin). */
let store: OpenSearchKeyStore | undefined;
let pepper: (() => Promise<string>) | undefined;

export const handler = httpHandler(async (request) => {
  store ??= new OpenSearchKeyStore();
  if (request.method === 'POST') {
    const body = parseBody(keyCreate, request);
    pepper ??= pepperSource();
    const { info, key } = await createKey(store, await pepper(), body);
    return json(201, { ...info, key }, { 'cache-control': 'no-store' });
  }
  if (request.method === 'DELETE') {
    const { name } = parsePath(keyRevoke, request);
    return json(200, await store.revoke(name, new Date().toISOString()));
  }
  return json(200, await store.list());
});
