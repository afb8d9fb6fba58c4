// Proves the Keeper's own duties — client-side validation without a round trip, call order across
// barriers, OPERATIONTIMEOUT, session expiry and disconnection, close() draining, throwing
// watchers, watch removal at the serving peer — which a healthy standalone peer cannot provoke.
// It drives the Keeper through a test double of ServingApi (below, never shipped) built on the real
// data tree and watch manager, whose answers can be paused, and which can expire a session. The
// API suite also runs against the double here, so a failure can be told apart from a peer bug.
import { describe, expect, it } from 'vitest';
import type { FailureName } from '../core/errors.js';
import { KeeperError } from '../core/errors.js';
import { TreeHarness, WatchManager, watchForRead } from '../core/tree/index.js';
import type { Id, ReadRequest, WatchTrigger, WriteRequest } from '../core/tree/types.js';
import type { Done, LocalSession, ServingApi, SessionListener, SessionRequest, SessionResult, SessionState } from '../peer/serving-api.js';
import { defineApiSuite, type Connect } from './api-suite.js';
import type { KeeperHost } from './host.js';
import { Keeper } from './keeper.js';
import { OPEN_SESSION_ATTEMPTS_MAX } from './limits.js';
import type { KeeperStatus, WatchedEvent } from './types.js';

const READ_OPS: ReadonlySet<string> = new Set(['getData', 'exists', 'getChildren', 'getACL', 'getEphemerals', 'getAllChildrenNumber', 'sync']);

/** A ServingApi on one in-memory tree: requests run in order from a task queue (asynchronously,
 *  like a real peer), events go out before the answer of the request that caused them. */
class DoubleServing implements ServingApi {
  readonly peerId = 'double-peer';
  readonly harness = new TreeHarness();
  readonly watches = new WatchManager();
  readonly sessions = new Map<string, { listener: SessionListener; auth: Id[] }>();
  readonly submitted: SessionRequest[] = [];
  /** Answers nothing while paused (requests wait in the queue). */
  paused = false;
  /** closeSession is never answered when set. */
  ignoreClose = false;
  /** The session timeout the double negotiates (defaults to what was asked). */
  negotiatedTimeoutMs: number | null = null;
  /** The next openSession calls fail with these codes, one each, before any succeeds. */
  readonly openFailures: FailureName[] = [];
  private readonly tasks: (() => void)[] = [];
  private scheduled = false;
  private sessionCount = 0;

  openSession(options: { timeoutMs: number; listener: SessionListener }, done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName }>): void {
    this.sessionCount += 1;
    const failure = this.openFailures.shift();
    if (failure !== undefined) {
      this.later(() => done({ ok: false, code: failure }));
      return;
    }
    const sessionId = `double-session-${this.sessionCount}`;
    const timeoutMs = this.negotiatedTimeoutMs ?? options.timeoutMs;
    this.later(() => {
      this.harness.openSession(sessionId, timeoutMs);
      this.sessions.set(sessionId, { listener: options.listener, auth: [] });
      done({ ok: true, session: { sessionId, timeoutMs } });
    });
  }

  closeSession(sessionId: string, done: Done<{ ok: true } | { ok: false; code: FailureName }>): void {
    if (this.ignoreClose) return;
    this.later(() => {
      if (!this.end(sessionId, 'closed')) done({ ok: false, code: 'SESSIONEXPIRED' });
      else done({ ok: true });
    });
  }

  addAuth(sessionId: string, id: Id): void {
    this.later(() => this.sessions.get(sessionId)?.auth.push(id));
  }

  submit(sessionId: string, request: SessionRequest, done: Done<SessionResult>): void {
    this.submitted.push(request);
    this.later(() => done(this.execute(sessionId, request)));
  }

  /** The ensemble expires the session (its ephemerals go, its listener hears 'expired'). */
  expire(sessionId: string): void {
    this.later(() => this.end(sessionId, 'expired'));
  }

  tellState(sessionId: string, state: SessionState): void {
    this.sessions.get(sessionId)?.listener.state(state);
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  private end(sessionId: string, state: 'closed' | 'expired'): boolean {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return false;
    const run = this.harness.run({ op: 'closeSession', sessionId });
    this.notify(run.triggers);
    this.watches.removeWatcher(sessionId);
    this.sessions.delete(sessionId);
    session.listener.state(state);
    return true;
  }

  private execute(sessionId: string, request: SessionRequest): SessionResult {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return { ok: false, code: 'SESSIONEXPIRED' };
    if (request.op === 'addWatch') {
      const outcome = this.watches.addWatch(sessionId, request.path, request.mode);
      return outcome.ok ? { ok: true, op: 'addWatch' } : { ok: false, code: outcome.code };
    }
    if (request.op === 'removeWatches') {
      const outcome = this.watches.remove(sessionId, request.path, request.kind);
      return outcome.ok ? { ok: true, op: 'removeWatches' } : { ok: false, code: outcome.code };
    }
    if (READ_OPS.has(request.op)) {
      const read = request as ReadRequest;
      const result = this.harness.tree.read(read, { sessionId, auth: session.auth });
      watchForRead(this.watches, sessionId, read, result);
      return result;
    }
    const run = this.harness.run(request as WriteRequest, { sessionId, auth: session.auth });
    this.notify(run.triggers);
    return run.result;
  }

  private notify(triggers: readonly WatchTrigger[]): void {
    const events = this.watches.trigger(triggers, (watcher) => this.sessions.get(watcher)?.auth ?? []);
    for (const event of events) this.sessions.get(event.watcher)?.listener.event(event);
  }

  private later(task: () => void): void {
    this.tasks.push(task);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.paused) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      while (!this.paused) {
        const task = this.tasks.shift();
        if (task === undefined) break;
        task();
      }
    }, 0);
  }
}

