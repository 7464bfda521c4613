import { describe, expect, it } from 'vitest';
import type { StoredTask, TaskBookkeeping } from '../../lib/model/task.ts';
import {
  applyChange,
  type Decision,
  decide,
  isSettled,
  type LeaseEvidence,
  newTask,
  type Policy,
  REACTS_TO_SIBLINGS,
  resetChange,
  retryDelayMs,
  type Sibling,
  scheduleRetry,
  type TaskEvent,
} from '../../lib/tasks/lifecycle.ts';

// README's "Task lifecycle" tables, row by row, against the pure lifecycle with a fixed clock and no jitter
// (random = 0: every back-off is half its ceiling).
const NOW = new Date('2026-12-01T12:00:00Z');
const T = NOW.getTime();
const MIN = 60_000;
const policy: Policy = {
  leaseMs: (key) => (key === 'ASR' ? 12 * 60 * MIN : 6 * 60 * MIN),
  createdGraceMs: 2 * MIN,
  publishGraceMs: 2 * MIN,
  replyGraceMs: 2 * MIN,
  retry: { maxAttempts: 5, baseMs: MIN, maxMs: 60 * MIN },
  random: () => 0,
};

function task(state: number, dane: Partial<TaskBookkeeping> = {}, key = 'KEY'): StoredTask {
  return {
    task: { key, state, msg: `state ${state}`, priority: 1 },
    role: { name: 'task', parent: 'doc' },
    created_at: '2026-12-01T11:00:00',
    updated_at: '2026-12-01T11:00:00',
    dane: { attempt: 1, retries: 0, due_at: T - 1, claim: 'c1', ...dane },
  };
}

const reply = (state: number, extra: Partial<Extract<TaskEvent, { type: 'reply' }>> = {}): TaskEvent => ({
  type: 'reply',
  reply: { state, message: `reply ${state}`, dependencies: undefined },
  attempt: 1,
  claim: 'c1',
  dependencies: [],
  unfinishedSiblings: [],
  ...extra,
});
const due = (siblings: Sibling[] = []): TaskEvent => ({ type: 'due', siblings });
const claim = (rule: 'run' | 'retry' | 'force' | 'lease'): TaskEvent => ({
  type: 'claim',
  rule,
  claim: 'c2',
});

/** The stored task after the decision, or the reason it was ignored. */
function outcomeOf(source: StoredTask, event: TaskEvent): StoredTask | string {
  const decision = decide(source, event, NOW, policy);
  if (decision.ignore) return decision.reason;
  return decision.change ? applyChange(source, decision.change, NOW) : source;
}
const effectsOf = (decision: Decision) => (decision.ignore ? [] : decision.effects);
const view = (source: StoredTask | string) =>
  typeof source === 'string'
    ? source
    : {
        state: source.task.state,
        msg: source.task.msg,
        ...source.dane,
        updated: source.updated_at !== '2026-12-01T11:00:00',
      };

