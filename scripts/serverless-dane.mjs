/**
 * The project's own osls plugin (listed first in serverless.yml):
 *
 * 1. `serverless offline` bundles into `.esbuild-offline` instead of `.esbuild`. `serverless package` empties
 *    `.esbuild` when it starts; sharing it would pull the handlers from under a running `npm start` (every route
 *    then answers 200 with "Cannot find module").
 * 2. Guard rails: packaging or deploying any stage but `local` stops, naming every setting that is missing, when
 *    the configuration still points at the local stack (localhost, placeholder account ids) or lacks what the chosen
 *    `network`/`broker`/`search` mode needs, or when the broker would time out workers inside a task lease.
 */

export const OFFLINE_WORK_FOLDER = '.esbuild-offline';

// Local-stack values that must never reach AWS: a loopback host, a placeholder account id.
const LOCAL_VALUE = /\b(127\.0\.0\.1|localhost)\b|:000000000000:/;

/** Where in a resolved value local-stack values remain, as dotted paths. */
export function localValuePaths(value, path) {
  if (typeof value === 'string') return LOCAL_VALUE.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => localValuePaths(item, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => localValuePaths(item, `${path}.${key}`));
  }
  return [];
}

/** The longest task lease in ms, from the functions' environment (TASK_LEASE_MS and TASK_LEASES). */
export function longestLeaseMs(environment) {
  const leases = String(environment.TASK_LEASES ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => Number(pair.split('=')[1]));
  return Math.max(Number(environment.TASK_LEASE_MS ?? 0), ...leases);
}

/**
 * Every problem of a deployable stage's settings, each naming the setting. `param` reads a resolved param;
 * `service` is the resolved configuration.
 */
export function deploymentProblems(param, service) {
  const problems = [];
  const need = (name, pattern, what) => {
    const value = String(param(name) ?? '');
    if (!pattern.test(value) || LOCAL_VALUE.test(value)) {
      problems.push(`${name}: ${what}${value ? ` (got "${value}")` : ' (not set)'}`);
    }
  };
  const modes = { network: param('network'), broker: param('broker'), search: param('search') };
  for (const [name, mode] of Object.entries(modes)) {
    if (mode !== 'create' && mode !== 'existing') {
      problems.push(`${name}: must be "create" or "existing" on a deployed stage (got "${mode}")`);
    }
  }
  if (modes.network === 'existing') {
    need('vpcId', /^vpc-[0-9a-f]+$/, 'the id of your VPC (vpc-...)');
    need(
      'subnetIds',
      /^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)+$/,
      'two or more private subnet ids, comma-separated',
    );
  }
  if (modes.broker === 'existing') {
    need('brokerArn', /^arn:aws[a-z-]*:mq:[a-z0-9-]+:\d{12}:broker:/, 'the ARN of your Amazon MQ broker');
    need(
      'brokerHost',
      /^[a-z0-9.-]+\.[a-z]{2,}$/,
      "the broker's AMQPS host name (b-....mq.<region>.amazonaws.com)",
    );
    need(
      'brokerSecretArn',
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:/,
      'the ARN of a Secrets Manager secret {"username","password"} of a user on the broker',
    );
  }
  if (modes.search === 'existing') {
    need('searchEndpoint', /^https:\/\/[a-z0-9.-]+$/, "your OpenSearch domain's endpoint (https://...)");
  }
  need(
    'searchDomainName',
    /^[a-z][a-z0-9-]{2,27}$/,
    'a domain name: 3-28 of a-z, 0-9, "-", starting with a letter',
  );
  const environment = service.provider?.environment ?? {};
  if (modes.broker === 'create') {
    const timeout = Number(param('brokerConsumerTimeoutMs'));
    const lease = longestLeaseMs(environment);
    // 0 means "no timeout" to RabbitMQ.
    if (!Number.isInteger(timeout) || (timeout !== 0 && timeout <= lease)) {
      problems.push(
        `brokerConsumerTimeoutMs: must be above the longest task lease (${lease} ms from TASK_LEASE_MS/TASK_LEASES), or 0 (got "${param('brokerConsumerTimeoutMs')}")`,
      );
    }
  }
  // Never an open API, and never the key pepper in plain text in the functions' configuration.
  if (String(environment.AUTH_MODE ?? 'keys') !== 'keys') {
    problems.push(
      `AUTH_MODE: must be "keys" on a deployed stage; "none" lets every request through, for local experiments only (got "${environment.AUTH_MODE}")`,
    );
  }
  if (!/^[A-Za-z0-9/_+=.@-]+$/.test(String(environment.AUTH_KEY_PEPPER_SECRET ?? ''))) {
    problems.push(
      `authKeyPepperSecret: the name of the Secrets Manager secret holding the API key pepper, e.g. dane/prod/auth-key-pepper (got "${environment.AUTH_KEY_PEPPER_SECRET ?? ''}")`,
    );
  }
  if (String(environment.AUTH_KEY_PEPPER ?? '') !== '') {
    problems.push(
      "AUTH_KEY_PEPPER: would put the pepper in plain text in the functions' configuration; keep it in Secrets Manager (authKeyPepperSecret) and unset AUTH_KEY_PEPPER",
    );
  }
  const leftovers = [
    ...localValuePaths(environment, 'provider.environment'),
    ...localValuePaths(service.provider?.iam, 'provider.iam'),
    ...localValuePaths(service.resources, 'resources'),
  ];
  for (const path of leftovers)
    problems.push(`${path}: still points at the local stack (localhost or 000000000000)`);
  return problems;
}

export default class DanePlugin {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    if (serverless.processedInput?.commands?.[0] === 'offline') {
      const custom = serverless.service.custom ?? {};
      custom.esbuild = { ...custom.esbuild, outputWorkFolder: OFFLINE_WORK_FOLDER };
      serverless.service.custom = custom;
    }
    this.hooks = { 'before:package:initialize': () => this.guard() };
  }

  param(name) {
    const fromCli = [this.options.param ?? []]
      .flat()
      .map((entry) => String(entry).split(/=(.*)/s))
      .find(([key]) => key === name);
    if (fromCli) return fromCli[1];
    const params = this.serverless.configurationInput?.params ?? {};
    const stage = this.serverless.getProvider('aws').getStage();
    return params[stage]?.[name] ?? params.default?.[name];
  }

  guard() {
    const stage = this.serverless.getProvider('aws').getStage();
    if (stage === 'local') return;
    const problems = deploymentProblems((name) => this.param(name), this.serverless.service);
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `Stage "${stage}" cannot be packaged: ${problems.length} setting(s) missing or wrong (README, "Deploy to AWS"):\n  - ${problems.join('\n  - ')}`,
      );
    }
  }
}