const STATUS: KeeperStatus = {
  peerId: 'double-peer',
  role: 'leader',
  term: 1,
  leaderId: 'double-peer',
  commitIndex: 1,
  appliedIndex: 1,
  voters: ['double-peer'],
  observers: [],
  quorum: true,
  votersShareDomain: false,
};

interface Fixture {
  serving: DoubleServing;
  host: KeeperHost & { released: number; statusListeners: Set<(s: KeeperStatus) => void> };
  reported: { error: unknown; context: string }[];
  open(options?: { requestTimeoutMs?: number; sessionTimeoutMs?: number }): Promise<Keeper>;
}

function fixture(serving = new DoubleServing()): Fixture {
  const statusListeners = new Set<(s: KeeperStatus) => void>();
  const host = {
    serving,
    released: 0,
    statusListeners,
    status: () => STATUS,
    onStatus: (listener: (s: KeeperStatus) => void) => {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    release: async () => {
      host.released += 1;
    },
  };
  const reported: Fixture['reported'] = [];
  return {
    serving,
    host,
    reported,
    open: (options = {}) =>
      Keeper.open(host, {
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        requestTimeoutMs: options.requestTimeoutMs ?? 0,
        report: (error, context) => reported.push({ error, context }),
      }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<KeeperError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KeeperError);
    return error as KeeperError;
  }
  throw new Error('expected a rejection');
}

/** Reorders the double's queue: its last task runs first. */
function moveLastTaskFirst(serving: DoubleServing): void {
  const tasks = (serving as unknown as { tasks: (() => void)[] }).tasks;
  const last = tasks.pop();
  if (last !== undefined) tasks.unshift(last);
}

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The API suite against the double: checks the suite and the client apart from any peer.
const connectDouble: Connect = async () => {
  const f = fixture();
  const keeper = await f.open();
  return { keeper, connectAnother: () => f.open(), cleanup: () => keeper.close() };
};
defineApiSuite('ServingApi double', connectDouble, { describe, it });

describe('Keeper: client-side checks', () => {
  it('refuses malformed arguments with BADARGUMENTS and sends nothing (PathUtils in the Java client)', async () => {
    const f = fixture();
    const keeper = await f.open();
    const before = f.serving.submitted.length;
    for (const call of [
      keeper.create('no-slash'),
      keeper.create('/a/', 'x'),
      keeper.getData('/a//b'),
      keeper.setData('/a', 'x', 0.5),
      keeper.exists('/a', { watch: 3 as never }),
      keeper.multi([{ op: 'create', path: '/ok' }, { op: 'check', path: '/x' } as never]),
      keeper.create('/t', '', { mode: 'persistent_ttl' }),
    ]) {
      expect((await rejection(call)).code).toBe('BADARGUMENTS');
    }
    expect((await rejection(keeper.create('/a', '', { acl: [] }))).code).toBe('INVALIDACL');
    expect(f.serving.submitted.length).toBe(before);
    await keeper.close();
  });

  it('returns one settled promise per call, never a synchronous throw', () => {
    const f = fixture();
    return f.open().then(async (keeper) => {
      const promise = keeper.create(42 as never);
      expect(promise).toBeInstanceOf(Promise);
      expect((await rejection(promise)).code).toBe('BADARGUMENTS');
      await keeper.close();
    });
  });
});

describe('Keeper: opening the session', () => {
  it('tries again after CONNECTIONLOSS (a joining peer installing a snapshot), a bounded number of times', async () => {
    const retried = fixture();
    retried.serving.openFailures.push('CONNECTIONLOSS', 'CONNECTIONLOSS');
    const keeper = await retried.open();
    expect(keeper.state).toBe('connected');
    expect(keeper.sessionId).toBe('double-session-3');
    await keeper.close();

    const lost = fixture();
    lost.serving.openFailures.push(...Array.from({ length: OPEN_SESSION_ATTEMPTS_MAX }, () => 'CONNECTIONLOSS' as const));
    expect((await rejection(lost.open())).code).toBe('CONNECTIONLOSS');
    expect(lost.host.released).toBe(1);
  });

  it('does not try again after an answer that says why (QUOTAEXCEEDED)', async () => {
    const refused = fixture();
    refused.serving.openFailures.push('QUOTAEXCEEDED', 'CONNECTIONLOSS');
    expect((await rejection(refused.open())).code).toBe('QUOTAEXCEEDED');
    expect(refused.serving.openFailures).toEqual(['CONNECTIONLOSS']); // no second attempt
  });
});

describe('Keeper: order', () => {
  it('keeps calls behind an addAuthInfo barrier in issue order', async () => {
    const f = fixture();
    const keeper = await f.open();
    const order: string[] = [];
    const a = keeper.create('/a').then(() => order.push('create /a'));
    const auth = keeper.addAuthInfo('digest', 'u:p').then(() => order.push('auth'));
    const b = keeper.create('/b', '', { acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }] }).then(() => order.push('create /b'));
    await Promise.all([a, auth, b]);
    expect(order).toEqual(['create /a', 'auth', 'create /b']);
    expect(f.serving.submitted.map((r) => ('path' in r ? `${r.op} ${r.path}` : r.op))).toEqual(['create /a', 'create /b']);
    await keeper.close();
  });

  it('settles pipelined promises in answer order whatever the call', async () => {
    const f = fixture();
    const keeper = await f.open();
    await keeper.create('/p');
    f.serving.paused = true;
    const order: number[] = [];
    const calls = [
      keeper.delete('/p'),
      keeper.exists('/p'),
      keeper.create('/p'),
      keeper.sync('/p'),
      keeper.getData('/p'),
      keeper.setData('/p', 'x'),
      keeper.getChildren('/p'),
    ].map((call, index) => call.then(() => order.push(index)));
    f.serving.resume();
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await keeper.close();
  });
});

