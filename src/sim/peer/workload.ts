/**
 * The peer simulator's clients: each lives on one peer (as a Keeper lives in the tab of its peer),
 * holds one session at a time through the serving API, runs on the peer's simulated thread (its
 * timers wait while the peer is frozen and die with it), and drives one workload as a callback
 * state machine — the simulator is synchronous, so no promises:
 *
 * - CasClient: compare-and-set on shared znodes: `sync` + `getData` (recorded as one linearizable
 *   read), setData with the version it read, creates and deletes with versions; plain local reads
 *   with watches in between. Every recorded operation goes to the znode history (src/testing).
 * - SequentialClient: persistent-sequential creates under SEQUENTIAL_PATH, and child watches.
 * - LockClient: the lock recipe (Curator's): an ephemeral-sequential node under LOCK_PATH; the
 *   lowest holds; a waiter watches its predecessor with exists() and checks again on its event.
 *   The holder's fencing token is its node's czxid; it writes the token to FENCE_PATH with a multi
 *   that checks its node still exists, after reading that the fence holds no greater token. On an
 *   unknown outcome (CONNECTIONLOSS) it abandons the session (its ephemeral goes with it), the
 *   simple form of Curator's protected mode. Sometimes it closes its session while holding.
 * - ElectionClient: the LeaderElection recipe (Curator's LeaderLatch,
 *   src/recipes/leader-election.ts) as a state machine: an ephemeral-sequential `_c_<id>-latch-<seq>` under the container
 *   ELECTION_PATH; the lowest leads, once the getData that watches its own node answers (it
 *   announces `elected`); a follower watches its predecessor with getData (NONODE: look again)
 *   and looks again on its event; a participant whose node vanished is revoked and enters again
 *   at the back. A leader sometimes relinquishes (deletes its node, enters again later), sometimes
 *   closes its session; unknown outcomes abandon the session, as the lock client does.
 *
 * Sessions expire when their peer is cut off or frozen past the timeout; the client hears
 * `expired` when its peer applies the closeSession, and opens a new session.
 */

import { assert } from '../../core/assert.js';
import type { Prng } from '../../core/prng.js';
import type { SessionId } from '../../core/tree/types.js';
import { OPEN_ACL_UNSAFE } from '../../core/tree/types.js';
import type { HistoryRecorder } from '../../testing/history.js';
import type { ZnodeInput, ZnodeOutput } from '../../testing/models/znode.js';
import type { Peer } from '../../peer/peer.js';
import type { SessionRequest, SessionResult, SessionState } from '../../peer/serving-api.js';
import type { CreateMode } from '../../core/tree/types.js';
import { ELECTION_PATH, FENCE_PATH, LATCH_MARK, LOCK_PATH, SEQUENTIAL_PATH, sequenceOf, type RuntimeChecks } from './checks.js';
import type { WorkloadSettings } from './profiles.js';

/** Operations one client starts in a run: a run makes a few hundred at most; the bound stops a
 *  client that loops without thinking. */
export const CLIENT_OPERATIONS_MAX = 5_000;

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Where a client lives: its peer's thread and current incarnation. */
export interface ClientHost {
  readonly node: string;
  /** The peer of the current incarnation (null while it starts or after a crash). */
  peer(): Peer | null;
  /** A timer on the peer's thread, dropped if the peer crashes first. */
  timer(delayMs: number, label: string, work: () => void): void;
}

export interface ClientWorld {
  readonly settings: WorkloadSettings;
  readonly checks: RuntimeChecks;
  readonly history: HistoryRecorder<ZnodeInput, ZnodeOutput>;
  trace(line: string): void;
  /** After the quiet phase's client window: start nothing new. */
  stopped(): boolean;
}

export interface ClientCounters {
  operations: number;
  ok: number;
  sessionsOpened: number;
  sessionsExpired: number;
  sessionsClosed: number;
  /** Successful operations since `markProgress` (liveness in the quiet phase). */
  progress: number;
}

type Role = 'cas' | 'sequential' | 'lock' | 'election';

