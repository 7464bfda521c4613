import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as authMe } from '../../functions/http/auth-me.ts';
import { DependencyUnavailableError } from '../../lib/errors.ts';
import { actionApplies, type BulkPorts, bulkAction } from '../../lib/tasks/bulk.ts';
import { categoryOf } from '../../lib/tasks/overview.ts';
import { failureStatesIn } from '../../web/src/format.ts';
import { capabilitiesOf } from '../../web/src/permissions.ts';

describe("the dashboard's permissions come from the scopes /DANE/auth/me answers", () => {
  it('read: data only, no action buttons', () => {
    expect(capabilitiesOf({ scopes: ['read'] })).toEqual({ read: true, act: false, bulk: false });
  });
  it('write: single-task actions; admin: also bulk actions on selections and filters', () => {
    expect(capabilitiesOf({ scopes: ['read', 'write'] })).toEqual({ read: true, act: true, bulk: false });
    expect(capabilitiesOf({ scopes: ['read', 'write', 'admin'] })).toEqual({
      read: true,
      act: true,
      bulk: true,
    });
  });
  it('implies the lower scopes as the server does, and offers nothing without scopes or an answer', () => {
    expect(capabilitiesOf({ scopes: ['admin'] })).toEqual({ read: true, act: true, bulk: true });
    expect(capabilitiesOf({ scopes: ['worker'] })).toEqual({ read: false, act: false, bulk: false });
    expect(capabilitiesOf(undefined)).toEqual({ read: false, act: false, bulk: false });
  });
  it('offers the failure states present in the overview as the failed-tasks filter', () => {
    expect(
      failureStatesIn([
        { '200': 3, '500': 1, '102': 2 },
        { '502': 1, '412': 4, '424': 0 },
      ]),
    ).toEqual([500, 502]);
  });
});

describe('GET /DANE/auth/me', () => {
  const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 1_000 } as Context;
  const event = (lambda?: Record<string, unknown>) =>
    ({
      version: '2.0',
      rawPath: '/DANE/auth/me',
      rawQueryString: '',
      headers: {},
      requestContext: {
        http: { method: 'GET', path: '/DANE/auth/me' },
        ...(lambda ? { authorizer: { lambda } } : {}),
      },
    }) as unknown as APIGatewayProxyEventV2;
  const body = async (lambda?: Record<string, unknown>) =>
    JSON.parse(((await authMe(event(lambda), context)) as { body: string }).body) as unknown;

  it("answers the authorizer's principal with every scope it grants, implied ones included", async () => {
    expect(await body({ principal: 'ops', kind: 'key', scopes: 'write' })).toEqual({
      name: 'ops',
      scopes: ['read', 'write'],
      mode: 'key',
    });
    expect(await body({ principal: 'oidc:ann', kind: 'oidc', scopes: 'read' })).toEqual({
      name: 'oidc:ann',
      scopes: ['read'],
      mode: 'oidc',
    });
  });
  it('without an authorizer context: anonymous with read, write and admin, mode none', async () => {
    expect(await body()).toEqual({ name: 'anonymous', scopes: ['read', 'write', 'admin'], mode: 'none' });
  });
});

describe('the lifecycle rules behind the overview and the bulk actions', () => {
  it('sorts states into categories by the lifecycle: back-off while due, failed once given up', () => {
    expect(categoryOf(502, true)).toBe('backoff');
    expect(categoryOf(502, false)).toBe('failed');
    expect(categoryOf(424, false)).toBe('failed');
    expect(categoryOf(500, false)).toBe('failed');
    expect(categoryOf(422, true)).toBe('unroutable');
    expect(categoryOf(412, true)).toBe('waiting');
    expect(categoryOf(205, true)).toBe('new');
    expect(categoryOf(102, true)).toBe('queued');
    expect(categoryOf(200, false)).toBe('done');
  });
  it('retry skips queued and done tasks; forceretry, reset and delete take any', () => {
    expect([102, 200, 500, 502, 201].map((s) => actionApplies('retry', s))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    for (const action of ['forceretry', 'reset', 'delete'] as const) {
      expect([102, 200, 500].every((s) => actionApplies(action, s))).toBe(true);
    }
  });
});

describe('a bulk retry while the broker is unreachable', () => {
  it('answers 503 (DependencyUnavailableError) after the first page instead of reading every page for nothing', async () => {
    const hit = {
      id: 't1',
      documentId: 'd'.repeat(40),
      seqNo: 1,
      primaryTerm: 1,
      source: { task: { key: 'ASR', state: 500 }, role: { name: 'task' as const, parent: 'd'.repeat(40) } },
    };
    let pagesRead = 0;
    const unreachable = () =>
      Promise.reject(new DependencyUnavailableError('messagequeue', 'connection refused'));
    const ports = {
      store: {} as BulkPorts['store'],
      broker: { connect: unreachable, publish: unreachable } as unknown as BulkPorts['broker'],
      policy: {
        leaseMs: () => 60_000,
        createdGraceMs: 60_000,
        publishGraceMs: 60_000,
        replyGraceMs: 60_000,
        retry: { maxAttempts: 5, baseMs: 1_000, maxMs: 60_000 },
        random: () => 0,
      },
      filters: {
        tasksMatching: async () => {
          pagesRead += 1;
          return { hits: [hit], total: 1, next: ['t1'] };
        },
      } as unknown as BulkPorts['filters'],
    } satisfies BulkPorts;
    await expect(bulkAction('retry', { key: 'ASR' }, {}, new Date(), ports)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    expect(pagesRead).toBe(1);
  });
});