describe('Keeper: unknown outcomes and the end of a session', () => {
  it('fails a call not answered within requestTimeoutMs with OPERATIONTIMEOUT and ignores the late answer', async () => {
    const f = fixture();
    const keeper = await f.open({ requestTimeoutMs: 30 });
    f.serving.paused = true;
    const error = await rejection(keeper.create('/slow'));
    expect(error.code).toBe('OPERATIONTIMEOUT');
    expect(error.errno).toBe(-7);
    f.serving.resume();
    await tick(5);
    // The outcome was unknown: here the create did happen.
    expect(await keeper.exists('/slow')).not.toBeNull();
    await keeper.close();
  });

  it('on expiry: state expired, calls the peer held SESSIONEXPIRED, later calls SESSIONEXPIRED, watches dropped, peer released', async () => {
    const f = fixture();
    const keeper = await f.open();
    const other = await f.open();
    await keeper.create('/e', '', { mode: 'ephemeral' });
    const events: WatchedEvent[] = [];
    await keeper.exists('/x', { watch: (e) => events.push(e) });
    const states: string[] = [];
    keeper.on('state', (s) => states.push(s));
    f.serving.paused = true;
    const inFlight = keeper.setData('/e', 'x');
    f.serving.expire(keeper.sessionId);
    moveLastTaskFirst(f.serving); // the ensemble expires the session before the setData is served
    f.serving.resume();
    expect((await rejection(inFlight)).code).toBe('SESSIONEXPIRED');
    expect(states).toEqual(['expired']);
    expect(keeper.state).toBe('expired');
    const late = await rejection(keeper.getData('/'));
    expect(late.code).toBe('SESSIONEXPIRED');
    expect(late.message).toContain('expired');
    await other.create('/x');
    await other.sync('/x');
    expect(events).toEqual([]);
    expect(await other.exists('/e')).toBeNull();
    await keeper.close();
    expect(f.host.released).toBe(1);
    await other.close();
    expect(f.host.released).toBe(2);
  });

  it('on expiry, a call the peer never answers fails with CONNECTIONLOSS (outcome unknown)', async () => {
    const f = fixture();
    const keeper = await f.open();
    f.serving.paused = true;
    const lost = keeper.create('/lost');
    f.serving.tellState(keeper.sessionId, 'expired');
    expect(keeper.state).toBe('expired');
    expect((await rejection(lost)).code).toBe('CONNECTIONLOSS');
    await keeper.close();
    expect(f.host.released).toBe(1);
  });

  it('reports disconnected and connected again from the serving peer', async () => {
    const f = fixture();
    const keeper = await f.open();
    const states: string[] = [];
    keeper.on('state', (s) => states.push(s));
    f.serving.tellState(keeper.sessionId, 'disconnected');
    f.serving.tellState(keeper.sessionId, 'connected');
    expect(states).toEqual(['disconnected', 'connected']);
    await keeper.close();
    expect(states).toEqual(['disconnected', 'connected', 'closed']);
  });

  it('close() lets the calls issued before it finish, then closes; later calls are SESSIONEXPIRED', async () => {
    const f = fixture();
    const keeper = await f.open();
    f.serving.paused = true;
    const write = keeper.create('/before-close', 'x');
    const closing = keeper.close();
    const after = keeper.create('/after-close');
    expect((await rejection(after)).code).toBe('SESSIONEXPIRED');
    f.serving.resume();
    expect(await write).toBe('/before-close');
    await closing;
    expect(keeper.state).toBe('closed');
    expect(f.host.released).toBe(1);
    expect(keeper.close()).toBe(closing);
  });

  it('close() right after addAuthInfo and removeWatches lets them finish first (they were issued before it)', async () => {
    const f = fixture();
    const keeper = await f.open();
    await keeper.create('/w');
    const watcher = (): void => undefined;
    await keeper.getData('/w', { watch: watcher });
    const auth = keeper.addAuthInfo('digest', 'u:p');
    const removal = keeper.removeWatches('/w', watcher);
    const closing = keeper.close();
    await auth;
    await removal;
    await closing;
    expect(keeper.state).toBe('closed');
  });

  it('close() gives up on a peer that never answers after one session timeout', async () => {
    const f = fixture();
    f.serving.negotiatedTimeoutMs = 40;
    const keeper = await f.open();
    f.serving.ignoreClose = true;
    f.serving.paused = true;
    const stuck = keeper.getData('/');
    await keeper.close();
    expect(keeper.state).toBe('closed');
    expect((await rejection(stuck)).code).toBe('CONNECTIONLOSS');
  });

  it('a submit that throws fails its call with CONNECTIONLOSS and is reported', async () => {
    const f = fixture();
    const keeper = await f.open();
    const original = f.serving.submit.bind(f.serving);
    f.serving.submit = () => {
      throw new Error('peer bug');
    };
    expect((await rejection(keeper.getData('/'))).code).toBe('CONNECTIONLOSS');
    expect(f.reported.map((r) => r.context)).toEqual(["the serving peer's submit(getData)"]);
    f.serving.submit = original;
    await keeper.close();
  });
});

