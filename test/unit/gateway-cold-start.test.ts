import { describe, expect, it } from 'vitest';
import { workerGatewayHandler } from '../../lib/gateway/function-url.ts';

// This file's process plays a deployed stage whose worker credential was not set (lib/config reads the
// environment at first use, after this line).
process.env.DANE_STAGE = 'prod';
delete process.env.GATEWAY_WORKER_USERNAME;
delete process.env.GATEWAY_WORKER_PASSWORD;

describe('worker gateway cold start', () => {
  it('fails loudly, naming the variables, on a deployed stage without a worker credential', () => {
    expect(() => workerGatewayHandler()).toThrow(
      /GATEWAY_WORKER_USERNAME and GATEWAY_WORKER_PASSWORD must be set on stage `prod`/,
    );
  });
});
