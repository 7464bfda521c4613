import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { principalOf } from '../../../lib/auth/authorizer.ts';

/** Answers with the caller the authorizer passed on, so the test sees what a route function would. */
export const handler = async (event: APIGatewayProxyEventV2) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ routeKey: event.routeKey, principal: principalOf(event as never) ?? null }),
});