export abstract class SimClient {
  readonly name: string;
  readonly role: Role;
  readonly host: ClientHost;
  protected readonly world: ClientWorld;
  protected readonly prng: Prng;
  /** The session in use; null while none is open. */
  protected session: { readonly id: SessionId; askedToClose: boolean } | null = null;
  /** Bumped at every new session and every incarnation of the peer: stale callbacks check it. */
  protected generation = 0;
  private opening = false;
  /** Requests sent and not answered (for draining at the end). */
  inFlight = 0;
  readonly counters: ClientCounters = { operations: 0, ok: 0, sessionsOpened: 0, sessionsExpired: 0, sessionsClosed: 0, progress: 0 };

  constructor(options: { name: string; role: Role; host: ClientHost; world: ClientWorld; prng: Prng }) {
    this.name = options.name;
    this.role = options.role;
    this.host = options.host;
    this.world = options.world;
    this.prng = options.prng;
  }

  /** The session the client believes live (for the final checks). */
  liveSession(): SessionId | null {
    return this.session?.id ?? null;
  }

  /** The peer (re)started: a fresh client life on it. */
  incarnate(): void {
    this.generation += 1;
    this.session = null;
    this.opening = false;
    this.inFlight = 0;
    this.reset();
    this.later(this.world.settings.reopenMs, 'open', () => this.open());
  }

  /** The peer crashed: everything in flight is lost with it (those operations stay unknown). */
  crashed(): void {
    this.generation += 1;
    this.session = null;
    this.opening = false;
    this.inFlight = 0;
    this.reset();
  }

  /** A snapshot was installed at the peer: watches may have lost events (the runtime's gap). */
  watchesMayBeLost(): void {}

  protected later(range: { min: number; max: number }, label: string, work: () => void): void {
    const generation = this.generation;
    this.host.timer(this.prng.int(range.min, range.max), `${this.name} ${label}`, () => {
      if (generation === this.generation) work();
    });
  }

  private open(): void {
    if (this.session !== null || this.opening || this.world.stopped()) return;
    const peer = this.host.peer();
    if (peer === null) return this.later(this.world.settings.reopenMs, 'open', () => this.open());
    this.opening = true;
    const generation = this.generation;
    // Events and states are matched by session id (unique), not by the client's life.
    const timeoutMs = this.prng.int(this.world.settings.sessionTimeoutMs.min, this.world.settings.sessionTimeoutMs.max);
    let sessionId: SessionId | null = null;
    peer.openSession(
      {
        timeoutMs,
        listener: {
          event: (event) => {
            if (sessionId === null) return;
            this.world.checks.onEvent(sessionId, event);
            if (this.session?.id === sessionId) {
              this.world.trace(`${this.name} event ${event.type} ${event.path} @${event.zxid}`);
              this.onEvent(event.path);
            }
          },
          state: (state) => {
            if (sessionId !== null) this.onState(sessionId, state);
          },
        },
      },
      (result) => {
        if (generation !== this.generation) return;
        this.opening = false;
        if (!result.ok) {
          this.world.trace(`${this.name} open failed ${result.code}`);
          return this.later(this.world.settings.reopenMs, 'open', () => this.open());
        }
        sessionId = result.session.sessionId;
        this.generation += 1;
        this.inFlight = 0;
        this.session = { id: sessionId, askedToClose: false };
        this.counters.sessionsOpened += 1;
        this.world.checks.sessionOpened(sessionId, this.name, this.host.node);
        this.world.trace(`${this.name} session ${sessionId} on ${this.host.node} (${result.session.timeoutMs} ms)`);
        this.begin();
      },
    );
  }

  private onState(sessionId: SessionId, state: SessionState): void {
    if (state !== 'expired' && state !== 'closed') return;
    const peer = this.host.peer();
    const askedToClose = this.session?.id === sessionId && this.session.askedToClose;
    this.world.trace(`${this.name} session ${sessionId} ${state}`);
    if (peer !== null) this.world.checks.sessionEnded({ client: this.name, session: sessionId, state, askedToClose, tree: peer.tree });
    if (state === 'expired') this.counters.sessionsExpired += 1;
    else this.counters.sessionsClosed += 1;
    if (this.session?.id !== sessionId) return;
    this.generation += 1;
    this.session = null;
    this.inFlight = 0;
    this.reset();
    this.later(this.world.settings.reopenMs, 'reopen', () => this.open());
  }

