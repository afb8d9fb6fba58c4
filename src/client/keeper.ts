/**
 * `Keeper`: the public client of API.md — ZooKeeper's client (org.apache.zookeeper.ZooKeeper) as
 * promises, over the serving contract of src/peer/serving-api.ts.
 *
 * One Keeper is one session. Its calls:
 * - are checked here first, as ZooKeeper's Java client checks them (validate.ts): a bad argument
 *   is BADARGUMENTS (or INVALIDACL for an empty ACL) with no round trip and no effect;
 * - are submitted in call order (sequencer.ts), and the serving peer completes them in that order;
 * - resolve with ZooKeeper's results, or reject with a KeeperError carrying ZooKeeper's code.
 *   CONNECTIONLOSS and OPERATIONTIMEOUT mean the outcome is unknown; any other code, no effect.
 *
 * After close() (and after expiry) every call rejects with SESSIONEXPIRED without being sent, as
 * ZooKeeper's client answers calls on a CLOSED connection.
 *
 * Watches: the serving peer keeps one watch per (session, path, kind) and sends one event per
 * change; the WatchRegistry turns each event into the user's functions (watch-registry.ts). A
 * client-side registration is made only when the server made one: in the read's answer, before the
 * read's promise settles, so no event can find the registry without it.
 */

import { assert } from '../core/assert.js';
import { KeeperError, type FailureName } from '../core/errors.js';
import { AUTH_IDS_MAX } from '../core/limits.js';
import type { ACL, CreateRequest, Id, MultiOp, OpResult, PersistentWatchMode, Stat, WatchEvent } from '../core/tree/types.js';
import type { LocalSession, SessionListener, SessionRequest, SessionResult, SessionState } from '../peer/serving-api.js';
// Type only (erased): keeper.locks's shape. The implementation is loaded lazily (see `get locks`).
import type { LockManager } from '../recipes/web-locks.js';
import type { StatusBoard } from './board.js';
import { digestId } from './digest.js';
import { Emitter, reportToConsole, type ErrorReporter } from './emitter.js';
import { answeredError, endedError, MultiError, refusedResults } from './errors.js';
import type { KeeperHost } from './host.js';
import { CALLS_IN_FLIGHT_MAX, CLOSE_DRAIN_TIMEOUTS, OPEN_SESSION_ATTEMPTS_MAX, OPEN_SESSION_RETRY_MS } from './limits.js';
import { planJoin, type JoinOptions } from './options.js';
import { Sequencer } from './sequencer.js';
import { joinNetwork } from './network.js';
import { joinStandalone } from './standalone.js';
import type {
  AclAndStat,
  AddWatchMode,
  CreateOptions,
  Data,
  DataAndStat,
  KeeperEvents,
  KeeperState,
  KeeperStatus,
  UnsafeRecoverSummary,
  Op,
  WatchOptions,
  Watcher,
} from './types.js';
import { WatchRegistry } from './watch-registry.js';
import {
  badArgument,
  checkAcl,
  checkMode,
  checkOptions,
  checkPath,
  checkTtl,
  checkVersion,
  checkWatcher,
  isSequential,
  toBytes,
  toMultiOp,
} from './validate.js';

/** Options for opening a Keeper on a host (Keeper.join's, once planned). */
export interface OpenOptions {
  sessionTimeoutMs: number;
  /** 0: no client-side timeout. */
  requestTimeoutMs: number;
  /** Where a throwing watcher or listener is reported; console.error by default. */
  report?: ErrorReporter;
}

type Ok = Extract<SessionResult, { ok: true }>;
/** The success shape for one op (distributes over the union, so the shared addWatch/removeWatches
 *  shape is found for either op). */
type OkOf<Op extends Ok['op']> = Ok extends infer R ? (R extends { op: infer O } ? (Op extends O ? R : never) : never) : never;

/** One call in flight: settled exactly once, by its answer, a timeout, or the session's end. */
interface Call {
  settled: boolean;
  fail(error: KeeperError): void;
  /** Run right after the call settles (#afterAnswered). */
  readonly after: (() => void)[];
}

