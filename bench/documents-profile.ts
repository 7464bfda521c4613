import { parseArgs } from 'node:util';
import { documentBodies, median, now, progress, randomId } from './lib.ts';

/**
 * `npx tsx bench/documents-profile.ts [--n 10000 --rounds 5]`: where the time of `POST /DANE/documents` goes
 * in-process, phase by phase, beside the whole function called with an API Gateway event (no serverless-offline)
 * and the raw `_bulk` of the same sources, all in the same rounds. Uses an index of its own (DANE_INDEX, default
 * dane-bench-profile), deleted at the end. `npm run bench` measures the same request through serverless-offline.
 */

const { values: args } = parseArgs({
  options: { n: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '5' } },
});
const N = Number(args.n);
const ROUNDS = Number(args.rounds);
process.env.DANE_INDEX ??= 'dane-bench-profile';
process.env.DANE_INDEX_REPLICAS ??= '0';
process.env.LOG_LEVEL ??= 'warn';
const index = process.env.DANE_INDEX;
// Imported once the environment is set: the function reads its configuration when its module loads.
const { handler } = await import('../functions/http/documents-create.ts');
const { validateDocument } = await import('../lib/documents/service.ts');
const { newDocument, toApiDocument } = await import('../lib/model/document.ts');
const { parsePythonJson, toPythonJson } = await import('../lib/model/python.ts');
const { ensureIndex } = await import('../lib/store/bootstrap.ts');
const { getStoreClient } = await import('../lib/store/client.ts');
const { createDocuments } = await import('../lib/store/documents.ts');
const stamp = '2026-12-01T00:00:00';

const times = new Map<string, number[]>();
function time<T>(phase: string, fn: () => T): T {
  const start = now();
  const value = fn();
  times.set(phase, [...(times.get(phase) ?? []), now() - start]);
  return value;
}
async function timeAsync<T>(phase: string, fn: () => Promise<T>): Promise<T> {
  const start = now();
  const value = await fn();
  times.set(phase, [...(times.get(phase) ?? []), now() - start]);
  return value;
}

const client = getStoreClient();
await client.indices.delete({ index }, { ignore: [404] });
await ensureIndex();
try {
  for (let round = 1; round <= ROUNDS; round += 1) {
    progress(`round ${round} of ${ROUNDS}`);
    const text = JSON.stringify(documentBodies(`PROFILE-${randomId().slice(0, 8)}`, N));
    time('JSON.parse (for comparison)', () => JSON.parse(text));
    const parsed = time('parse (parsePythonJson)', () => parsePythonJson(text)) as unknown[];
    const inputs = time('validate (zod)', () => parsed.map((element) => validateDocument(element)));
    const docs = time('ids and urls (newDocument)', () => inputs.map((input) => newDocument(input, stamp)));
    time('_source text (toPythonJson)', () => docs.map((doc) => toPythonJson(doc.source)));
    await timeAsync('_bulk requests + refresh (createDocuments)', () => createDocuments(docs));
    time('answer (objects + JSON.stringify)', () =>
      JSON.stringify({ success: docs.map((doc) => toApiDocument(doc.id, doc.source)), failed: [] }),
    );

    const body = JSON.stringify(documentBodies(`PROFILE-${randomId().slice(0, 8)}`, N));
    const event = {
      version: '2.0',
      routeKey: 'POST /DANE/documents',
      rawPath: '/DANE/documents',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      requestContext: { http: { method: 'POST', path: '/DANE/documents' } },
      body,
      isBase64Encoded: false,
    };
    const result = (await timeAsync('the whole function (handler, in-process)', () =>
      handler(event as never, { awsRequestId: `profile-${round}`, functionName: 'profile' } as never),
    )) as { statusCode: number };
    if (result.statusCode !== 200) throw new Error(`the function answered ${result.statusCode}`);

    for (const refresh of [false, true]) {
      const lines: Record<string, unknown>[] = [];
      for (const doc of documentBodies(`RAW-${randomId()}`, N))
        lines.push(
          { create: { _index: index, _id: randomId() } },
          { ...doc, created_at: stamp, updated_at: stamp, role: 'document' },
        );
      const response = await timeAsync(`raw _bulk, refresh=${refresh}`, () =>
        client.bulk({ body: lines, refresh }),
      );
      if ((response.body as { errors?: boolean }).errors) throw new Error('raw _bulk reported item errors');
    }
  }
} finally {
  await client.indices.delete({ index }, { ignore: [404] });
}

console.log(`POST /DANE/documents of ${N.toLocaleString('en-US')} in-process, medians of ${ROUNDS} rounds\n`);
console.log('| phase | median | rounds |\n| --- | --- | --- |');
for (const [phase, values] of times)
  console.log(
    `| ${phase} | ${median(values).toFixed(1)} ms | ${values.map((v) => v.toFixed(0)).join(' ')} |`,
  );
process.exit(0);
