import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyStructuredResultV2 as LambdaFunctionURLResult } from 'aws-lambda';
import { getConfig } from '../lib/config.ts';
import { logger } from '../lib/log.ts';
import { failure, serveFunctionUrl } from './function-url-adapter.ts';

/**
 * Offline stand-in for the worker gateway's Lambda function URL, which serverless-offline 14 does not serve (it
 * knows http, httpApi, alb, websocket and schedule events only): each request becomes a function-URL event that
 * invokes the `workerGateway` function through serverless-offline's Lambda endpoint, so the same handler, bundle
 * and environment answer locally and on AWS. Listens on 127.0.0.1:GATEWAY_PORT (9201).
 */
const config = getConfig();
const functionName = `dane-server-${config.stage}-workerGateway`;
const lambda = new LambdaClient({
  endpoint: config.publishing.lambdaEndpoint ?? 'http://127.0.0.1:3002',
  region: config.opensearch.region,
});
const log = logger.child({ component: 'worker-gateway-adapter', functionName });

const server = await serveFunctionUrl({
  port: config.gateway.localPort,
  log,
  invoke: async (event) => {
    try {
      const response = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
      );
      const payload = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
      if (response.FunctionError) {
        log.error('workerGateway failed', { error: payload.slice(0, 1000) });
        return failure('The worker gateway function failed; see the serverless-offline log');
      }
      return JSON.parse(payload) as LambdaFunctionURLResult;
    } catch (error) {
      log.warn('Could not invoke workerGateway', { error });
      return failure('The worker gateway function could not be invoked (is serverless-offline running?)');
    }
  },
});
log.info('worker gateway listening', { url: server.url });

const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
