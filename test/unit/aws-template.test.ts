import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The CloudFormation template of a deployed stage (`prod` with its defaults): what AWS would run. Packaged here
 * (offline, about a minute), or read from DANE_AWS_TEMPLATE when CI has just packaged it for cfn-lint.
 */
type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json & Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Condition?: string;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
}
let template: { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> };

beforeAll(() => {
  let file = process.env.DANE_AWS_TEMPLATE;
  if (!file) {
    const dir = mkdtempSync(join(tmpdir(), 'dane-aws-template-'));
    execFileSync('npx', ['serverless', 'package', '--stage', 'prod', '--package', dir], {
      stdio: 'pipe',
      // Checked, never deployed: a stand-in for the gateway credential a deployment takes from its shell.
      env: { ...process.env, GATEWAY_WORKER_USERNAME: 'lint-only', GATEWAY_WORKER_PASSWORD: 'lint-only' },
    });
    file = join(dir, 'cloudformation-template-update-stack.json');
  }
  template = JSON.parse(readFileSync(file, 'utf8'));
}, 300_000);

const ofType = (type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
const one = (type: string) => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return (found[0] as [string, Resource])[1];
};
const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Every IAM statement the functions' role gets: its inline policies and the policies attached to it. */
function roleStatements(): Statement[] {
  const role = template.Resources.IamRoleLambdaExecution as Resource;
  const inline = (role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
  const attached = ofType('AWS::IAM::Policy')
    .filter(([, policy]) =>
      JSON.stringify(policy.Properties.Roles).includes('"Ref":"IamRoleLambdaExecution"'),
    )
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...inline, ...attached];
}