describe('leases: only a lost message or reply ends one', () => {
  const evidence = (e: Partial<LeaseEvidence>): LeaseEvidence => ({
    queue: { ready: 0, consumers: 1 },
    queueBusyAt: undefined,
    repliesBusyAt: undefined,
    ...e,
  });
  const leaseDue = (e: Partial<LeaseEvidence>): TaskEvent => ({
    type: 'due',
    siblings: [],
    lease: evidence(e),
  });
  const SIX_H = 6 * 60 * MIN;

  it.each<[string, Partial<LeaseEvidence>, number | 'republished']>([
    [
      'its queue drained long ago, no replies waiting: republished',
      { queueBusyAt: T - SIX_H - 1 },
      'republished',
    ],
    ['its queue never seen busy: republished', {}, 'republished'],
    ['no queue of that name: republished (it will come back unroutable)', { queue: null }, 'republished'],
    // A backlog: the task may not have reached a worker yet; the lease counts from the last sight of it.
    [
      'its queue holds messages now: a full lease from now',
      { queue: { ready: 40, consumers: 1 }, queueBusyAt: T },
      T + SIX_H,
    ],
    [
      'its queue drained an hour ago: the rest of a lease from then',
      { queueBusyAt: T - 60 * MIN },
      T + 5 * 60 * MIN,
    ],
    [
      'no consumer and a backlog: waits (nothing is lost)',
      { queue: { ready: 3, consumers: 0 }, queueBusyAt: T },
      T + SIX_H,
    ],
    // Replies not yet applied (e.g. after a store outage) may answer it: no lease ends before they are.
    ['replies waiting now: looked at again after the reply grace', { repliesBusyAt: T }, T + 2 * MIN],
    ['replies waited until a minute ago: one more minute', { repliesBusyAt: T - MIN }, T + MIN],
    ['replies drained longer ago than the grace: republished', { repliesBusyAt: T - 3 * MIN }, 'republished'],
  ])('%s', (_, e, expected) => {
    const source = task(102, { retries: 1 });
    const decision = decide(source, leaseDue(e), NOW, policy);
    if (expected === 'republished') {
      expect(effectsOf(decision)).toEqual([{ type: 'publish', rule: 'lease' }]);
      return;
    }
    expect(effectsOf(decision)).toEqual([]);
    // Bookkeeping only: no attempt used, no state change, updated_at untouched.
    expect(view(outcomeOf(source, leaseDue(e)))).toMatchObject({
      state: 102,
      retries: 1,
      due_at: expected,
      updated: false,
    });
  });

  it('giving up says what was observed', () => {
    expect(
      view(outcomeOf(task(102, { retries: 5 }, 'ASR'), leaseDue({ queue: { ready: 0, consumers: 2 } }))),
    ).toMatchObject({
      state: 500,
      msg: 'No reply within the lease after 5 attempts (queue ASR: 0 waiting, 2 consumers)',
    });
    expect(view(outcomeOf(task(102, { retries: 5 }), leaseDue({ queue: null })))).toMatchObject({
      msg: 'No reply within the lease after 5 attempts (no queue named KEY)',
    });
  });
});

describe('back-off', () => {
  const jitter = (r: number): Policy => ({ ...policy, random: () => r });
  it('doubles from the base delay, with equal jitter between half and all of it, capped at the maximum', () => {
    expect(retryDelayMs(0, jitter(0))).toBe(30_000);
    expect(retryDelayMs(0, jitter(1))).toBe(60_000);
    expect(retryDelayMs(3, jitter(1))).toBe(480_000);
    expect(retryDelayMs(20, jitter(1))).toBe(3_600_000);
    expect(retryDelayMs(1_000, jitter(0))).toBe(1_800_000);
  });
  it('counts retries and stops being due once the attempts are used up', () => {
    expect(scheduleRetry(0, 1_000, policy)).toEqual({ retries: 1, due_at: 31_000 });
    expect(scheduleRetry(4, 0, jitter(1))).toEqual({ retries: 5, due_at: 960_000 });
    expect(scheduleRetry(5, 0, policy)).toEqual({ retries: 5, due_at: null });
  });
});

