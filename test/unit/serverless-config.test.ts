import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The parts of serverless.yml that no local run exercises (they only matter on AWS), held in place here.
const file = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
const config = parse(file) as {
  provider: {
    runtime: string;
    iam: { role: { statements: Array<{ Action: string | string[]; Resource: unknown }> } };
  };
  functions: Record<string, { handler: string; events?: Array<Record<string, Record<string, unknown>>> }>;
};
const actions = config.provider.iam.role.statements.flatMap((s) =>
  Array.isArray(s.Action) ? s.Action : [s.Action],
);

describe('serverless.yml', () => {
  it('runs on a supported Lambda runtime', () => {
    expect(config.provider.runtime).toBe('nodejs22.x');
  });

  it('lets functions invoke publishTasks and call an IAM-protected OpenSearch domain', () => {
    expect(actions).toContain('lambda:InvokeFunction');
    const invoke = config.provider.iam.role.statements.find((s) => s.Action === 'lambda:InvokeFunction');
    expect(JSON.stringify(invoke?.Resource)).toContain('publishTasks');
    expect(actions).toEqual(
      expect.arrayContaining(['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpDelete']),
    );
  });

  it('feeds worker replies from the response queue to the replies function', () => {
    const rabbitmq = config.functions.replies?.events?.find((e) => e.rabbitmq)?.rabbitmq;
    expect(rabbitmq).toMatchObject({
      // A serverless variable, not a JavaScript template.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of serverless.yml
      queue: '${self:provider.environment.DANE_RESPONSE_QUEUE}',
      batchSize: 5000,
      maximumBatchingWindow: 1,
    });
    expect(rabbitmq?.arn).toBeDefined();
    expect(rabbitmq?.basicAuthArn).toBeDefined();
  });

  it('has the local event emulator batch replies as the event source does', () => {
    const rabbitmq = config.functions.replies?.events?.find((e) => e.rabbitmq)?.rabbitmq;
    const emulator = readFileSync(new URL('../../localstack/emulate-events.ts', import.meta.url), 'utf8');
    const batchSize = /EMULATE_BATCH_SIZE \?\? (\d+)/.exec(emulator)?.[1];
    const windowMs = /EMULATE_WINDOW_MS \?\? (\d+)/.exec(emulator)?.[1];
    expect(Number(batchSize)).toBe(rabbitmq?.batchSize);
    expect(Number(windowMs)).toBe(Number(rabbitmq?.maximumBatchingWindow) * 1000);
  });

  it('runs the sweep every minute', () => {
    const schedule = config.functions.sweep?.events?.find((e) => e.schedule)?.schedule;
    expect(schedule?.rate).toBe('rate(1 minute)');
    expect(config.functions.sweep?.handler).toBe('functions/schedule/sweep.handler');
  });

  it('has the asynchronous publisher without an HTTP route', () => {
    expect(config.functions.publishTasks?.handler).toBe('functions/events/publish-tasks.handler');
    expect(config.functions.publishTasks?.events ?? []).toEqual([]);
  });
});
