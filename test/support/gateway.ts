import type { Context } from 'aws-lambda';
import { workerGatewayHandler } from '../../lib/gateway/function-url.ts';
import { logger } from '../../lib/log.ts';
import { type FunctionUrlServer, serveFunctionUrl } from '../../localstack/function-url-adapter.ts';

/**
 * The worker gateway without serverless-offline: the same function-URL adapter as `npm start`, invoking the
 * `workerGateway` handler in this process (with this process's configuration), on a free port. For tests that
 * play the server themselves but run real Python workers, which reach storage only through the gateway.
 */
export async function startInProcessGateway(
  options: { opensearchUrl?: string } = {},
): Promise<FunctionUrlServer> {
  const handler = workerGatewayHandler(options);
  let count = 0;
  return serveFunctionUrl({
    port: 0,
    log: logger.child({ component: 'test-gateway' }),
    invoke: (event) => {
      count += 1;
      return handler(event, { awsRequestId: `test-gateway-${count}` } as Context);
    },
  });
}
