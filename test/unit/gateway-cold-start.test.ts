import { describe, expect, it } from 'vitest';
import { workerGatewayHandler } from '../../lib/gateway/function-url.ts';

// This file's process plays a deployed stage with neither a worker credential nor a pepper (lib/config reads the
// environment at first use, after these lines). Worker keys are the gateway's credential there, and they cannot
// be checked without the pepper.
process.env.DANE_STAGE = 'prod';
delete process.env.GATEWAY_WORKER_USERNAME;
delete process.env.GATEWAY_WORKER_PASSWORD;
delete process.env.AUTH_KEY_PEPPER;

describe('worker gateway cold start', () => {
  it('fails loudly, naming the variable, on a deployed stage without the key pepper', () => {
    expect(() => workerGatewayHandler()).toThrow(/AUTH_KEY_PEPPER must be set on stage prod/);
  });
});