const OPEN = Symbol('Keeper.open');

export class Keeper {
  readonly #host: KeeperHost;
  readonly #events: Emitter<KeeperEvents>;
  readonly #watches = new WatchRegistry();
  readonly #sequencer = new Sequencer();
  readonly #inflight = new Set<Call>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #auth: Id[] = [];
  readonly #report: ErrorReporter;
  readonly #requestTimeoutMs: number;
  #session: LocalSession | null = null;
  #state: KeeperState = 'connecting';
  #closing: Promise<void> | null = null;
  #released: Promise<void> | null = null;
  /** Set once the session is over (#end): settles after the leftovers are failed and the peer released. */
  #ended: Promise<void> | null = null;
  /** A state the peer reported while openSession was still pending. */
  #openingState: SessionState | null = null;
  #unsubscribeStatus: (() => void) | null = null;
  /** The call issued last: answers come in call order, so once it settles every earlier one has. */
  #lastCall: Call | null = null;

  /** Not for users: use Keeper.join. */
  constructor(token: typeof OPEN, host: KeeperHost, options: OpenOptions) {
    assert(token === OPEN, 'Keeper: construct it with Keeper.join');
    this.#host = host;
    this.#report = options.report ?? reportToConsole;
    this.#events = new Emitter(this.#report);
    this.#requestTimeoutMs = options.requestTimeoutMs;
  }

  /**
   * Joins an ensemble and opens a session (API.md): over a relay, this process's peer of the room
   * (client/network.ts); without one, in a browser this tab's peer of the profile's tabs (over
   * BroadcastChannel, network.ts too), in Node the standalone ensemble (storage 'memory'). Keepers
   * of one process that join the same room share its peer. Resolves once the session is established.
   */
  static async join(options: JoinOptions = {}): Promise<Keeper> {
    const plan = planJoin(options);
    const host = plan.kind === 'standalone' ? await joinStandalone(plan) : await joinNetwork(plan);
    return Keeper.open(host, plan);
  }

  /** @internal Opens a session on `host` (Keeper.join's second half; tests use it with a double). */
  static async open(host: KeeperHost, options: OpenOptions): Promise<Keeper> {
    const keeper = new Keeper(OPEN, host, options);
    await keeper.#open(options.sessionTimeoutMs);
    return keeper;
  }

  // --- session ---------------------------------------------------------------------------------

