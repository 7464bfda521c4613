import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { routeKeyOf } from '../../lib/auth/route-scopes.ts';
import { routes } from '../../lib/http/routes/index.ts';

// serverless.yml against the route registry: the authorizer is declared as README says, and every httpApi event
// of a protected route names it while the public ones do not. (Offline runs check behaviour; this checks that no
// event was forgotten, which a run only finds for the routes it calls.)
const config = parse(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')) as {
  params: { default: Record<string, unknown> };
  provider: { httpApi: { cors: unknown; authorizers: Record<string, Record<string, unknown>> } };
  resources: Array<Record<string, unknown>>;
  functions: Record<string, { handler: string; events?: Array<Record<string, Record<string, unknown>>> }>;
};

const events = Object.entries(config.functions).flatMap(([name, fn]) =>
  (fn.events ?? []).flatMap((event) =>
    event.httpApi
      ? [
          {
            fn: name,
            key: `${String(event.httpApi.method).toUpperCase()} ${String(event.httpApi.path)}`,
            authorizer: (event.httpApi.authorizer as { name?: string } | undefined)?.name,
          },
        ]
      : [],
  ),
);

describe('serverless.yml and the authorizer', () => {
  it('declares a REQUEST authorizer with simple responses, no cache, and the Authorization header as identity', () => {
    expect(config.provider.httpApi.authorizers.daneAuthorizer).toEqual({
      type: 'request',
      functionName: 'authorizer',
      payloadVersion: '2.0',
      enableSimpleResponses: true,
      resultTtlInSeconds: 0,
      identitySource: ['$request.header.Authorization'],
    });
    expect(config.functions.authorizer?.handler).toBe('functions/http/authorizer.handler');
    expect(config.functions.authorizer?.events ?? []).toEqual([]);
  });

  it('puts the authorizer on every protected route and on no public one', () => {
    expect(events.map((e) => e.key).sort()).toEqual(routes.map(routeKeyOf).sort());
    for (const route of routes) {
      const event = events.find((e) => e.key === routeKeyOf(route));
      expect({ route: routeKeyOf(route), authorizer: event?.authorizer }).toEqual({
        route: routeKeyOf(route),
        authorizer: route.scope === 'public' ? undefined : 'daneAuthorizer',
      });
      expect(event?.fn, routeKeyOf(route)).toBe(route.function);
    }
  });

  it('keeps CORS closed unless a stage opens it, and throttles every route by stage params', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of serverless.yml
    expect(config.provider.httpApi.cors).toBe('${param:cors}');
    expect(config.params.default.cors).toBe(false);
    expect(config.resources[0]).toEqual({
      extensions: {
        HttpApiStage: {
          Properties: {
            DefaultRouteSettings: {
              DetailedMetricsEnabled: false,
              // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of serverless.yml
              ThrottlingRateLimit: '${param:throttleRate}',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of serverless.yml
              ThrottlingBurstLimit: '${param:throttleBurst}',
            },
          },
        },
      },
    });
    expect(config.params.default).toMatchObject({ throttleRate: 50, throttleBurst: 100 });
  });

  it('keeps GET /health public', () => {
    expect(routes.find((route) => route.path === '/health')?.scope).toBe('public');
  });
});