describe('states table: what happens next', () => {
  it.each<[string, StoredTask, TaskEvent, unknown]>([
    // 201 Created / Reset: published at once; the sweep publishes it if nobody did within the grace.
    [
      '201 is due after the grace',
      newTask({ key: 'K', priority: 1, args: {} }, 'doc', NOW, policy, 'C'),
      due(),
      undefined,
    ],
    // 102 Queued: after the lease the sweep republishes it as a new attempt, and gives it up after the limit.
    ['102 past its lease is republished', task(102, { retries: 2 }), due(), undefined],
    [
      '102 past its lease after the last attempt is given up',
      task(102, { retries: 5 }),
      due(),
      { state: 500, msg: 'No reply within the lease after 5 attempts (queue not observed)', due_at: null },
    ],
    // 412: checked by the sweep; its dependencies done: published; one failed: released; else looked at later.
    [
      '412 whose dependency is still running is looked at again after RETRY_MAX_MS',
      task(412, { waiting_on: ['DEP'] }),
      due([{ key: 'DEP', state: 102, msg: 'Queued' }]),
      { state: 412, due_at: T + 60 * MIN, updated: false },
    ],
    [
      '412 whose dependency failed for good becomes 424',
      task(412, { waiting_on: ['DEP'] }),
      due([{ key: 'DEP', state: 500, msg: 'boom' }]),
      {
        state: 424,
        msg: 'Dependency `DEP` failed: boom',
        due_at: null,
        last_error: 'Dependency `DEP` failed: boom',
      },
    ],
    [
      '412 whose dependency used up its retries becomes 424',
      task(412, { waiting_on: ['DEP'] }),
      due([{ key: 'DEP', state: 503, msg: 'down', dane: { due_at: null } }]),
      { state: 424, msg: 'Dependency `DEP` failed: down' },
    ],
    // Settled tasks are not due; one that is anyway is taken off the sweep's list.
    [
      'a final error that is due is taken off the list',
      task(500),
      due(),
      { state: 500, due_at: null, updated: false },
    ],
  ])('%s', (_name, source, event, expected) => {
    const result = outcomeOf(source, event);
    if (expected === undefined) {
      expect(effectsOf(decide(source, event, NOW, policy))).toContainEqual({
        type: 'publish',
        rule: expect.any(String),
      });
    } else expect(view(result)).toMatchObject(expected as object);
  });

  it.each([
    [201, 'run'],
    [205, 'run'],
    [422, 'run'],
    [502, 'run'],
    [503, 'run'],
    [102, 'lease'],
  ])('%i found due is published with rule %s', (state, rule) => {
    expect(effectsOf(decide(task(state), due(), NOW, policy))).toEqual([{ type: 'publish', rule }]);
  });

  it('412 whose dependencies are all done, or gone, is published', () => {
    const source = task(412, { waiting_on: ['DONE', 'GONE'] });
    expect(effectsOf(decide(source, due([{ key: 'DONE', state: 200, msg: 'ok' }]), NOW, policy))).toEqual([
      { type: 'publish', rule: 'run' },
    ]);
  });
});

describe('claims (Publishing)', () => {
  it.each<[number, 'run' | 'retry' | 'force' | 'lease', boolean]>([
    [201, 'run', true],
    [205, 'run', true],
    [412, 'run', true],
    [422, 'run', true],
    [424, 'run', true],
    [502, 'run', true],
    [503, 'run', true],
    [102, 'run', false],
    [200, 'run', false],
    [500, 'run', false],
    [500, 'retry', true],
    [102, 'retry', false],
    [200, 'retry', false],
    [102, 'force', true],
    [200, 'force', true],
    [102, 'lease', true],
    [201, 'lease', false],
  ])('%i with rule %s: claimed %s', (state, rule, claimed) => {
    expect(typeof outcomeOf(task(state), claim(rule)) !== 'string').toBe(claimed);
  });

  it('moves to 102 with the next attempt and a new token, due after the publish grace', () => {
    expect(
      view(outcomeOf(task(201, { attempt: 3, retries: 2, last_error: 'x' }), claim('run'))),
    ).toMatchObject({
      state: 102,
      msg: 'Queued',
      attempt: 4,
      claim: 'c2',
      retries: 2,
      due_at: T + 2 * MIN,
      last_error: null,
      unconfirmed: null,
      updated: true,
    });
  });

  it('a person starts the automatic retries afresh; a lease expiry uses one up', () => {
    expect(view(outcomeOf(task(500, { retries: 4 }), claim('retry')))).toMatchObject({ retries: 0 });
    expect(view(outcomeOf(task(102, { retries: 4 }), claim('force')))).toMatchObject({ retries: 0 });
    expect(view(outcomeOf(task(102, { retries: 4 }), claim('lease')))).toMatchObject({ retries: 5 });
  });

  it('the broker down: nothing is claimed, state and due time stay', () => {
    expect(outcomeOf(task(201), { type: 'broker-down' })).toBe('broker down');
  });

  it('a confirmed publish is due at the end of the lease of its key', () => {
    expect(view(outcomeOf(task(102, {}, 'ASR'), { type: 'publish-confirmed' }))).toMatchObject({
      state: 102,
      due_at: T + 12 * 60 * MIN,
      updated: false,
    });
  });

  it('a returned publish is 422, retried with back-off and never given up', () => {
    const returned: TaskEvent = { type: 'publish-returned', routingKey: 'Video.KEY' };
    expect(view(outcomeOf(task(102, { retries: 0 }), returned))).toMatchObject({
      state: 422,
      msg: 'Unroutable task',
      retries: 1,
      due_at: T + 30_000,
      last_error: 'No queue bound for Video.KEY',
    });
    // Attempts used up: still due, at the back-off of the last attempt (ceiling 32 min, no jitter: 16).
    expect(view(outcomeOf(task(102, { retries: 5 }), returned))).toMatchObject({
      state: 422,
      retries: 5,
      due_at: T + 16 * MIN,
    });
  });

  it('a publish the broker did not confirm is 503 without using up an attempt; a reply to it counts', () => {
    expect(
      view(outcomeOf(task(102, { attempt: 2, retries: 1 }), { type: 'publish-failed', reason: 'nack' })),
    ).toMatchObject({
      state: 503,
      msg: 'Publishing to the message queue failed: nack',
      retries: 1,
      due_at: T + MIN,
      unconfirmed: 2,
      last_error: 'nack',
    });
  });

  it('a task whose document is gone is 500 and settled', () => {
    expect(view(outcomeOf(task(201), { type: 'orphaned', documentId: 'doc' }))).toMatchObject({
      state: 500,
      msg: 'Parent document doc not found',
      due_at: null,
    });
  });
});