  /** The session's id (ZooKeeper's getSessionId): the ephemeralOwner of its ephemerals. */
  get sessionId(): string {
    assert(this.#session !== null, 'Keeper: a joined keeper has a session');
    return this.#session.sessionId;
  }

  /** The negotiated session timeout. */
  get sessionTimeoutMs(): number {
    assert(this.#session !== null, 'Keeper: a joined keeper has a session');
    return this.#session.timeoutMs;
  }

  get state(): KeeperState {
    return this.#state;
  }

  /** The serving peer's view of the ensemble (for display and diagnosis, never for safety). */
  status(): KeeperStatus {
    return this.#host.status();
  }

  /** Every peer of the room as it publishes itself on the status board (client/board.ts), or null
   *  where the ensemble has none (standalone). For display and diagnosis, never for safety. */
  board(): StatusBoard | null {
    return this.#host.board ?? null;
  }

  /**
   * UNSAFE — for operators, when a majority of voters is gone for good and writes fail
   * (`status().quorum` false): the peer serving this Keeper becomes the sole voter of a new
   * configuration, keeping the state it has applied (etcd's --force-new-cluster). Writes that the
   * lost peers acknowledged but this peer had not applied are LOST; peers that come back rejoin as
   * observers and are promoted again. Rejects with BADARGUMENTS while the peer has a quorum, and
   * with UNIMPLEMENTED where the Keeper has no networked replica (a standalone ensemble, a
   * client-only attachment).
   */
  unsafeRecoverFromThisPeer(): Promise<UnsafeRecoverSummary> {
    const recover = this.#host.unsafeRecover;
    if (recover === undefined) return Promise.reject(new KeeperError('UNIMPLEMENTED', 'unsafeRecoverFromThisPeer: this Keeper is not served by a networked replica of its own'));
    return recover.call(this.#host);
  }

  /** Listens to 'state' (session states) or 'status' (the serving peer's status). Returns a
   *  function that removes the listener. */
  on<K extends keyof KeeperEvents>(name: K, listener: (value: KeeperEvents[K]) => void): () => void {
    if (name !== 'state' && name !== 'status') throw badArgument(`unknown event ${JSON.stringify(name)} (known: state, status)`);
    if (typeof listener !== 'function') throw badArgument('a listener must be a function');
    return this.#events.on(name, listener);
  }

  off<K extends keyof KeeperEvents>(name: K, listener: (value: KeeperEvents[K]) => void): void {
    this.#events.off(name, listener);
  }

  /**
   * Closes the session: the calls issued before close() are answered first (for at most one
   * session timeout), then the session is closed through the log, so its ephemerals go at once
   * on every replica; then state 'closed', and a standalone ensemble stops with its last Keeper.
   * Idempotent; after expiry it only releases the peer.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = this.#sequencer.barrier(() => this.#closeSession());
    return this.#closing;
  }

  // --- data calls --------------------------------------------------------------------------
  //
  // None of these is `async`: each returns the promise of its one request, so the promises
  // settle exactly in the order the serving peer answers (which is call order), with the same
  // number of microtask turns whatever the call. A bad argument is a rejected promise (guard).

  /** ZooKeeper's create: returns the created path (with its suffix, for the sequential modes). */
  create(path: string, data?: Data, options?: CreateOptions): Promise<string> {
    return guard(() => {
      const given = checkOptions<CreateOptions>(options, ['mode', 'ttlMs', 'acl'], 'create');
      const mode = checkMode(given.mode, String(path));
      const checked = checkPath(path, { sequential: isSequential(mode) });
      const ttlMs = checkTtl(mode, given.ttlMs, checked);
      const request: CreateRequest = { op: 'create', path: checked, data: toBytes(data, checked), acl: checkAcl(given.acl, checked), mode };
      if (ttlMs !== undefined) request.ttlMs = ttlMs;
      return this.#call(request, (result) => expectOp(result, 'create').path);
    });
  }

  /** The node's data and Stat. With a watch: its next change or deletion fires it (set only
   *  when the read succeeds, as ZooKeeper's DataWatchRegistration). */
  getData(path: string, options?: WatchOptions): Promise<DataAndStat> {
    return guard(() => {
      const { checked, watch } = this.#readArguments(path, options, 'getData');
      return this.#call({ op: 'getData', path: checked, watch: watch !== undefined }, (result) => {
        const answer = expectOp(result, 'getData');
        if (watch !== undefined) this.#watches.add('data', checked, watch);
        return { data: answer.data, stat: answer.stat };
      });
    });
  }

  /** ZooKeeper's setData: `version` -1 matches any; returns the new Stat. */
  setData(path: string, data: Data, version = -1): Promise<Stat> {
    return guard(() => {
      const checked = checkPath(path);
      const request = { op: 'setData', path: checked, data: toBytes(data, checked), version: checkVersion(version, checked) } as const;
      return this.#call(request, (result) => expectOp(result, 'setData').stat);
    });
  }

  /** ZooKeeper's delete: `version` -1 matches any. */
  delete(path: string, version = -1): Promise<void> {
    return guard(() => {
      const checked = checkPath(path);
      return this.#call({ op: 'delete', path: checked, version: checkVersion(version, checked) }, (result) => {
        expectOp(result, 'delete');
      });
    });
  }

  /** The node's Stat, or null. With a watch: NodeCreated fires it if the node is missing, any
   *  change or deletion if it exists (ZooKeeper's ExistsWatchRegistration). */
  exists(path: string, options?: WatchOptions): Promise<Stat | null> {
    return guard(() => {
      const { checked, watch } = this.#readArguments(path, options, 'exists');
      return this.#call({ op: 'exists', path: checked, watch: watch !== undefined }, (result) => {
        const { stat } = expectOp(result, 'exists');
        if (watch !== undefined) this.#watches.add(stat === null ? 'exist' : 'data', checked, watch);
        return stat;
      });
    });
  }

  /** The children's names, sorted. With a watch: NodeChildrenChanged (or the node's deletion). */
  getChildren(path: string, options?: WatchOptions): Promise<string[]> {
    return guard(() => {
      const { checked, watch } = this.#readArguments(path, options, 'getChildren');
      return this.#call({ op: 'getChildren', path: checked, watch: watch !== undefined }, (result) => {
        const { children } = expectOp(result, 'getChildren');
        if (watch !== undefined) this.#watches.add('child', checked, watch);
        return children;
      });
    });
  }

  /** ZooKeeper's multi: all ops or none. On failure rejects with a MultiError (a KeeperError whose
   *  code is the first failing op's, with the per-op `results`). */
  multi(ops: readonly Op[]): Promise<OpResult[]> {
    return guard(() => {
      if (!Array.isArray(ops)) throw badArgument('multi takes an array of ops');
      const requests: MultiOp[] = [];
      for (const [index, op] of ops.entries()) {
        try {
          requests.push(toMultiOp(op, index));
        } catch (error) {
          if (!(error instanceof KeeperError)) throw error;
          const results = refusedResults(ops.length, index, error.code);
          throw new MultiError({ code: error.code, results, failedOp: index, path: error.path, reason: error.message });
        }
      }
      return this.#call({ op: 'multi', ops: requests }, (result) => expectOp(result, 'multi').results);
    });
  }

  /** ZooKeeper's sync: a read after it sees every write committed before the sync began. */
  sync(path = '/'): Promise<void> {
    return guard(() => {
      const checked = checkPath(path);
      return this.#call({ op: 'sync', path: checked }, (result) => {
        expectOp(result, 'sync');
      });
    });
  }

  /** ZooKeeper's addWatch: a watch that stays until removed. 'persistent' hears every event on the
   *  path; 'persistent_recursive' hears the path and every descendant, but no NodeChildrenChanged. */
  addWatch(path: string, mode: AddWatchMode, watcher: Watcher): Promise<void> {
    return guard(() => {
      const checked = checkPath(path);
      if (mode !== 'persistent' && mode !== 'persistent_recursive') {
        throw badArgument(`addWatch mode must be 'persistent' or 'persistent_recursive', got ${JSON.stringify(mode)}`, checked);
      }
      const fn = checkWatcher(watcher, checked);
      this.#checkWatchRoom(checked);
      const watchMode: PersistentWatchMode = mode;
      return this.#call({ op: 'addWatch', path: checked, mode: watchMode }, (result) => {
        expectOp(result, 'addWatch');
        this.#watches.add(mode, checked, fn);
      });
    });
  }

  /**
   * ZooKeeper's removeWatches(path, watcher, Any) — or, without a watcher, removeAllWatches(path,
   * Any): NOWATCHER if no such watch is registered at the path. Takes effect after every call
   * issued before it (so a watch a pending read is setting counts). The serving peer's watch goes
   * when no watcher of this Keeper needs it any more.
   */
  async removeWatches(path: string, watcher?: Watcher): Promise<void> {
    const checked = checkPath(path);
    const fn = watcher === undefined ? undefined : checkWatcher(watcher, checked);
    this.#refuseIfEnded('removeWatches');
    const answers = await this.#sequencer.barrier(async () => {
      await this.#idle();
      this.#refuseIfOver('removeWatches');
      if (!this.#watches.contains(checked, fn)) {
        throw new KeeperError('NOWATCHER', `removeWatches: ${fn === undefined ? 'no watch' : 'this watcher is not registered'} at this path`, checked);
      }
      const { serverKinds } = this.#watches.remove(checked, fn);
      // Submitted now, inside the barrier, so calls issued after removeWatches come after them.
      return serverKinds.map((kind) =>
        this.#call(
          { op: 'removeWatches', path: checked, kind },
          (result) => {
            expectOp(result, 'removeWatches');
          },
          'barrier',
        ).catch((error: unknown) => {
          // The server's one-shot watch may have fired already (its event is what removed it):
          // the client registry, checked above, is what decides NOWATCHER.
          if (error instanceof KeeperError && error.code === 'NOWATCHER') return;
          throw error;
        }),
      );
    });
    await Promise.all(answers);
  }

  /** The ACL and Stat of a node (READ or ADMIN; digest ids are redacted without ADMIN). */
  getACL(path: string): Promise<AclAndStat> {
    return guard(() => {
      const checked = checkPath(path);
      return this.#call({ op: 'getACL', path: checked }, (result) => {
        const answer = expectOp(result, 'getACL');
        return { acl: answer.acl, stat: answer.stat };
      });
    });
  }

  /** ZooKeeper's setACL: `version` is compared with aversion (-1 for any); returns the new Stat. */
  setACL(path: string, acl: readonly ACL[], version = -1): Promise<Stat> {
    return guard(() => {
      const checked = checkPath(path);
      if (acl === undefined) throw badArgument('setACL needs an ACL list', checked);
      const request = { op: 'setACL', path: checked, acl: checkAcl(acl, checked), version: checkVersion(version, checked) } as const;
      return this.#call(request, (result) => expectOp(result, 'setACL').stat);
    });
  }

  /** This session's ephemerals whose path starts with `prefix` (as a string), sorted. */
  getEphemerals(prefix = '/'): Promise<string[]> {
    return guard(() => {
      const checked = checkPath(prefix);
      return this.#call({ op: 'getEphemerals', prefix: checked }, (result) => expectOp(result, 'getEphemerals').paths);
    });
  }

  /** The number of descendants of a node (not counting itself). */
  getAllChildrenNumber(path: string): Promise<number> {
    return guard(() => {
      const checked = checkPath(path);
      return this.#call({ op: 'getAllChildrenNumber', path: checked }, (result) => expectOp(result, 'getAllChildrenNumber').count);
    });
  }
  /**
   * ZooKeeper's addAuthInfo. Scheme 'digest' with 'user:password' adds the identity
   * digest:user:base64(sha1(user:password)) to the session; calls issued after it run with it.
   * Other schemes have no provider: AUTHFAILED, and the session carries on unchanged.
   */
  addAuthInfo(scheme: string, auth: string | Uint8Array): Promise<void> {
    return guard(() => {
      if (scheme !== 'digest') {
        throw new KeeperError('AUTHFAILED', `addAuthInfo: no authentication provider for scheme ${JSON.stringify(scheme)} (supported: digest)`);
      }
      const text = typeof auth === 'string' ? auth : auth instanceof Uint8Array ? new TextDecoder().decode(auth) : undefined;
      if (text === undefined) throw badArgument('addAuthInfo: auth must be "user:password" as a string or UTF-8 bytes');
      this.#refuseIfEnded('addAuthInfo');
      return new Promise<void>((resolve, reject) => {
        // Settles once the identity is added AND the calls issued before it are answered, so
        // completions keep issue order as well (the calls after it wait behind the barrier).
        let parts = 2;
        const partDone = (): void => {
          parts -= 1;
          if (parts === 0) resolve();
        };
        this.#afterAnswered(partDone);
        this.#sequencer
          .barrier(async () => {
            const id: Id = { scheme: 'digest', id: await digestId(text) };
            this.#refuseIfOver('addAuthInfo');
            if (this.#auth.some((known) => known.scheme === id.scheme && known.id === id.id)) return;
            if (this.#auth.length >= AUTH_IDS_MAX) {
              throw new KeeperError('QUOTAEXCEEDED', `addAuthInfo: a session holds at most ${AUTH_IDS_MAX} identities (AUTH_IDS_MAX)`);
            }
            this.#host.serving.addAuth(this.sessionId, id);
            this.#auth.push(id);
          })
          .then(partDone, reject);
      });
    });
  }

  // --- keeper.locks ------------------------------------------------------------------------
  //
  // navigator.locks, ensemble-wide (API.md, Recipes). The facade lives in the recipes layer
  // (src/recipes/web-locks.ts), which sits above the client and uses only its public API; so the
  // client never imports it statically — no import cycle, and an app that never touches
  // keeper.locks does not bundle the recipes. The first call loads it with a dynamic import; calls
  // made meanwhile run in call order once it is loaded.

  #locks: LockManager | null = null;

  /** The Web Locks API across the ensemble: `request(name, [options], callback)` and `query()`. */
  get locks(): LockManager {
    this.#locks ??= lazyLockManager(() => import('../recipes/web-locks.js').then((recipes) => recipes.createLockManager(this)));
    return this.#locks;
  }

  // --- internals ---------------------------------------------------------------------------

  async #open(timeoutMs: number): Promise<void> {
    const listener: SessionListener = {
      event: (event) => this.#deliver(event),
      state: (state) => this.#peerState(state),
    };
    let opened: { ok: true; session: LocalSession } | { ok: false; code: FailureName } = { ok: false, code: 'CONNECTIONLOSS' };
    // A connection loss while the session is being created is transient (a joining peer that
    // installs the ensemble's snapshot fails the writes in flight): try again, a bounded number of
    // times. A session created by a lost attempt is pinged by nobody, so the leader expires it.
    for (let attempt = 1; attempt <= OPEN_SESSION_ATTEMPTS_MAX; attempt++) {
      this.#openingState = null;
      opened = await new Promise<{ ok: true; session: LocalSession } | { ok: false; code: FailureName }>((resolve) => {
        this.#host.serving.openSession({ timeoutMs, listener }, resolve);
      });
      if (opened.ok || opened.code !== 'CONNECTIONLOSS' || this.#state === 'closed' || attempt === OPEN_SESSION_ATTEMPTS_MAX) break;
      await new Promise((resolve) => setTimeout(resolve, OPEN_SESSION_RETRY_MS * attempt));
    }
    if (!opened.ok || this.#state === 'closed' || this.#state === 'expired') {
      this.#state = 'closed';
      await this.#release();
      const code = opened.ok ? 'SESSIONEXPIRED' : opened.code;
      throw new KeeperError(code, `join: the serving peer did not open a session (${code})`);
    }
    this.#session = opened.session;
    this.#unsubscribeStatus = this.#host.onStatus((status) => this.#events.emit('status', status));
    // The peer tells the session's first state before it answers openSession (kept meanwhile).
    this.#setState(this.#openingState ?? 'connected');
  }

  /** The peer's view of the session. Final states stay final. */
  #peerState(state: SessionState): void {
    if (this.#state === 'closed' || this.#state === 'expired') return;
    if (state === 'expired' || state === 'closed') {
      void this.#end(state);
      return;
    }
    if (this.#session === null) {
      this.#openingState = state; // join has not resolved yet: nobody can listen
      return;
    }
    this.#setState(state);
  }

  #setState(state: KeeperState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit('state', state);
  }

  /** A watch event from the serving peer: called synchronously, so before the answer of any later
   *  read that reflects the change. A watcher that throws is reported and the others still run. */
  #deliver(event: WatchEvent): void {
    if (this.#session === null || event.watcher !== this.#session.sessionId) return;
    if (this.#state === 'closed' || this.#state === 'expired') return;
    const watchers = this.#watches.materialize(event.type, event.path);
    for (const watcher of watchers) {
      try {
        watcher({ type: event.type, path: event.path });
      } catch (error) {
        this.#report(error, `a watcher for ${event.type} ${event.path}`);
      }
    }
  }

  #readArguments(path: string, options: WatchOptions | undefined, op: string): { checked: string; watch: Watcher | undefined } {
    const given = checkOptions<WatchOptions>(options, ['watch'], op);
    const checked = checkPath(path);
    if (given.watch === undefined) return { checked, watch: undefined };
    const watch = checkWatcher(given.watch, checked);
    this.#checkWatchRoom(checked);
    return { checked, watch };
  }

  #checkWatchRoom(path: string): void {
    if (!this.#watches.hasRoom()) {
      throw new KeeperError('QUOTAEXCEEDED', `this keeper already holds ${this.#watches.size} watcher registrations`, path);
    }
  }

  /** At call time: after close() was called, or once the session is over, nothing is sent. */
  #refuseIfEnded(op: string): void {
    this.#refuseIfOver(op);
    if (this.#closing !== null) throw endedError('closing', op);
  }

  /** When a call issued earlier gets its turn: only a session that is over stops it (a close()
   *  issued after the call waits behind it). */
  #refuseIfOver(op: string): void {
    if (this.#state === 'closed' || this.#state === 'expired') throw endedError(this.#state, op);
  }

  /** Submits one request in call order; `onAnswer` turns a success into the call's value (it runs
   *  before the promise settles, so a watch registers before anyone sees the answer). `from`
   *  'barrier': a request a barrier makes while it runs (sent at once, before the calls queued
   *  behind the barrier; a close() issued after the barrier's call does not stop it). */
  #call<T>(request: SessionRequest, onAnswer: (result: Ok) => T, from: 'user' | 'barrier' = 'user'): Promise<T> {
    if (from === 'user') this.#refuseIfEnded(request.op);
    else this.#refuseIfOver(request.op);
    if (this.#inflight.size >= CALLS_IN_FLIGHT_MAX) {
      throw new KeeperError('QUOTAEXCEEDED', `${request.op}: ${CALLS_IN_FLIGHT_MAX} calls are already in flight (CALLS_IN_FLIGHT_MAX)`);
    }
    const promise = new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const call: Call = {
        settled: false,
        fail: (error) => settle(() => reject(error)),
        after: [],
      };
      const settle = (finish: () => void): void => {
        if (call.settled) return;
        call.settled = true;
        if (timer !== undefined) clearTimeout(timer);
        this.#inflight.delete(call);
        finish();
        for (const hook of call.after.splice(0)) hook();
        if (this.#inflight.size === 0) this.#wakeIdleWaiters();
      };
      const done = (result: SessionResult): void =>
        settle(() => {
          if (!result.ok) {
            reject(failureOf(result, request));
            return;
          }
          try {
            resolve(onAnswer(result));
          } catch (error) {
            reject(error);
          }
        });
      this.#inflight.add(call);
      this.#lastCall = call;
      if (this.#requestTimeoutMs > 0) {
        timer = setTimeout(() => {
          call.fail(new KeeperError('OPERATIONTIMEOUT', `${request.op}: no answer within requestTimeoutMs (${this.#requestTimeoutMs} ms); the outcome is unknown`));
        }, this.#requestTimeoutMs);
      }
      const submit = (): void => this.#submit(call, request, done);
      // A barrier's own requests go out at once: the calls queued behind it must follow them.
      if (from === 'barrier') submit();
      else this.#sequencer.run(submit);
    });
    return promise;
  }

  /** Runs when the call's turn comes (at once, unless a barrier is in progress). */
  #submit(call: Call, request: SessionRequest, done: (result: SessionResult) => void): void {
    if (call.settled) return; // timed out while waiting behind a barrier: never sent
    if (this.#state === 'closed' || this.#state === 'expired') {
      call.fail(endedError(this.#state, request.op));
      return;
    }
    try {
      this.#host.serving.submit(this.sessionId, request, done);
    } catch (error) {
      this.#report(error, `the serving peer's submit(${request.op})`);
      call.fail(new KeeperError('CONNECTIONLOSS', `${request.op}: the serving peer failed while taking the call; the outcome is unknown`));
    }
  }

  /** Runs `hook` once every call issued so far has settled (at once if none is in flight). */
  #afterAnswered(hook: () => void): void {
    const last = this.#lastCall;
    if (last === null || last.settled) hook();
    else last.after.push(hook);
  }

  /** Resolves when no call is in flight. */
  #idle(): Promise<void> {
    if (this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdleWaiters(): void {
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  async #closeSession(): Promise<void> {
    if (this.#ended !== null) return this.#ended;
    const boundMs = this.sessionTimeoutMs * CLOSE_DRAIN_TIMEOUTS;
    await withTimeout(this.#idle(), boundMs);
    if (this.#ended !== null) return this.#ended; // expired meanwhile
    const sessionId = this.sessionId;
    await withTimeout(
      new Promise<void>((resolve) => {
        // Whatever the answer (ok; SESSIONEXPIRED: already gone; CONNECTIONLOSS: the ensemble
        // will expire it), the session is over for this keeper.
        this.#host.serving.closeSession(sessionId, () => resolve());
      }),
      boundMs,
    );
    return this.#end('closed');
  }

  /**
   * The session is over (closed, or expired, as the serving peer said or as close() decided):
   * watches go at once and the state is final. The serving peer answers the calls it still holds
   * right after it reports the end (SESSIONEXPIRED: no effect), so the rest is settled a turn
   * later: a call still unanswered then has an unknown outcome (CONNECTIONLOSS). Then the peer is
   * released — outside the peer's own callback, which a standalone peer's stop must not run in.
   */
  #end(state: 'closed' | 'expired'): Promise<void> {
    if (this.#ended !== null) return this.#ended;
    this.#watches.clear();
    this.#unsubscribeStatus?.();
    this.#unsubscribeStatus = null;
    this.#setState(state);
    this.#ended = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
      for (const call of [...this.#inflight]) {
        const why = state === 'closed' ? 'was closed' : 'expired';
        call.fail(new KeeperError('CONNECTIONLOSS', `the session ${why} before this call was answered; the outcome is unknown`));
      }
      return this.#release();
    });
    return this.#ended;
  }

  /** Tells the host once that this keeper is done (a standalone ensemble stops with its last one). */
  #release(): Promise<void> {
    this.#released ??= this.#host.release().catch((error: unknown) => {
      this.#report(error, "releasing the keeper's peer");
    });
    return this.#released;
  }
}