  /** Closes the session (its ephemerals go); a new one opens once it has ended. */
  protected closeSession(reason: string): void {
    const session = this.session;
    const peer = this.host.peer();
    if (session === null || peer === null || session.askedToClose) return;
    session.askedToClose = true;
    this.world.checks.endBelief(this.name);
    this.world.trace(`${this.name} closes session ${session.id}: ${reason}`);
    peer.closeSession(session.id, () => undefined);
  }

  /** Sends a request on the session; `done` runs only if the client is still in the same life. */
  protected submit(request: SessionRequest, done: (result: SessionResult) => void): void {
    const session = this.session;
    const peer = this.host.peer();
    assert(session !== null && peer !== null, `${this.name} submits on an open session`);
    assert(this.counters.operations < CLIENT_OPERATIONS_MAX, `${this.name}: at most ${CLIENT_OPERATIONS_MAX} operations`);
    this.counters.operations += 1;
    this.inFlight += 1;
    const generation = this.generation;
    peer.submit(session.id, request, (result) => {
      this.world.checks.onResult(session.id, request, result);
      if (generation !== this.generation) return;
      this.inFlight -= 1;
      if (result.ok) {
        this.counters.ok += 1;
        this.counters.progress += 1;
      }
      done(result);
    });
  }

  /** The next step after some thought, unless the client stopped or lost its session. */
  protected next(): void {
    this.later(this.world.settings.thinkMs, 'step', () => {
      if (this.session !== null && !this.session.askedToClose && !this.world.stopped()) this.step();
    });
  }

  /** Creates `path` (persistent, or as `mode` says) if missing, then continues. */
  protected ensure(path: string, data: string, then: () => void, mode: CreateMode = 'persistent'): void {
    this.submit({ op: 'create', path, data: utf8.encode(data), acl: [...OPEN_ACL_UNSAFE], mode }, (result) => {
      if (result.ok || result.code === 'NODEEXISTS') return then();
      this.next();
    });
  }

  /** A unique value for this client's writes. */
  protected uniqueValue(): string {
    return `${this.name}.${this.counters.operations}`;
  }

  /** The session opened: start the workload. */
  protected begin(): void {
    this.step();
  }

  protected abstract step(): void;
  protected abstract reset(): void;
  protected abstract onEvent(path: string): void;
}

/** Compare-and-set on shared znodes, recorded for the linearizability checker. */
export class CasClient extends SimClient {
  /** The version last seen per path; 'absent' when it was missing; undefined: unknown. */
  private readonly versions = new Map<string, number | 'absent'>();
  private parentReady = false;

  protected reset(): void {
    this.versions.clear();
  }

  protected onEvent(): void {}

  protected step(): void {
    if (!this.parentReady) {
      return this.ensure('/cas', '', () => {
        this.parentReady = true;
        this.next();
      });
    }
    const path = this.prng.pick(this.world.settings.casPaths);
    const known = this.versions.get(path);
    const roll = this.prng.float();
    if (known === undefined || roll < 0.25) return this.syncedRead(path);
    if (known === 'absent') return this.create(path);
    if (roll < 0.8) return this.setData(path, known);
    if (roll < 0.93) return this.localRead(path);
    return this.delete(path, known);
  }

  /** An operation of the znode history: ok with a known outcome, unknown otherwise. */
  private record(id: number, result: SessionResult, output: (result: Extract<SessionResult, { ok: true }>) => ZnodeOutput): void {
    if (result.ok) return this.world.history.ok(id, output(result));
    if (result.code === 'NONODE' || result.code === 'NODEEXISTS' || result.code === 'BADVERSION') return this.world.history.ok(id, { code: result.code });
    // CONNECTIONLOSS, OPERATIONTIMEOUT: unknown. SESSIONEXPIRED and other refusals had no effect,
    // which unknown also allows (sound, a little weaker).
    this.world.history.unknown(id);
  }

