import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { median, progress, randomId, timed } from './lib.ts';
import type { Target } from './targets.ts';

/**
 * The sweep's cost against the number of finished tasks in the index: it must read only what is due, so a run
 * over 100,000 finished tasks should cost what a run over none does. The sweep function is invoked through
 * serverless-offline's Lambda endpoint, as the schedule would run it.
 */
export async function sweepMedian(target: Target, runs = 10): Promise<{ medianMs: number; read: number }> {
  if (!target.lambdaEndpoint) throw new Error('the sweep is ours only');
  const lambda = new LambdaClient({
    endpoint: target.lambdaEndpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const times: number[] = [];
  let read = 0;
  for (let i = 0; i < runs + 2; i += 1) {
    const { ms, value } = await timed(() =>
      lambda.send(
        new InvokeCommand({ FunctionName: 'dane-server-local-sweep', InvocationType: 'RequestResponse' }),
      ),
    );
    const payload = Buffer.from(value.Payload ?? new Uint8Array()).toString('utf8');
    if (value.FunctionError) throw new Error(`sweep failed: ${payload.slice(0, 500)}`);
    read = Math.max(read, (JSON.parse(payload) as { read?: number }).read ?? 0);
    // The first two warm the function's worker thread and its clients up.
    if (i >= 2) times.push(ms);
  }
  lambda.destroy();
  return { medianMs: median(times), read };
}

/**
 * Loads `count` finished (200) tasks with our bookkeeping (nothing due) by raw `_bulk`, spread over `parents`,
 * ten thousand per request.
 */
export async function loadFinishedTasks(
  client: Client,
  index: string,
  parents: readonly string[],
  count: number,
): Promise<number> {
  const { ms } = await timed(async () => {
    const stamp = '2026-12-01T00:00:00';
    for (let done = 0; done < count; ) {
      const lines: unknown[] = [];
      const size = Math.min(10_000, count - done);
      for (let i = 0; i < size; i += 1) {
        const parent = parents[(done + i) % parents.length] as string;
        lines.push(
          { create: { _index: index, _id: randomId(), routing: parent } },
          {
            task: { key: `DONE${(done + i) % 97}`, state: 200, msg: 'Success', priority: 1 },
            role: { name: 'task', parent },
            created_at: stamp,
            updated_at: stamp,
            dane: { attempt: 1, retries: 0, due_at: null, last_error: null },
          },
        );
      }
      const response = await client.bulk({ body: lines as Record<string, unknown>[] });
      if ((response.body as { errors?: boolean }).errors) throw new Error('loading finished tasks failed');
      done += size;
      if (done % 50_000 === 0 || done === count) progress(`sweep: ${done}/${count} finished tasks loaded`);
    }
    await client.indices.refresh({ index });
  });
  return ms;
}