describe('replies', () => {
  it('applies only to the attempt in flight: stale, other incarnation, duplicate', () => {
    expect(outcomeOf(task(102, { attempt: 2 }), reply(200))).toBe('stale');
    expect(outcomeOf(task(102), reply(200, { claim: 'other' }))).toBe('stale');
    expect(outcomeOf(task(200), reply(500))).toBe('duplicate');
  });

  it('takes a bare task id while queued, and the reply to an unconfirmed publish', () => {
    expect(view(outcomeOf(task(102), reply(200, { attempt: undefined, claim: undefined })))).toMatchObject({
      state: 200,
    });
    expect(view(outcomeOf(task(503, { unconfirmed: 1 }), reply(200)))).toMatchObject({
      state: 200,
      unconfirmed: null,
    });
  });

  it('200: done, bookkeeping cleared, the siblings told', () => {
    const source = task(102, { retries: 3, last_error: 'x', waiting_on: ['A'] });
    expect(view(outcomeOf(source, reply(200)))).toMatchObject({
      state: 200,
      msg: 'reply 200',
      due_at: null,
      retries: 0,
      last_error: null,
      waiting_on: null,
    });
    expect(effectsOf(decide(source, reply(200), NOW, policy))).toEqual([
      { type: 'notify-siblings', event: { type: 'dependency-succeeded', key: 'KEY' } },
    ]);
  });

  it('412 naming dependencies: waits on them, counts a retry, creates them, runs the new siblings', () => {
    const event = reply(412, { dependencies: [{ key: 'DEP', priority: 1, args: {} }] });
    expect(view(outcomeOf(task(102, { retries: 1 }), event))).toMatchObject({
      state: 412,
      retries: 2,
      due_at: T + MIN,
      waiting_on: ['DEP'],
    });
    expect(effectsOf(decide(task(102), event, NOW, policy))).toEqual([
      { type: 'create-dependencies', specs: [{ key: 'DEP', priority: 1, args: {} }] },
      { type: 'notify-siblings', event: { type: 'sibling-waiting' } },
    ]);
  });

  it('412 naming nothing waits on the unfinished siblings', () => {
    expect(view(outcomeOf(task(102), reply(412, { unfinishedSiblings: ['A', 'B'] })))).toMatchObject({
      waiting_on: ['A', 'B'],
    });
  });

  it('502/503: retried with back-off up to the limit, then left as they are and their dependants released', () => {
    expect(view(outcomeOf(task(102, { retries: 0 }), reply(502)))).toMatchObject({
      state: 502,
      retries: 1,
      due_at: T + 30_000,
      last_error: 'reply 502',
    });
    const exhausted = decide(task(102, { retries: 5 }), reply(503), NOW, policy);
    expect(view(outcomeOf(task(102, { retries: 5 }), reply(503)))).toMatchObject({
      state: 503,
      due_at: null,
    });
    expect(effectsOf(exhausted)).toEqual([{ type: 'release-dependants', key: 'KEY', message: 'reply 503' }]);
  });

  it.each([400, 403, 404, 500, 424, 999])('%i: failed, left for a person, dependants released', (state) => {
    expect(view(outcomeOf(task(102), reply(state)))).toMatchObject({
      state,
      due_at: null,
      last_error: `reply ${state}`,
    });
    expect(effectsOf(decide(task(102), reply(state), NOW, policy))).toEqual([
      { type: 'release-dependants', key: 'KEY', message: `reply ${state}` },
    ]);
  });

  it('102 from a worker keeps the lease running; 201/205 are published again after the grace', () => {
    expect(view(outcomeOf(task(102, { due_at: T + 5 * MIN }), reply(102)))).toMatchObject({
      state: 102,
      due_at: T + 5 * MIN,
    });
    expect(view(outcomeOf(task(102, { due_at: null }), reply(102)))).toMatchObject({
      due_at: T + 6 * 60 * MIN,
    });
    expect(view(outcomeOf(task(102), reply(201)))).toMatchObject({ state: 201, due_at: T + 2 * MIN });
    expect(view(outcomeOf(task(102), reply(205)))).toMatchObject({ state: 205, due_at: T + 2 * MIN });
  });

  it('422 from a worker is tried again like an unroutable publish', () => {
    expect(view(outcomeOf(task(102, { retries: 5 }), reply(422)))).toMatchObject({
      state: 422,
      due_at: T + 16 * MIN,
    });
  });
});