  /** sync + getData on one session: linearizable (the read sees every write committed before the
   *  sync began), recorded as one read from the sync's invocation to the read's answer. */
  private syncedRead(path: string): void {
    const id = this.world.history.invoke(this.name, { kind: 'getData', path });
    let syncOk = false;
    this.submit({ op: 'sync', path }, (result) => {
      syncOk = result.ok;
    });
    this.submit({ op: 'getData', path, watch: true }, (result) => {
      if (!syncOk) {
        this.world.history.unknown(id);
        this.versions.delete(path);
        return this.next();
      }
      this.record(id, result, (ok) => (ok.op === 'getData' ? { code: 'OK', data: text.decode(ok.data), version: ok.stat.version } : { code: 'OK' }));
      if (result.ok && result.op === 'getData') this.versions.set(path, result.stat.version);
      else if (!result.ok && result.code === 'NONODE') this.versions.set(path, 'absent');
      else this.versions.delete(path);
      this.next();
    });
  }

  /** A local read with a watch (sequentially consistent: not in the history). */
  private localRead(path: string): void {
    this.submit({ op: 'getData', path, watch: true }, () => this.next());
  }

  private create(path: string): void {
    const data = this.uniqueValue();
    const id = this.world.history.invoke(this.name, { kind: 'create', path, data });
    this.submit({ op: 'create', path, data: utf8.encode(data), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' }, (result) => {
      this.record(id, result, () => ({ code: 'OK', version: 0 }));
      if (result.ok) this.versions.set(path, 0);
      else this.versions.delete(path);
      this.next();
    });
  }

  private setData(path: string, version: number): void {
    const data = this.uniqueValue();
    const id = this.world.history.invoke(this.name, { kind: 'setData', path, data, version });
    this.submit({ op: 'setData', path, data: utf8.encode(data), version }, (result) => {
      this.record(id, result, (ok) => (ok.op === 'setData' ? { code: 'OK', version: ok.stat.version } : { code: 'OK' }));
      if (result.ok && result.op === 'setData') this.versions.set(path, result.stat.version);
      else this.versions.delete(path);
      this.next();
    });
  }

  private delete(path: string, version: number): void {
    const id = this.world.history.invoke(this.name, { kind: 'delete', path, version });
    this.submit({ op: 'delete', path, version }, (result) => {
      this.record(id, result, () => ({ code: 'OK' }));
      if (result.ok) this.versions.set(path, 'absent');
      else this.versions.delete(path);
      this.next();
    });
  }
}

/** Persistent-sequential creates and child watches under SEQUENTIAL_PATH. */
export class SequentialClient extends SimClient {
  private parentReady = false;
  private readonly order: () => number;

  constructor(options: ConstructorParameters<typeof SimClient>[0] & { order: () => number }) {
    super(options);
    this.order = options.order;
  }

  protected reset(): void {}

  protected onEvent(): void {}

  protected step(): void {
    if (!this.parentReady) {
      return this.ensure(SEQUENTIAL_PATH, '', () => {
        this.parentReady = true;
        this.next();
      });
    }
    if (this.prng.chance(0.25)) {
      this.submit({ op: 'getChildren', path: SEQUENTIAL_PATH, watch: true }, () => this.next());
      return;
    }
    const data = this.uniqueValue();
    const invokeOrder = this.order();
    this.submit({ op: 'create', path: `${SEQUENTIAL_PATH}/s-`, data: utf8.encode(data), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent_sequential' }, (result) => {
      if (result.ok && result.op === 'create') {
        this.world.checks.onSequentialCreated({ client: this.name, path: result.path, data, invokeOrder, returnOrder: this.order() });
      }
      this.next();
    });
  }
}

type LockPhase = 'idle' | 'creating' | 'checking' | 'waiting' | 'holding' | 'releasing';

/** The lock recipe with a fenced critical section. */
export class LockClient extends SimClient {
  private phase: LockPhase = 'idle';
  private node: { readonly path: string; readonly token: number } | null = null;
  private predecessor: string | null = null;
  private parentsReady = false;
  readonly lockCounters = { grants: 0, fencedWrites: 0, fenceRefused: 0, abandoned: 0 };

