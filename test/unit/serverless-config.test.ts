import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../lib/config.ts';

// The parts of serverless.yml that no local run exercises (they only matter on AWS), held in place here.
const file = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
const config = parse(file) as {
  custom: { esbuild: { target: string } };
  provider: {
    runtime: string;
    environment: Record<string, unknown>;
    iam: { role: { statements: Array<{ Action: string | string[]; Resource: unknown }> } };
  };
  functions: Record<
    string,
    {
      handler: string;
      url?: unknown;
      timeout?: number;
      environment?: Record<string, string>;
      events?: Array<Record<string, Record<string, unknown>>>;
    }
  >;
};
const actions = config.provider.iam.role.statements.flatMap((s) =>
  Array.isArray(s.Action) ? s.Action : [s.Action],
);

describe('serverless.yml', () => {
  it('runs on a supported Lambda runtime, and bundles for that Node version', () => {
    expect(config.provider.runtime).toBe('nodejs22.x');
    expect(`node${/\d+/.exec(config.provider.runtime)?.[0]}`).toBe(config.custom.esbuild.target);
  });

  it('forwards every configuration variable to the functions, and no variable the configuration ignores', () => {
    // AWS_REGION is set by the Lambda runtime itself (reserved); NODE_OPTIONS is Node's own; GATEWAY_PORT is read
    // by the local function-URL adapter only. A variable only one function needs (the gateway's worker credential)
    // is given to that function alone.
    const forwarded = new Set([
      ...Object.keys(config.provider.environment),
      ...Object.values(config.functions).flatMap((f) => Object.keys(f.environment ?? {})),
    ]);
    forwarded.delete('NODE_OPTIONS');
    const localOnly = ['AWS_REGION', 'GATEWAY_PORT'];
    expect([...forwarded].sort()).toEqual(
      CONFIG_VARIABLES.filter((name) => !localOnly.includes(name)).sort(),
    );
  });

  it('lets functions invoke publishTasks and call an IAM-protected OpenSearch domain', () => {
    expect(actions).toContain('lambda:InvokeFunction');
    const invoke = config.provider.iam.role.statements.find((s) => s.Action === 'lambda:InvokeFunction');
    expect(JSON.stringify(invoke?.Resource)).toContain('publishTasks');
    expect(actions).toEqual(
      expect.arrayContaining(['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpDelete']),
    );
  });

  it('builds the bundles for the runtime they run on', () => {
    expect(config.custom.esbuild.target).toBe(config.provider.runtime.replace(/^nodejs(\d+)\.x$/, 'node$1'));
  });

  it('feeds worker replies from the response queue to the replies function on AWS, not on the local stage', () => {
    expect(config.functions.replies?.events ?? []).toEqual([]);
    const events = parse(readFileSync(new URL('../../resources/events.yml', import.meta.url), 'utf8'));
    expect(events.none).toEqual({});
    const mapping = events.create.Resources.RepliesEventSourceMapping.Properties;
    expect(mapping).toMatchObject({
      FunctionName: { Ref: 'RepliesLambdaFunction' },
      // A serverless variable, not a JavaScript template.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of serverless.yml
      Queues: ['${self:provider.environment.DANE_RESPONSE_QUEUE}'],
      BatchSize: 2000,
      MaximumBatchingWindowInSeconds: 1,
    });
    expect(events.existing).toEqual(events.create);
  });

  it('has the local event emulator batch replies as the event source does', () => {
    const events = parse(readFileSync(new URL('../../resources/events.yml', import.meta.url), 'utf8'));
    const mapping = events.create.Resources.RepliesEventSourceMapping.Properties;
    const emulator = readFileSync(new URL('../../localstack/emulate-events.ts', import.meta.url), 'utf8');
    const batchSize = /EMULATE_BATCH_SIZE \?\? (\d+)/.exec(emulator)?.[1];
    const windowMs = /EMULATE_WINDOW_MS \?\? (\d+)/.exec(emulator)?.[1];
    expect(Number(batchSize)).toBe(mapping.BatchSize);
    expect(Number(windowMs)).toBe(Number(mapping.MaximumBatchingWindowInSeconds) * 1000);
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

  it('serves the worker gateway from a function URL (its own host), with the configured credential optional', () => {
    const gateway = config.functions.workerGateway;
    expect(gateway?.handler).toBe('functions/gateway/worker-gateway.handler');
    expect(gateway?.url).toBe(true);
    expect(gateway?.events ?? []).toEqual([]);
    // Worker keys are the credential; the configured one is an optional fallback on every stage.
    expect(gateway?.environment).toMatchObject({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of serverless.yml
      GATEWAY_WORKER_PASSWORD: "${env:GATEWAY_WORKER_PASSWORD, ''}",
    });
    expect(gateway?.timeout).toBeGreaterThan(10);
  });
});