describe('dependencies', () => {
  const succeeded: TaskEvent = { type: 'dependency-succeeded', key: 'DEP' };
  it.each<[string, StoredTask, boolean]>([
    ['201', task(201), true],
    ['412', task(412, { waiting_on: ['OTHER'] }), true],
    ['424 released by this key', task(424, { waiting_on: ['DEP'] }), true],
    ['424 released by another key', task(424, { waiting_on: ['OTHER'] }), false],
    ['102', task(102), false],
    ['500', task(500), false],
  ])('a dependency succeeded: %s runs again: %s', (_name, source, runs) => {
    const effects = effectsOf(decide(source, succeeded, NOW, policy));
    expect(effects.some((e) => e.type === 'publish')).toBe(runs);
  });

  it('a sibling waiting on dependencies: tasks nobody published yet go with it', () => {
    expect(effectsOf(decide(task(201), { type: 'sibling-waiting' }, NOW, policy))).toEqual([
      { type: 'publish', rule: 'run' },
    ]);
    expect(outcomeOf(task(412), { type: 'sibling-waiting' })).toBe('not new');
  });

  // Reply follow-ups search only for siblings in REACTS_TO_SIBLINGS: a task in any other state must ignore every
  // sibling event, whatever its bookkeeping says, or a follow-up would miss it.
  it.each([102, 200, 205, 400, 404, 422, 500, 502, 503])(
    'a task in state %i ignores every sibling event (not in REACTS_TO_SIBLINGS)',
    (state) => {
      expect(REACTS_TO_SIBLINGS).not.toContain(state);
      const source = task(state, { waiting_on: ['DEP'], due_at: T + MIN });
      for (const event of [
        { type: 'dependency-succeeded', key: 'DEP' },
        { type: 'sibling-waiting' },
        { type: 'dependency-failed', key: 'DEP', message: 'boom' },
      ] as TaskEvent[]) {
        expect(decide(source, event, NOW, policy).ignore).toBe(true);
      }
    },
  );

  it('a dependency failed for good: the tasks waiting on it become 424, and tell theirs', () => {
    const event: TaskEvent = { type: 'dependency-failed', key: 'DEP', message: 'boom' };
    const waiting = task(412, { waiting_on: ['DEP'] }, 'MINE');
    expect(view(outcomeOf(waiting, event))).toMatchObject({
      state: 424,
      msg: 'Dependency `DEP` failed: boom',
      due_at: null,
    });
    expect(effectsOf(decide(waiting, event, NOW, policy))).toEqual([
      { type: 'release-dependants', key: 'MINE', message: 'Dependency `DEP` failed: boom' },
    ]);
    expect(outcomeOf(task(412, { waiting_on: ['OTHER'] }), event)).toBe('not waiting on it');
    expect(outcomeOf(task(201), event)).toBe('not waiting on it');
  });
});