  protected reset(): void {
    this.phase = 'idle';
    this.node = null;
    this.predecessor = null;
  }

  protected onEvent(path: string): void {
    if (this.phase === 'waiting' && path === this.predecessor) this.check();
  }

  override watchesMayBeLost(): void {
    if (this.phase === 'waiting' && this.session !== null) this.check();
  }

  protected step(): void {
    if (!this.parentsReady) {
      return this.ensure(LOCK_PATH, '', () =>
        this.ensure(FENCE_PATH, '0', () => {
          this.parentsReady = true;
          this.next();
        }),
      );
    }
    if (this.phase !== 'idle') return;
    this.phase = 'creating';
    this.submit({ op: 'create', path: `${LOCK_PATH}/n-`, data: utf8.encode(this.name), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral_sequential' }, (result) => {
      if (result.ok && result.op === 'create') {
        this.node = { path: result.path, token: result.stat.czxid };
        return this.check();
      }
      this.phase = 'idle';
      if (!result.ok && (result.code === 'CONNECTIONLOSS' || result.code === 'OPERATIONTIMEOUT')) return this.abandon('the create of the lock node may have happened');
      this.next();
    });
  }

  /** Protected mode, simply: a session that may hold an orphan node is closed. */
  private abandon(reason: string): void {
    this.lockCounters.abandoned += 1;
    this.phase = 'idle';
    this.closeSession(reason);
  }

  private check(): void {
    const node = this.node;
    if (node === null) return;
    this.phase = 'checking';
    this.submit({ op: 'getChildren', path: LOCK_PATH, watch: false }, (result) => {
      if (this.phase !== 'checking') return;
      if (!result.ok || result.op !== 'getChildren') return this.abandon(`getChildren failed: ${result.ok ? result.op : result.code}`);
      const children = [...result.children].sort((a, b) => sequenceOf(a) - sequenceOf(b));
      const name = node.path.slice(LOCK_PATH.length + 1);
      const at = children.indexOf(name);
      if (at < 0) return this.abandon(`${node.path} vanished: the session is ending`);
      if (at === 0) return this.hold(node);
      this.predecessor = `${LOCK_PATH}/${children[at - 1] as string}`;
      this.phase = 'waiting';
      this.submit({ op: 'exists', path: this.predecessor, watch: true }, (exists) => {
        if (this.phase !== 'waiting') return;
        if (!exists.ok) return this.abandon(`exists failed: ${exists.code}`);
        if (exists.op === 'exists' && exists.stat === null) this.check();
        // else: wait for the predecessor's event
      });
    });
  }

  private hold(node: { path: string; token: number }): void {
    const session = this.session;
    assert(session !== null, 'a grant on an open session');
    this.phase = 'holding';
    this.lockCounters.grants += 1;
    this.world.trace(`${this.name} GRANTED ${node.path} token ${node.token}`);
    this.world.checks.onGrant(this.name, session.id, node.path, node.token);
    this.submit({ op: 'getData', path: FENCE_PATH, watch: false }, (read) => {
      if (this.phase !== 'holding') return;
      if (!read.ok || read.op !== 'getData') return this.abandon(`reading the fence failed: ${read.ok ? read.op : read.code}`);
      const fenced = Number(text.decode(read.data));
      if (fenced > node.token) {
        // A greater token was written: this client's hold is stale (its session is ending).
        this.lockCounters.fenceRefused += 1;
        return this.abandon(`the fence holds token ${fenced} > ${node.token}`);
      }
      this.submit(
        {
          op: 'multi',
          ops: [
            { op: 'check', path: node.path, version: 0 },
            { op: 'setData', path: FENCE_PATH, data: utf8.encode(String(node.token)), version: read.stat.version },
          ],
        },
        (write) => {
          if (this.phase !== 'holding') return;
          if (write.ok) this.lockCounters.fencedWrites += 1;
          else if (write.code === 'CONNECTIONLOSS' || write.code === 'OPERATIONTIMEOUT' || write.code === 'NONODE') return this.abandon(`the fenced write failed: ${write.code}`);
          this.later(this.world.settings.holdMs, 'hold', () => this.release());
        },
      );
    });
  }