describe('the AWS template of a deployed stage', () => {
  it('puts every function in the private subnets with the functions security group, on nodejs22.x', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(20);
    for (const [name, fn] of functions) {
      expect(fn.Properties.VpcConfig, name).toEqual({
        SecurityGroupIds: [{ Ref: 'LambdaSecurityGroup' }],
        SubnetIds: [{ Ref: 'PrivateSubnetA' }, { Ref: 'PrivateSubnetB' }],
      });
      expect(fn.Properties.Runtime, name).toBe('nodejs22.x');
    }
  });

  it('has a VPC without internet access and endpoints for what the functions and the event source call', () => {
    one('AWS::EC2::VPC');
    expect(ofType('AWS::EC2::Subnet')).toHaveLength(2);
    expect(ofType('AWS::EC2::InternetGateway')).toHaveLength(0);
    expect(ofType('AWS::EC2::NatGateway')).toHaveLength(0);
    const services = ofType('AWS::EC2::VPCEndpoint').map(([, e]) => JSON.stringify(e.Properties.ServiceName));
    expect(services.sort()).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      JSON.stringify({ 'Fn::Sub': 'com.amazonaws.${AWS::Region}.lambda' }),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
      JSON.stringify({ 'Fn::Sub': 'com.amazonaws.${AWS::Region}.secretsmanager' }),
    ]);
  });

  it('has a private RabbitMQ broker whose consumer timeout outlasts the longest task lease', () => {
    const broker = one('AWS::AmazonMQ::Broker');
    expect(broker.Properties).toMatchObject({ EngineType: 'RABBITMQ', PubliclyAccessible: false });
    // The user's credentials come from the generated secret, resolved by CloudFormation (a Fn::Sub, not JS).
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub
    expect(JSON.stringify(broker.Properties.Users)).toContain('{{resolve:secretsmanager:${MqSecret}');
    const configuration = one('AWS::AmazonMQ::Configuration');
    const data = (configuration.Properties.Data as { 'Fn::Base64': string })['Fn::Base64'];
    const timeout = Number(/^consumer_timeout = (\d+)$/m.exec(data)?.[1]);
    const env = (template.Resources.SweepLambdaFunction as Resource).Properties.Environment as {
      Variables: Record<string, string>;
    };
    expect(timeout).toBeGreaterThan(Number(env.Variables.TASK_LEASE_MS));
    const secret = one('AWS::SecretsManager::Secret');
    expect(secret.Properties.GenerateSecretString).toMatchObject({ GenerateStringKey: 'password' });
  });

  it('has an encrypted OpenSearch 2.x domain, reachable only inside the VPC by the functions role, kept on delete', () => {
    const domain = one('AWS::OpenSearchService::Domain');
    expect(domain.DeletionPolicy).toBe('Retain');
    expect(domain.UpdateReplacePolicy).toBe('Retain');
    expect(domain.Properties.EngineVersion).toMatch(/^OpenSearch_2\.\d+$/);
    expect(domain.Properties).toMatchObject({
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true },
      VPCOptions: { SecurityGroupIds: [{ Ref: 'SearchSecurityGroup' }] },
    });
    const policy = domain.Properties.AccessPolicies as { Statement: Statement[] };
    for (const statement of policy.Statement) {
      expect(statement.Principal).toEqual({ AWS: { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] } });
      for (const action of actionsOf(statement)) expect(action).toMatch(/^es:ESHttp[A-Z][a-z]+$/);
    }
  });

  it('lets exactly the functions reach the domain, and the functions, the event source and workers the broker', () => {
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties);
    const into = (group: string) =>
      ingress
        .filter((rule) => JSON.stringify(rule.GroupId) === JSON.stringify({ Ref: group }))
        .map((rule) => `${rule.FromPort}<-${JSON.stringify(rule.SourceSecurityGroupId ?? rule.CidrIp)}`)
        .sort();
    expect(into('SearchSecurityGroup')).toEqual(['443<-{"Ref":"LambdaSecurityGroup"}']);
    expect(into('BrokerSecurityGroup')).toEqual([
      '443<-{"Ref":"LambdaSecurityGroup"}',
      '5671<-{"Ref":"BrokerSecurityGroup"}',
      '5671<-{"Ref":"LambdaSecurityGroup"}',
      '5671<-{"Ref":"WorkerCidr"}',
      '5671<-{"Ref":"WorkerSecurityGroup"}',
    ]);
    expect(template.Resources.BrokerIngressFromWorkerCidr?.Condition).toBe('BrokerWorkerCidr');
  });

  it('feeds the response queue to the replies function with the broker secret', () => {
    const mapping = one('AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties).toMatchObject({
      FunctionName: { Ref: 'RepliesLambdaFunction' },
      EventSourceArn: { 'Fn::GetAtt': ['MqBroker', 'Arn'] },
      Queues: ['DANE-response-queue'],
      SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: { Ref: 'MqSecret' } }],
    });
  });

  it('gives the functions role only named actions, each on its own resources', () => {
    const statements = roleStatements();
    const actions = statements.flatMap(actionsOf);
    for (const action of actions) expect(action).not.toContain('*');
    expect(new Set(actions)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:CreateLogGroup',
        'logs:TagResource',
        'logs:PutLogEvents',
        'lambda:InvokeFunction',
        'es:ESHttpGet',
        'es:ESHttpHead',
        'es:ESHttpPost',
        'es:ESHttpPut',
        'es:ESHttpDelete',
        'mq:DescribeBroker',
        'secretsmanager:GetSecretValue',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ]),
    );
    // The one managed policy: the network interfaces of functions in a VPC (named EC2 actions only).
    const managed = (template.Resources.IamRoleLambdaExecution as Resource).Properties.ManagedPolicyArns;
    expect(JSON.stringify(managed)).toBe(
      JSON.stringify([
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
            ],
          ],
        },
      ]),
    );
    // "*" resources only where EC2 offers no resource-level permissions.
    for (const statement of statements.filter((s) => JSON.stringify(s.Resource) === '"*"')) {
      for (const action of actionsOf(statement)) expect(action).toMatch(/^ec2:/);
    }
  });

  it('has alarms on the replies, sweep and publishTasks errors and on throttles, and keeps logs for a while', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const errorsOf = alarms
      .filter((alarm) => alarm.MetricName === 'Errors')
      .map((alarm) => JSON.stringify(alarm.Dimensions));
    for (const fn of ['RepliesLambdaFunction', 'SweepLambdaFunction', 'PublishTasksLambdaFunction']) {
      expect(
        errorsOf.some((dimensions) => dimensions.includes(fn)),
        fn,
      ).toBe(true);
    }
    expect(alarms.some((alarm) => alarm.MetricName === 'Throttles')).toBe(true);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    for (const [name, group] of ofType('AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays, name).toBeGreaterThan(0);
    }
  });

  it('outputs what a worker needs: API URL, worker gateway URL, broker endpoint, secret ARN', () => {
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([
        'HttpApiUrl',
        'WorkerGatewayLambdaFunctionUrl',
        'BrokerAmqpsEndpoint',
        'BrokerSecretArn',
      ]),
    );
  });

  it('carries no local-stack value', () => {
    expect(JSON.stringify(template)).not.toMatch(/127\.0\.0\.1|localhost|:000000000000:/);
  });
});
