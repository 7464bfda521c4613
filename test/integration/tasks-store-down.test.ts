import { describe, expect, it, vi } from 'vitest';
import { handler as replies } from '../../functions/events/replies.ts';
import { handler as taskCreate } from '../../functions/http/task-create.ts';
import { handler as taskGet } from '../../functions/http/task-get.ts';
import { handler as taskList } from '../../functions/http/task-list.ts';
import { DependencyUnavailableError } from '../../lib/errors.ts';
import { call } from '../support/http.ts';

// OpenSearch unreachable for this file only (nothing listens on port 1); hoisted above the imports, since the
// function wrappers read the configuration when they are loaded (cold start).
vi.hoisted(() => {
  process.env.OPENSEARCH_URL = 'http://127.0.0.1:1';
});

describe('task routes with OpenSearch unreachable', () => {
  it.each([
    ['POST /DANE/task', taskCreate, 'POST', { body: { document_id: 'd', key: 'ASR' } }],
    ['GET /DANE/task', taskList, 'GET', {}],
    ['GET /DANE/task/{id}', taskGet, 'GET', { pathParameters: { task_id: 'x' } }],
  ] as const)('%s answers 503 naming the database', async (_name, handler, method, options) => {
    const response = await call(handler, method, '/DANE/task', options);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ dependency: 'database' });
    expect(response.headers['retry-after']).toBeDefined();
  });

  it('the reply handler fails its invocation, so the event source delivers the batch again', async () => {
    const event = {
      eventSource: 'aws:rmq',
      rmqMessagesByQueue: {
        'DANE-response-queue::/': [
          {
            basicProperties: { correlationId: `${'a'.repeat(40)}#1` },
            data: Buffer.from(JSON.stringify({ state: 200, message: 'ok' })).toString('base64'),
          },
        ],
      },
    };
    await expect(replies(event, { awsRequestId: 'r' } as never)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });
});