function expectOp<Op extends Ok['op']>(result: Ok, op: Op): OkOf<Op> {
  assert(result.op === op, `the serving peer answered a ${op} with a ${result.op} result`);
  return result as OkOf<Op>;
}

function failureOf(result: Extract<SessionResult, { ok: false }>, request: SessionRequest): KeeperError {
  const path = result.path ?? ('path' in request ? request.path : 'prefix' in request ? request.prefix : undefined);
  if (request.op === 'multi' && 'results' in result && result.results !== undefined) {
    const failedOp = result.results.findIndex((entry) => entry.op === 'error' && entry.code !== 'OK' && entry.code !== 'RUNTIMEINCONSISTENCY');
    const failing = result.results[failedOp];
    const code = failing !== undefined && failing.op === 'error' && failing.code !== 'OK' ? failing.code : result.code;
    const opPath = request.ops[failedOp]?.path;
    return new MultiError({ code, results: result.results, failedOp: Math.max(failedOp, 0), path: opPath ?? path });
  }
  return answeredError(result.code, path, request.op, 'reason' in result ? result.reason : undefined);
}

/** Runs a call's synchronous part; a thrown error (a bad argument, a closed keeper) becomes the
 *  rejection of the call's promise, as with an async function but without its extra turns. */
function guard<T>(body: () => Promise<T>): Promise<T> {
  try {
    return body();
  } catch (error) {
    return Promise.reject(error);
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A LockManager whose implementation is loaded on first use (see Keeper's `get locks`). */
function lazyLockManager(load: () => Promise<LockManager>): LockManager {
  let loaded: Promise<LockManager> | null = null;
  const manager = (): Promise<LockManager> => (loaded ??= load());
  return {
    request: (...args: unknown[]) => manager().then((locks) => (locks.request as (...given: unknown[]) => Promise<never>)(...args)),
    query: () => manager().then((locks) => locks.query()),
  } as LockManager;
}
