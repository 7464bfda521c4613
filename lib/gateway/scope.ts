/**
 * What the worker gateway lets through: the request classification, pure (no I/O, no config reads) so that every
 * rule is unit-tested. Only the DANE index is reachable, and on it only the document, search and index-creation
 * APIs that the DANE worker library and dane-workflows use; everything else is refused with the reason.
 */

export interface GatewayRequest {
  method: string;
  /** The path as sent (percent-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  /** The body as text (already decoded from base64 / gzip), `undefined` when there is none. */
  body: string | undefined;
}

/**
 * `read`: also allowed without credentials when the anonymous read-only mode is on (search, count, get, mget).
 * `worker`: needs the worker credential.
 */
export type Access = 'read' | 'worker';

export type Decision =
  /** `GET /` or `HEAD /`: the info response that the Elasticsearch client's product check verifies. */
  | { outcome: 'info'; operation: 'info'; access: 'read' }
  | { outcome: 'forward'; operation: string; access: Access }
  | { outcome: 'refuse'; status: 400 | 403; reason: string };

const refuse = (status: 400 | 403, reason: string): Decision => ({ outcome: 'refuse', status, reason });

type BodyCheck = 'none' | 'query' | 'mget' | 'msearch' | 'bulk';

interface Endpoint {
  operation: string;
  methods: Record<string, Access>;
  body: BodyCheck;
}

const R = 'read' as const;
const W = 'worker' as const;

/** APIs under `/{index}`, keyed by the path after the index with ids replaced by `{id}`. */
const ENDPOINTS: Record<string, Endpoint> = {
  '': { operation: 'index', methods: { HEAD: W, GET: W, PUT: W }, body: 'none' },
  _search: { operation: 'search', methods: { GET: R, POST: R }, body: 'query' },
  _count: { operation: 'count', methods: { GET: R, POST: R }, body: 'query' },
  '_doc/{id}': { operation: 'doc', methods: { GET: R, HEAD: R, PUT: W, POST: W, DELETE: W }, body: 'none' },
  _doc: { operation: 'doc', methods: { POST: W }, body: 'none' },
  '_source/{id}': { operation: 'source', methods: { GET: R, HEAD: R }, body: 'none' },
  '_create/{id}': { operation: 'create', methods: { PUT: W, POST: W }, body: 'none' },
  '_update/{id}': { operation: 'update', methods: { POST: W }, body: 'none' },
  _mget: { operation: 'mget', methods: { GET: R, POST: R }, body: 'mget' },
  _msearch: { operation: 'msearch', methods: { GET: W, POST: W }, body: 'msearch' },
  _bulk: { operation: 'bulk', methods: { POST: W, PUT: W }, body: 'bulk' },
  _delete_by_query: { operation: 'delete_by_query', methods: { POST: W }, body: 'query' },
  _update_by_query: { operation: 'update_by_query', methods: { POST: W }, body: 'query' },
  _refresh: { operation: 'refresh', methods: { GET: W, POST: W }, body: 'none' },
  _mapping: { operation: 'mapping', methods: { GET: W }, body: 'none' },
  _settings: { operation: 'settings', methods: { GET: W }, body: 'none' },
  '_explain/{id}': { operation: 'explain', methods: { GET: W, POST: W }, body: 'query' },
  '_validate/query': { operation: 'validate', methods: { GET: W, POST: W }, body: 'query' },
};

/** Path segments after the index whose second segment is a document id. */
const ID_APIS = new Set(['_doc', '_source', '_create', '_update', '_explain']);

function segmentsOf(path: string): string[] | string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/$/, '');
  if (trimmed === '') return [];
  const raw = trimmed.split('/');
  const segments: string[] = [];
  for (const part of raw) {
    if (part === '') return 'the path has an empty segment (`//`)';
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return `the path segment \`${part}\` is not valid percent-encoding`;
    }
    if (decoded === '.' || decoded === '..') return 'the path has a `.` or `..` segment';
    segments.push(decoded);
  }
  return segments;
}

/** Why an index expression is not exactly the DANE index, or undefined when it is. */
function indexProblem(expression: string, index: string): string | undefined {
  for (const name of expression.split(',')) {
    if (name === index) continue;
    if (name === '_all') return `\`_all\` reaches every index; only the DANE index \`${index}\` is served`;
    if (/[*?]/.test(name))
      return `the wildcard \`${name}\` can reach other indices; name the DANE index \`${index}\` exactly`;
    if (name.startsWith('-') || name.startsWith('<') || name.includes(':'))
      return `\`${name}\` is not a plain index name; only the DANE index \`${index}\` is served`;
    return `\`${name}\` is another index; only the DANE index \`${index}\` is served`;
  }
  return undefined;
}

/**
 * The first value of an `index` or `_index` key anywhere in a query that names something other than the DANE
 * index: terms lookups, `more_like_this` documents, indexed shapes and percolation read other indices that way.
 */
export function foreignIndexIn(value: unknown, index: string): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = foreignIndexIn(item, index);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'index' || key === '_index') {
      const names = typeof inner === 'string' ? inner.split(',') : Array.isArray(inner) ? inner : [];
      const other = names.find((name) => typeof name === 'string' && name !== index);
      if (typeof other === 'string') return other;
    }
    const found = foreignIndexIn(inner, index);
    if (found !== undefined) return found;
  }
  return undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

const foreign = (what: string, name: string, index: string) =>
  refuse(403, `${what} names the index \`${name}\`; only the DANE index \`${index}\` is served`);

