import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as replies } from '../../functions/events/replies.ts';
import { handler as taskCreate } from '../../functions/http/task-create.ts';
import { handler as taskGet } from '../../functions/http/task-get.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { DependencyUnavailableError } from '../../lib/errors.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { daneIndexMappings } from '../../lib/store/index-layout.ts';
import { getTasks } from '../../lib/store/tasks.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';
import { call } from '../support/http.ts';

// Right after OpenSearch starts, before the index's shard is assigned, a multi-get answers HTTP 200 with a
// per-document `no_shard_available_action_exception` (issue 14). Reproduced for real: an index whose only shard
// may be allocated on no node. Such an item says nothing about the document, so it must never read as "not
// found": the API answers 503, a reply batch fails (and is delivered again), the sweep stops.
vi.hoisted(() => {
  process.env.DANE_INDEX = `dane-test-noshard-${crypto.randomUUID().slice(0, 8)}`;
});

const client = getStoreClient();
const index = () => getConfig().opensearch.index;
const TASK = 'a'.repeat(40);

beforeAll(async () => {
  await client.indices.create({
    index: index(),
    wait_for_active_shards: '0',
    body: {
      settings: {
        number_of_shards: 1,
        number_of_replicas: 0,
        'index.routing.allocation.require._name': 'no-such-node',
      },
      mappings: daneIndexMappings,
    },
  } as never);
});

afterAll(async () => {
  await client.indices.delete({ index: index(), ignore_unavailable: true });
  await closeBroker();
});

describe('an unassigned shard (per-item errors of a multi-get)', () => {
  it('OpenSearch answers the multi-get with 200 and a per-item error, as on recovery', async () => {
    const response = await client.mget({ index: index(), body: { ids: [TASK] } });
    expect(response.statusCode).toBe(200);
    expect(JSON.stringify(response.body)).toContain('no_shard_available_action_exception');
  });

  it('the store reports it as an outage, not as missing tasks', async () => {
    await expect(getTasks([TASK])).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('a reply batch fails so the event source delivers it again, instead of dropping the reply', async () => {
    const event = {
      eventSource: 'aws:rmq',
      rmqMessagesByQueue: {
        'DANE-response-queue::/': [
          {
            basicProperties: { correlationId: `${TASK}#1.abcd` },
            data: Buffer.from(JSON.stringify({ state: 200, message: 'ok' })).toString('base64'),
          },
        ],
      },
    };
    await expect(replies(event, { awsRequestId: 'r' } as never)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });

  it('the API answers 503 naming the database, not 404', async () => {
    const assign = await call(taskCreate, 'POST', '/DANE/task', {
      body: { document_id: 'd'.repeat(40), key: 'ASR' },
    });
    expect(assign).toMatchObject({ status: 503, body: { dependency: 'database' } });
    const get = await call(taskGet, 'GET', `/DANE/task/${TASK}`, { pathParameters: { task_id: TASK } });
    expect(get).toMatchObject({ status: 503, body: { dependency: 'database' } });
  });

  it('the sweep stops with the outage rather than reading an empty index', async () => {
    await expect(
      sweep(
        new Date(),
        defaultSweepDeps(() => 60_000),
      ),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
