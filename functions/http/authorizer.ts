import type { APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { type AuthorizerDeps, decide, toSimpleResponse } from '../../lib/auth/authorizer.ts';
import { createJwtVerifier } from '../../lib/auth/jwt.ts';
import { keyVerifierFromConfig } from '../../lib/auth/keys.ts';
import { OpenSearchKeyStore } from '../../lib/auth/opensearch-key-store.ts';
import { routeScopes } from '../../lib/auth/route-scopes.ts';
import { getConfig } from '../../lib/config.ts';
import { logger } from '../../lib/log.ts';

/**
 * The Lambda REQUEST authorizer of the HTTP API (payload 2.0, simple responses). serverless-offline 14.8.2 runs
 * it the same way as API Gateway: it invokes this function before the route's, with the route key
 * (`GET /DANE/document/{doc_id}`) and the headers, and lets the request through only on `isAuthorized: true`;
 * `false` is a 403 in both. Its headers keep their case offline and are lowercased on AWS (handled). A thrown
 * error (store or JWKS outage) is a 500 on AWS and a 401 offline: either way nothing gets through.
 */

/** Built on first use and kept for the container's life, like the store client it uses. */
export function createAuthorizerHandler(deps: () => AuthorizerDeps) {
  let built: AuthorizerDeps | undefined;
  return async (event: APIGatewayRequestAuthorizerEventV2, context: Pick<Context, 'awsRequestId'>) => {
    const routeKey = event.routeKey ?? event.requestContext?.routeKey ?? '';
    const log = logger.child({ requestId: context.awsRequestId, routeKey });
    try {
      built ??= deps();
      const decision = await decide({ routeKey, headers: event.headers }, built);
      // Never the header: the reason names what is wrong, the principal who it was.
      const fields = {
        allow: decision.allow,
        reason: decision.reason,
        principal: decision.principal?.name,
        required: decision.required,
        ...(decision.allow ? {} : { status: decision.status }),
      };
      if (decision.allow) log.debug('authorized', fields);
      else log.info('denied', fields);
      return toSimpleResponse(decision);
    } catch (error) {
      log.error('Authorizer could not decide', { error });
      throw new Error('Authorizer unavailable');
    }
  };
}

export const handler = createAuthorizerHandler(() => {
  const { auth } = getConfig();
  return {
    mode: auth.mode,
    routeScopes,
    keys: keyVerifierFromConfig(new OpenSearchKeyStore()),
    jwt: auth.oidc ? createJwtVerifier(auth.oidc) : undefined,
  };
});