  private release(): void {
    const node = this.node;
    if (this.phase !== 'holding' || node === null || this.session === null) return;
    if (this.prng.chance(this.world.settings.closeWhileHoldingProbability)) return this.abandon('closing the session while holding');
    this.phase = 'releasing';
    this.world.checks.endBelief(this.name);
    this.submit({ op: 'delete', path: node.path, version: -1 }, (result) => {
      this.node = null;
      this.phase = 'idle';
      if (!result.ok && (result.code === 'CONNECTIONLOSS' || result.code === 'OPERATIONTIMEOUT')) return this.abandon('the release may not have happened');
      this.next();
    });
  }
}

type ElectionPhase = 'idle' | 'entering' | 'checking' | 'confirming' | 'following' | 'leading' | 'relinquishing';

/** Why a participant stopped leading (the recipe's RevokedReason, less 'disconnected': a client
 *  on its own peer is never disconnected; its session expires instead — `reset` says so). */
type RevokedReason = 'relinquished' | 'vanished' | 'abandoned';

/** The LeaderElection recipe (see the file comment). */
export class ElectionClient extends SimClient {
  private phase: ElectionPhase = 'idle';
  private node: { readonly path: string; readonly epoch: number } | null = null;
  /** The node whose getData watch this participant waits on (its own while it leads). */
  private watched: string | null = null;
  private leading = false;
  private parentReady = false;
  /** Bumped at every election: a leader's decision timer of an earlier leadership does nothing. */
  private leadership = 0;
  /** lost: leaderships that ended with the session or the peer (not relinquished or closed). */
  readonly electionCounters = { elected: 0, relinquished: 0, lost: 0, revokedVanished: 0, abandoned: 0, entered: 0 };

  /** Whether this participant believes it leads (for the liveness check). */
  isLeading(): boolean {
    return this.leading;
  }

  protected reset(): void {
    if (this.leading) {
      this.electionCounters.lost += 1;
      this.world.trace(`${this.name} REVOKED (session ended or peer crashed)`);
    }
    this.leading = false;
    this.phase = 'idle';
    this.node = null;
    this.watched = null;
  }

  protected onEvent(path: string): void {
    if ((this.phase === 'following' || this.phase === 'leading') && path === this.watched) this.check();
  }

  override watchesMayBeLost(): void {
    if ((this.phase === 'following' || this.phase === 'leading') && this.session !== null) this.check();
  }

  protected step(): void {
    if (!this.parentReady) {
      return this.ensure(
        ELECTION_PATH,
        '',
        () => {
          this.parentReady = true;
          this.next();
        },
        'container',
      );
    }
    if (this.phase !== 'idle') return;
    this.phase = 'entering';
    this.electionCounters.entered += 1;
    const prefix = `${ELECTION_PATH}/_c_${this.name.replace('@', '.')}${LATCH_MARK}`;
    this.submit({ op: 'create', path: prefix, data: utf8.encode(this.name), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral_sequential' }, (result) => {
      if (this.phase !== 'entering') return;
      if (result.ok && result.op === 'create') {
        this.node = { path: result.path, epoch: result.stat.czxid };
        return this.check();
      }
      this.phase = 'idle';
      if (!result.ok && (result.code === 'CONNECTIONLOSS' || result.code === 'OPERATIONTIMEOUT')) return this.abandon('the create of the latch node may have happened');
      // The container was swept between the ensure and the create: create it again.
      if (!result.ok && result.code === 'NONODE') this.parentReady = false;
      this.next();
    });
  }

  /** Stops leading (if it did): the belief ends before anything is sent. */
  private revoke(reason: RevokedReason): void {
    if (!this.leading) return;
    this.leading = false;
    this.world.checks.endBelief(this.name);
    this.world.trace(`${this.name} REVOKED (${reason})`);
  }

  /** Protected mode, simply: a session that may hold an orphan node is closed. */
  private abandon(reason: string): void {
    this.electionCounters.abandoned += 1;
    this.revoke('abandoned');
    this.phase = 'idle';
    this.closeSession(reason);
  }

