import { performance } from 'node:perf_hooks';
import { defaultPorts, type TaskPorts } from '../lib/tasks/ports.ts';
import { assignTask } from '../lib/tasks/assign.ts';
import { createDocument } from '../lib/store/documents.ts';
import { newDocument } from '../lib/model/document.ts';
import { getBroker } from '../lib/broker/connection.ts';
import amqp from 'amqplib';

const times = new Map<string, number[]>();
const wrap = <T extends object>(o: T, prefix: string): T => Object.fromEntries(Object.entries(o).map(([k, f]) => [k, typeof f !== 'function' ? f : async (...a: unknown[]) => { const t = performance.now(); try { return await (f as any)(...a); } finally { const l = times.get(prefix+k) ?? []; l.push(performance.now() - t); times.set(prefix+k, l); } }])) as T;
const base = defaultPorts();
const ports: TaskPorts = { ...base, store: wrap(base.store, 's.'), broker: wrap(base.broker, 'b.') };
const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672'); const ch = await conn.createChannel();
await ch.assertExchange('DANE-exchange','topic',{durable:false}); await ch.assertQueue('prof-q',{durable:true}); await ch.bindQueue('prof-q','DANE-exchange','#.PROFKEY');
const total: number[] = [];
for (let i = 0; i < 60; i++) {
  const doc = newDocument({ target: { id: `prof-${Date.now()}-${i}`, url: 'http://x/y', type: 'Video' }, creator: { id: 'prof', type: 'Organization' } } as never, '2026-12-02T00:00:00');
  await createDocument(doc);
  const t = performance.now();
  await assignTask(doc.id, { key: 'PROFKEY', priority: 1, args: {} } as never, new Date(), ports);
  total.push(performance.now() - t);
}
const med = (l: number[]) => { const s = [...l].slice(10).sort((a,b)=>a-b); return s[Math.floor(s.length/2)]?.toFixed(2); };
console.log('total', med(total));
for (const [k, l] of times) console.log(k, l.length, med(l));
await ch.purgeQueue('prof-q'); await conn.close(); process.exit(0);
