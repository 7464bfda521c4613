import { workerGatewayHandler } from '../../lib/gateway/function-url.ts';

/** The worker gateway (function URL): Elasticsearch-compatible access to the DANE index for DANE workers. */
export const handler = workerGatewayHandler();