describe('resets: one rule for the single and the mass reset', () => {
  const traces = { retries: 4, last_error: 'x', waiting_on: ['A'], unconfirmed: 3, due_at: null };
  const cleared = { due_at: T, retries: 0, last_error: null, waiting_on: null, unconfirmed: null };
  it('reset: 201 "Reset", due now', () => {
    expect(view(outcomeOf(task(500, traces), { type: 'reset' }))).toMatchObject({
      state: 201,
      msg: 'Reset',
      ...cleared,
    });
  });
  it('mass reset: 205 "Manual reset", due now, the same bookkeeping; never of queued or reset tasks', () => {
    expect(view(outcomeOf(task(500, traces), { type: 'mass-reset' }))).toMatchObject({
      state: 205,
      msg: 'Manual reset',
      ...cleared,
    });
    expect(resetChange(T, 205).dane).toEqual(resetChange(T, 201).dane);
    expect(outcomeOf(task(102), { type: 'mass-reset' })).toBe('queued or reset');
    expect(outcomeOf(task(205), { type: 'mass-reset' })).toBe('queued or reset');
  });
});

describe('the guarantee: no path stores a task that nothing will look at again', () => {
  const states = [102, 200, 201, 205, 400, 403, 404, 412, 422, 424, 500, 502, 503, 999];
  const events: TaskEvent[] = [
    { type: 'broker-down' },
    claim('run'),
    claim('retry'),
    claim('force'),
    claim('lease'),
    { type: 'orphaned', documentId: 'doc' },
    { type: 'publish-confirmed' },
    { type: 'publish-returned', routingKey: 'Video.KEY' },
    { type: 'publish-failed', reason: 'nack' },
    ...states.map((s) => reply(s)),
    ...states.map((s) => reply(s, { unfinishedSiblings: ['A'] })),
    due(),
    due(states.map((s) => ({ key: `S${s}`, state: s, msg: null }))),
    {
      type: 'due',
      siblings: [],
      lease: { queue: { ready: 5, consumers: 0 }, queueBusyAt: T, repliesBusyAt: T },
    },
    { type: 'dependency-succeeded', key: 'DEP' },
    { type: 'sibling-waiting' },
    { type: 'dependency-failed', key: 'DEP', message: 'boom' },
    { type: 'reset' },
    { type: 'mass-reset' },
  ];
  const bookkeeping: Array<Partial<TaskBookkeeping>> = [
    {},
    { retries: 5 },
    { due_at: null },
    { waiting_on: ['DEP'] },
    { unconfirmed: 1 },
  ];
  const cases = states.flatMap((s) => bookkeeping.map((b) => task(s, b)));

  it(`holds for ${cases.length} tasks x ${events.length} events`, () => {
    let changed = 0;
    for (const source of cases) {
      for (const event of events) {
        // decide() itself throws on a violation; the check is repeated here so the test states it.
        const decision = decide(source, event, NOW, policy);
        if (decision.ignore || !decision.change) continue;
        changed += 1;
        const next = applyChange(source, decision.change, NOW);
        expect(isSettled(next.task.state, next.dane) || next.dane?.due_at != null).toBe(true);
      }
    }
    expect(changed).toBeGreaterThan(500);
  });

  it('a new task is due', () => {
    expect(newTask({ key: 'K', priority: 1, args: {} }, 'doc', NOW, policy, 'C').dane?.due_at).toBe(
      T + 2 * MIN,
    );
  });

  it('a new task carries its creator, and no creator key when the creator is unknown', () => {
    expect(newTask({ key: 'K', priority: 1, args: {} }, 'doc', NOW, policy, 'C').dane?.creator).toBe('C');
    expect(
      newTask({ key: 'K', priority: 1, args: {} }, 'doc', NOW, policy, undefined).dane,
    ).not.toHaveProperty('creator');
  });
});
