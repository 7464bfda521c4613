import amqp from 'amqplib';
import { declareTopology } from '../lib/broker/topology.ts';
import { getConfig } from '../lib/config.ts';
import { bootstrapIndex } from '../lib/store/bootstrap.ts';
import { createStoreClient } from '../lib/store/client.ts';

/**
 * What the bootstrap costs a cold start. Functions ensure their storage and messaging on first use: the first store
 * call of a container checks that the DANE index exists and maps our bookkeeping field (one GET of that field's
 * mapping; the index created or the field put if absent), and every new AMQP session declares the exchange and the
 * response queue. Each round here is one cold start: a new OpenSearch client and a new
 * AMQP connection, timing the work a cold start does anyway (first request, connect + channel) and what the
 * bootstrap adds to it. Run: `npx tsx bench/bootstrap.ts [rounds]` with the local stack up (the index must exist:
 * `npm start` or `npm run bootstrap` creates it).
 */
const rounds = Number(process.argv[2] ?? 50);
process.env.LOG_LEVEL = 'warn';
const config = getConfig();
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const samples = { firstRequest: [] as number[], ensureIndex: [] as number[] };
const amqpSamples = { connect: [] as number[], topology: [] as number[] };

for (let round = 0; round < rounds; round++) {
  const client = createStoreClient();
  let start = process.hrtime.bigint();
  await client.cluster.health({});
  samples.firstRequest.push(ms(start));
  start = process.hrtime.bigint();
  if ((await bootstrapIndex(client)) !== 'exists')
    throw new Error(`index ${config.opensearch.index} was absent`);
  samples.ensureIndex.push(ms(start));
  await client.close();

  start = process.hrtime.bigint();
  const connection = await amqp.connect(config.amqp.url);
  const channel = await connection.createConfirmChannel();
  amqpSamples.connect.push(ms(start));
  start = process.hrtime.bigint();
  await declareTopology(channel);
  amqpSamples.topology.push(ms(start));
  await connection.close();
}

const row = (what: string, values: number[]) => `| ${what} | ${median(values).toFixed(1)} ms |`;
console.log(`${rounds} cold starts (medians)\n| step | time |\n|---|---|`);
console.log(row('OpenSearch: new client, first request (any cold start)', samples.firstRequest));
console.log(row('+ ensure the index (GET field mapping, exists)', samples.ensureIndex));
console.log(row('AMQP: connect + confirm channel (any cold start that publishes)', amqpSamples.connect));
console.log(row('+ declare exchange and response queue', amqpSamples.topology));
