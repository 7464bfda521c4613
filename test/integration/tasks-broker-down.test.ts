import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { handler as taskCreate } from '../../functions/http/task-create.ts';
import { closeBroker } from '../../lib/broker/connection.ts';
import { getConfig } from '../../lib/config.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { getTask } from '../../lib/store/tasks.ts';
import { defaultSweepDeps, sweep } from '../../lib/tasks/sweep.ts';
import { attemptOf, closeAmqp, uniqueKey, workerQueue } from '../support/amqp.ts';
import { indexTestDocument } from '../support/documents.ts';
import { call } from '../support/http.ts';

const rabbit = (action: 'start' | 'stop') =>
  execFileSync('bash', ['localstack/rabbitmq.sh', action], { stdio: 'inherit', timeout: 170_000 });

afterAll(async () => {
  rabbit('start');
  await closeAmqp();
  await closeBroker();
});

describe('POST /DANE/task while RabbitMQ is down', () => {
  it('keeps the task (201, nothing claimed) and the sweep publishes it once the broker is back', async () => {
    await ensureIndex();
    const key = uniqueKey('OUTAGE');
    const documentId = await indexTestDocument({ type: 'Sound' });

    rabbit('stop');
    const response = await call(taskCreate, 'POST', '/DANE/task', { body: { document_id: documentId, key } });
    expect(response.status).toBe(201);
    const task = response.body as {
      _id: string;
      state: number;
      msg: string;
      retry: { next_try: string | null };
    };
    // Registered and answered; no attempt was used on a broker that could not be reached.
    expect(task.state).toBe(201);
    expect(task.msg).toBe('Created');
    expect(task).toMatchObject({ retry: { attempt: 0, retries: 0 } });
    expect(task.retry.next_try).not.toBeNull();

    rabbit('start');
    await closeBroker();
    const worker = await workerQueue(key);
    await getStoreClient().indices.refresh({ index: getConfig().opensearch.index });
    const report = await sweep(
      new Date(Date.parse(task.retry.next_try as string) + 1_000),
      defaultSweepDeps(() => 60_000),
    );
    expect(report.published).toBeGreaterThanOrEqual(1);
    expect((await worker.next())?.properties.correlationId).toMatch(attemptOf(task._id, 1));
    expect((await getTask(task._id))?.source.task.state).toBe(102);
    await worker.close();
  });
});