  /** One look, as the recipe's background check: elect, or watch the predecessor. */
  private check(): void {
    const node = this.node;
    if (node === null) return;
    this.phase = 'checking';
    this.submit({ op: 'getChildren', path: ELECTION_PATH, watch: false }, (result) => {
      if (this.phase !== 'checking') return;
      const gone = !result.ok && result.code === 'NONODE';
      if (!gone && (!result.ok || result.op !== 'getChildren')) return this.abandon(`getChildren failed: ${result.ok ? result.op : result.code}`);
      const children = result.ok && result.op === 'getChildren' ? result.children.filter((child) => child.includes(LATCH_MARK)) : [];
      children.sort((a, b) => sequenceOf(a) - sequenceOf(b));
      const name = node.path.slice(ELECTION_PATH.length + 1);
      const at = children.indexOf(name);
      if (at < 0) {
        // Our node vanished (the session is ending): revoke, and stand again at the back.
        if (this.leading) this.electionCounters.lost += 1;
        this.revoke('vanished');
        this.electionCounters.revokedVanished += 1;
        this.node = null;
        this.watched = null;
        this.phase = 'idle';
        return this.next();
      }
      const learnedAt = result.ok && result.op === 'getChildren' ? result.stat.pzxid : 0;
      const target = at === 0 ? node.path : `${ELECTION_PATH}/${children[at - 1] as string}`;
      this.phase = at === 0 ? 'confirming' : 'following';
      const phase = this.phase;
      this.watched = target;
      this.submit({ op: 'getData', path: target, watch: true }, (read) => {
        if (this.phase !== phase || this.node !== node) return;
        if (!read.ok && read.code === 'NONODE') return this.check(); // gone meanwhile: look again
        if (!read.ok) return this.abandon(`getData of ${target} failed: ${read.code}`);
        if (at === 0) return this.elect(node, children, learnedAt);
        this.revoke('vanished'); // not first (cannot happen while it led: nobody enters before it)
        // then wait for the predecessor's event
      });
    });
  }

  private elect(node: { path: string; epoch: number }, seen: readonly string[], learnedAt: number): void {
    const session = this.session;
    assert(session !== null, 'an election on an open session');
    this.phase = 'leading';
    if (this.leading) return; // looked again while leading: still the same leadership
    this.leading = true;
    this.leadership += 1;
    this.electionCounters.elected += 1;
    this.world.trace(`${this.name} ELECTED ${node.path} epoch ${node.epoch} (learned at ${learnedAt})`);
    this.world.checks.onElected({ client: this.name, session: session.id, path: node.path, epoch: node.epoch, seen, learnedAt });
    const leadership = this.leadership;
    this.later(this.world.settings.leadMs, 'lead', () => this.decide(leadership));
  }

  /** A leader decides: close its session, relinquish, or lead on. */
  private decide(leadership: number): void {
    const node = this.node;
    const settings = this.world.settings;
    if (!this.leading || leadership !== this.leadership || node === null || this.session === null) return;
    // Looking again meanwhile (a watch event, a snapshot): still leading; decide later.
    if (this.phase !== 'leading') return this.later(settings.leadMs, 'lead', () => this.decide(leadership));
    const roll = this.prng.float();
    if (roll < settings.closeWhileLeadingProbability) return this.abandon('closing the session while leading');
    if (roll >= settings.closeWhileLeadingProbability + settings.relinquishProbability) {
      return this.later(settings.leadMs, 'lead', () => this.decide(leadership));
    }
    this.revoke('relinquished');
    this.electionCounters.relinquished += 1;
    this.phase = 'relinquishing';
    this.watched = null;
    this.submit({ op: 'delete', path: node.path, version: -1 }, (result) => {
      if (this.phase !== 'relinquishing') return;
      this.node = null;
      this.phase = 'idle';
      if (!result.ok && (result.code === 'CONNECTIONLOSS' || result.code === 'OPERATIONTIMEOUT')) return this.abandon('the relinquish may not have happened');
      this.next();
    });
  }
}