function checkQueryBody(text: string | undefined, index: string, what: string): Decision | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parsed = parseJson(text);
  if (!parsed.ok) return refuse(400, `The ${what} is not valid JSON: ${parsed.error}`);
  const other = foreignIndexIn(parsed.value, index);
  return other === undefined ? undefined : foreign(`The ${what}`, other, index);
}

function ndjsonLines(text: string | undefined): string[] {
  return (text ?? '').split('\n').filter((line) => line.trim() !== '');
}

function checkMsearch(text: string | undefined, index: string): Decision | undefined {
  const lines = ndjsonLines(text);
  for (let i = 0; i < lines.length; i += 1) {
    const parsed = parseJson(lines[i] as string);
    if (!parsed.ok)
      return refuse(400, `Line ${i + 1} of the multi-search body is not valid JSON: ${parsed.error}`);
    const header = i % 2 === 0;
    const other = header
      ? foreignIndexIn({ index: (parsed.value as { index?: unknown } | null)?.index }, index)
      : foreignIndexIn(parsed.value, index);
    if (other !== undefined) return foreign(`Line ${i + 1} of the multi-search body`, other, index);
  }
  return undefined;
}

const BULK_ACTIONS = new Set(['index', 'create', 'update', 'delete']);

function checkBulk(text: string | undefined, index: string): Decision | undefined {
  const lines = ndjsonLines(text);
  for (let i = 0; i < lines.length; i += 1) {
    const parsed = parseJson(lines[i] as string);
    if (!parsed.ok) return refuse(400, `Line ${i + 1} of the bulk body is not valid JSON: ${parsed.error}`);
    const action = parsed.value;
    const [name, meta] =
      action !== null && typeof action === 'object' && !Array.isArray(action)
        ? (Object.entries(action)[0] ?? [])
        : [];
    if (name === undefined || !BULK_ACTIONS.has(name) || Object.keys(action as object).length !== 1) {
      return refuse(400, `Line ${i + 1} of the bulk body is not an action (index, create, update or delete)`);
    }
    const target = (meta as { _index?: unknown } | null)?._index;
    if (target !== undefined && target !== index) {
      return foreign(`Line ${i + 1} of the bulk body`, String(target), index);
    }
    // Every action but delete is followed by its source line, which is data, not an index reference.
    if (name !== 'delete') i += 1;
  }
  return undefined;
}

function checkMget(text: string | undefined, index: string): Decision | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parsed = parseJson(text);
  if (!parsed.ok) return refuse(400, `The multi-get body is not valid JSON: ${parsed.error}`);
  const docs = (parsed.value as { docs?: unknown } | null)?.docs;
  if (!Array.isArray(docs)) return undefined;
  for (const doc of docs) {
    const target = (doc as { _index?: unknown } | null)?._index;
    if (target !== undefined && target !== index) return foreign('The multi-get body', String(target), index);
  }
  return undefined;
}

function checkBody(check: BodyCheck, request: GatewayRequest, index: string): Decision | undefined {
  switch (check) {
    case 'none':
      return undefined;
    case 'query':
      // A GET can carry its body in the `source` parameter instead.
      return (
        checkQueryBody(request.body, index, 'request body') ??
        checkQueryBody(request.query.get('source') ?? undefined, index, '`source` parameter')
      );
    case 'mget':
      return checkMget(request.body, index);
    case 'msearch':
      return checkMsearch(request.body, index);
    case 'bulk':
      return checkBulk(request.body, index);
  }
}

/** Decides what the gateway does with a request, given the one index it serves. */
export function classify(request: GatewayRequest, index: string): Decision {
  const method = request.method.toUpperCase();
  const segments = segmentsOf(request.path);
  if (typeof segments === 'string') return refuse(400, `Malformed path: ${segments}`);

  const [first, ...rest] = segments;
  if (first === undefined) {
    if (method === 'GET' || method === 'HEAD') return { outcome: 'info', operation: 'info', access: 'read' };
    return refuse(403, `${method} / is not available through the worker gateway (only GET and HEAD)`);
  }
  if (first.startsWith('_') && first !== '_all') {
    return refuse(
      403,
      `Cluster and node APIs (/${first}) are not available through the worker gateway; ` +
        `it serves only the DANE index \`${index}\``,
    );
  }
  const problem = indexProblem(first, index);
  if (problem) return refuse(403, `Refused: ${problem}`);

  const [api, id, ...more] = rest;
  const key =
    api === undefined
      ? ''
      : ID_APIS.has(api) && id !== undefined && more.length === 0
        ? `${api}/{id}`
        : rest.join('/');
  const endpoint = ENDPOINTS[key];
  const shown = `/${index}${rest.length > 0 ? `/${rest.join('/')}` : ''}`;
  if (!endpoint) {
    return refuse(
      403,
      `${method} ${shown} is not available through the worker gateway: it forwards the document, search and ` +
        'index-creation APIs of the DANE index only, no index administration',
    );
  }
  const access = endpoint.methods[method];
  if (access === undefined) {
    return refuse(
      403,
      `${method} ${shown} is not available through the worker gateway (allowed: ${Object.keys(endpoint.methods).join(', ')})`,
    );
  }
  const bodyProblem = checkBody(endpoint.body, request, index);
  if (bodyProblem) return bodyProblem;
  return { outcome: 'forward', operation: endpoint.operation, access };
}
