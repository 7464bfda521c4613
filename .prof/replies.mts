import { performance } from 'node:perf_hooks';
import { defaultPorts, type TaskPorts } from '../lib/tasks/ports.ts';
import { assignTasks } from '../lib/tasks/assign.ts';
import { createDocuments } from '../lib/store/documents.ts';
import { newDocument } from '../lib/model/document.ts';
import { handleReplies } from '../lib/tasks/replies.ts';
import { publishTasksById } from '../lib/tasks/publish.ts';
import { getTasks } from '../lib/store/tasks.ts';
import amqp from 'amqplib';

const N = Number(process.env.N ?? 5000);
const times = new Map<string, number[]>();
const wrap = <T extends object>(o: T, prefix: string): T => Object.fromEntries(Object.entries(o).map(([k, f]) => [k, typeof f !== 'function' ? f : async (...a: unknown[]) => { const t = performance.now(); try { return await (f as any)(...a); } finally { const l = times.get(prefix+k) ?? []; l.push(performance.now() - t); times.set(prefix+k, l); } }])) as T;
const base = defaultPorts();
const ports: TaskPorts = { ...base, store: wrap(base.store, 's.'), broker: wrap(base.broker, 'b.') };
const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672'); const ch = await conn.createChannel();
await ch.assertExchange('DANE-exchange','topic',{durable:false}); await ch.assertQueue('prof-r',{durable:true}); await ch.bindQueue('prof-r','DANE-exchange','#.PROFR');
const run = Date.now();
const docs = Array.from({length: N}, (_, i) => newDocument({ target: { id: `r-${run}-${i}`, url: 'http://x/y', type: 'Video' }, creator: { id: 'prof', type: 'Organization' } } as never, '2026-12-02T00:00:00'));
await createDocuments(docs);
const res = await assignTasks(docs.map(d => d.id), { key: 'PROFR', priority: 1, args: {} } as never);
await publishTasksById(res.success.map(t => t._id));
// wait for publish (async path) to finish
for (;;) { const q = await ch.checkQueue('prof-r'); if (q.messageCount >= N) break; await new Promise(r => setTimeout(r, 200)); }
const raws: { correlationId: string; body: string }[] = [];
for (let i = 0; i < N; i++) { const m = await ch.get('prof-r', { noAck: true }); if (!m) break; raws.push({ correlationId: m.properties.correlationId, body: JSON.stringify({ state: 200, message: 'Success' }) }); }
console.log('messages', raws.length);
times.clear();
const { Session } = await import('node:inspector/promises'); const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start');
const t = performance.now();
const report = await handleReplies(raws, new Date(), ports);
const { profile } = await session.post('Profiler.stop') as any; (await import('node:fs')).writeFileSync('/tmp/replies.cpuprofile', JSON.stringify(profile));
console.log('handleReplies', (performance.now() - t).toFixed(0), 'ms', JSON.stringify(report.counts));
for (const [k, l] of times) console.log(k, l.length, l.map(x => x.toFixed(0)).join(','));
await conn.close(); process.exit(0);
