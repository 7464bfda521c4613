import { z } from 'zod';
import { ReadinessSchema } from '../../ops/readiness.ts';
import { defineRoute } from './types.ts';

/** Operational routes outside `/DANE` (spec §7.3) and the API description itself. */

export const health = defineRoute({
  method: 'get',
  path: '/health',
  scope: 'public',
  function: 'health',
  operationId: 'health',
  summary: 'Liveness; touches no dependency',
  tags: ['ops'],
  responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
});

export const ready = defineRoute({
  method: 'get',
  path: '/ready',
  scope: 'public',
  function: 'ready',
  operationId: 'ready',
  summary: 'Readiness: OpenSearch answers a ping and the AMQP connection a round trip',
  tags: ['ops'],
  responses: {
    200: { description: 'Both dependencies answer', schema: ReadinessSchema },
    503: { description: 'A dependency is down; `message` names it', schema: ReadinessSchema },
  },
});

export const openapi = defineRoute({
  method: 'get',
  path: '/DANE/openapi.json',
  scope: 'public',
  function: 'openapi',
  operationId: 'openapi',
  summary: 'This OpenAPI document',
  tags: ['ops'],
  responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
});

export const opsRoutes = [health, ready, openapi];