describe('Keeper: watches', () => {
  it('a watcher that throws is reported and the others still run', async () => {
    const f = fixture();
    const keeper = await f.open();
    await keeper.create('/w');
    const calls: string[] = [];
    await keeper.getData('/w', {
      watch: () => {
        calls.push('first');
        throw new Error('watcher bug');
      },
    });
    await keeper.exists('/w', { watch: () => calls.push('second') });
    await keeper.setData('/w', 'x');
    expect(calls.sort()).toEqual(['first', 'second']);
    expect(f.reported).toHaveLength(1);
    expect(f.reported[0]?.context).toBe('a watcher for NodeDataChanged /w');
    await keeper.close();
  });

  it("removes the serving peer's watch only when no watcher of the keeper needs it", async () => {
    const f = fixture();
    const keeper = await f.open();
    await keeper.create('/w');
    const a = (): void => undefined;
    const b = (): void => undefined;
    await keeper.getData('/w', { watch: a });
    await keeper.exists('/w', { watch: b });
    await keeper.addWatch('/w', 'persistent_recursive', a);
    expect(f.serving.watches.has(keeper.sessionId, '/w', 'data')).toBe(true);
    await keeper.removeWatches('/w', a);
    expect(f.serving.watches.has(keeper.sessionId, '/w', 'data')).toBe(true); // b still needs it
    expect(f.serving.watches.has(keeper.sessionId, '/w', 'persistent_recursive')).toBe(false);
    await keeper.removeWatches('/w', b);
    expect(f.serving.watches.size).toBe(0);
    await keeper.close();
  });

  it('emits status from the serving peer until closed, and delegates status()', async () => {
    const f = fixture();
    const keeper = await f.open();
    expect(keeper.status()).toEqual(STATUS);
    const seen: KeeperStatus[] = [];
    keeper.on('status', (s) => seen.push(s));
    for (const listener of f.host.statusListeners) listener({ ...STATUS, term: 2 });
    expect(seen.map((s) => s.term)).toEqual([2]);
    await keeper.close();
    expect(f.host.statusListeners.size).toBe(0);
    expect(() => keeper.on('nope' as never, () => undefined)).toThrow(KeeperError);
  });
});
