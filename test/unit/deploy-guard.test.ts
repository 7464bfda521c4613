import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORK_FOLDER } from 'serverless-esbuild/dist/constants.js';
import { describe, expect, it } from 'vitest';
import DanePlugin, {
  deploymentProblems,
  longestLeaseMs,
  OFFLINE_WORK_FOLDER,
} from '../../scripts/serverless-dane.mjs';

// The guard rails of `serverless package` for deployed stages (scripts/serverless-dane.mjs), on resolved settings.
const defaults: Record<string, string> = {
  network: 'create',
  broker: 'create',
  search: 'create',
  searchDomainName: 'dane-prod',
  brokerConsumerTimeoutMs: '25200000',
};
const service = (environment: Record<string, unknown> = {}, resources: unknown = {}) => ({
  provider: {
    environment: {
      TASK_LEASE_MS: '21600000',
      AUTH_MODE: 'keys',
      AUTH_KEY_PEPPER_SECRET: 'dane/prod/auth-key-pepper',
      ...environment,
    },
  },
  resources,
});
const problems = (params: Record<string, string>, svc = service()) =>
  deploymentProblems((name) => ({ ...defaults, ...params })[name], svc);

describe('deployment guard rails', () => {
  it('accepts the defaults of a deployed stage', () => {
    expect(problems({})).toEqual([]);
  });

  it('refuses an open API, a missing pepper parameter and a pepper in plain text', () => {
    expect(
      problems(
        {},
        service({ AUTH_MODE: 'none', AUTH_KEY_PEPPER_SECRET: '', AUTH_KEY_PEPPER: 'x'.repeat(40) }),
      ).map((p) => p.split(':')[0]),
    ).toEqual(['AUTH_MODE', 'authKeyPepperSecret', 'AUTH_KEY_PEPPER']);
  });

  it('refuses the local stage modes on a deployed stage', () => {
    expect(problems({ network: 'none', broker: 'none', search: 'none' })).toEqual([
      'network: must be "create" or "existing" on a deployed stage (got "none")',
      'broker: must be "create" or "existing" on a deployed stage (got "none")',
      'search: must be "create" or "existing" on a deployed stage (got "none")',
    ]);
  });

  it('names every setting an existing network, broker or domain lacks', () => {
    const found = problems({ network: 'existing', broker: 'existing', search: 'existing' });
    expect(found.map((p) => p.split(':')[0])).toEqual([
      'vpcId',
      'subnetIds',
      'brokerArn',
      'brokerHost',
      'brokerSecretArn',
      'searchEndpoint',
    ]);
    expect(found[0]).toContain('(not set)');
  });

  it('refuses placeholder account ids and loopback hosts in settings and in the resolved configuration', () => {
    const found = problems(
      {
        broker: 'existing',
        brokerArn: 'arn:aws:mq:eu-west-1:000000000000:broker:dane:b-1',
        brokerHost: 'b-1.mq.eu-west-1.amazonaws.com',
        brokerSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dane-AbC',
      },
      service(
        { OPENSEARCH_URL: 'http://127.0.0.1:9200' },
        { Resources: { X: { Properties: { Url: 'http://localhost' } } } },
      ),
    );
    expect(found).toEqual([
      'brokerArn: the ARN of your Amazon MQ broker (got "arn:aws:mq:eu-west-1:000000000000:broker:dane:b-1")',
      'provider.environment.OPENSEARCH_URL: still points at the local stack (localhost or 000000000000)',
      'resources.Resources.X.Properties.Url: still points at the local stack (localhost or 000000000000)',
    ]);
  });

  it('accepts complete existing settings', () => {
    expect(
      problems({
        network: 'existing',
        vpcId: 'vpc-0abc',
        subnetIds: 'subnet-01,subnet-02',
        broker: 'existing',
        brokerArn: 'arn:aws:mq:eu-west-1:123456789012:broker:dane:b-1',
        brokerHost: 'b-1.mq.eu-west-1.amazonaws.com',
        brokerSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dane-AbC',
        search: 'existing',
        searchEndpoint: 'https://vpc-dane-abc.eu-west-1.es.amazonaws.com',
      }),
    ).toEqual([]);
  });

  it('refuses a broker that would time out a worker inside its task lease', () => {
    const svc = service({ TASK_LEASES: 'ASR=43200000,DOWNLOAD=600000' });
    expect(longestLeaseMs(svc.provider.environment)).toBe(43_200_000);
    expect(problems({}, svc)).toEqual([
      'brokerConsumerTimeoutMs: must be above the longest task lease (43200000 ms from TASK_LEASE_MS/TASK_LEASES), or 0 (got "25200000")',
    ]);
    expect(problems({ brokerConsumerTimeoutMs: '0' }, svc)).toEqual([]);
    expect(problems({ brokerConsumerTimeoutMs: '50000000' }, svc)).toEqual([]);
  });
});

describe('build folders', () => {
  const pluginFor = (command: string) => {
    const serverless = {
      processedInput: { commands: [command] },
      service: { custom: { esbuild: { bundle: true } } },
    };
    new DanePlugin(serverless, {});
    return serverless.service.custom.esbuild as Record<string, unknown>;
  };

  it('gives `serverless offline` a folder that `serverless package` (serverless-esbuild default) never empties', () => {
    expect(pluginFor('offline')).toEqual({ bundle: true, outputWorkFolder: OFFLINE_WORK_FOLDER });
    expect(OFFLINE_WORK_FOLDER).not.toBe(WORK_FOLDER);
    expect(pluginFor('package')).toEqual({ bundle: true });
  });
});

describe('serverless package of a deployed stage', () => {
  it('stops before building, naming what is missing', () => {
    // The guard runs at package:initialize, before any bundling: this takes seconds.
    const run = spawnSync(
      'npx',
      [
        'serverless',
        'package',
        '--stage',
        'prod',
        '--param=search=existing',
        '--package',
        mkdtempSync(join(tmpdir(), 'dane-guard-')),
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('Stage "prod" cannot be packaged');
    expect(run.stdout + run.stderr).toContain(
      "searchEndpoint: your OpenSearch domain's endpoint (https://...) (not set)",
    );
    expect(run.stdout + run.stderr).not.toContain('AUTH_MODE');
  }, 60_000);
});
