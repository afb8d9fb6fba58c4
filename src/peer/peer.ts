/**
 * The Peer: one Raft replica of the ZooKeeper tree, serving sessions, driven only through the
 * injected Transport, ReplicaStorage and Clock, and a seed. No timers, Date, Math.random or
 * promises here: ticks come from `clock.after`, randomness from a Prng seeded by `options.seed`,
 * so a simulator replays a run exactly from (transport, storage, clock, seed).
 *
 *   Peer.start(options, done)      loads storage (or bootstraps), starts ticking
 *   peer.openSession / closeSession / addAuth / submit     the ServingApi (serving.ts)
 *   peer.status(), peer.onStatus(listener)                  API.md's keeper.status() + counters
 *   peer.leave(done)               close local sessions, hand off leadership, stop
 *   peer.leaveNow()                the same in one synchronous step (a closing tab's pagehide)
 *   peer.suspend(done) / suspendNow()   the same, but the identity stays a member: another tab of
 *                                  its browser profile resumes it from storage (a slot)
 *   peer.stop()                    stop at once (a crash, to the others)
 *
 * ONE THREAD. Everything the peer does runs in one loop: a message, a timer or an API call enters
 * through `external`, which runs it to completion, then any tasks queued meanwhile (messages a
 * synchronous transport delivered, work deferred with `defer`, forwards to itself), then the
 * client callbacks queued with `notify`, in order. Callbacks from the Replica (apply, read states,
 * soft state) run through `internal`, immediately, inside whatever step caused them: applying an
 * entry, firing its watches and answering its write happen as one step, so no read can slip in
 * between. Client callbacks run only after the peer's state is consistent, and may call the peer
 * again (their calls queue as tasks).
 *
 * Raft ticks every `timing.raftTickMs`; session duties (pings, expiry) every `sessionTickMs`;
 * the container/TTL sweep every `containerSweepIntervalMs` (leader only).
 *
 * MEMBERSHIP AT THIS LAYER. A peer not in its latest configuration (a joining peer bootstrapped
 * with EMPTY_CONFIG, or one that learned it was removed) sends JOIN to its contacts and to any
 * leader it hears of, every `joinRetryMs`, until it is a member. A voter removed while it could not
 * hear of it keeps its old configuration and would campaign forever (the Raft core's noted gap):
 * the leader answers such a peer's Raft messages with REMOVED (leader.ts), and the peer then stops
 * ticking Raft (so it never campaigns) and asks to join again. It accepts REMOVED only for a term
 * at least its own and a committed configuration at least as new as its latest config entry, and
 * forgets it as soon as it applies a newer configuration that holds it.
 */

import { assert } from '../core/assert.js';
import {
  decodeConfigEntry,
  EMPTY_CONFIG,
  isMember,
  isVoter,
  makeConfig,
  RawNode,
  type Config,
  type Entry,
  type Message,
  type PeerId,
  type PersistedState,
  type RaftOptions,
  type ReadState,
  type Snapshot,
  type SoftState,
} from '../core/consensus/index.js';
import type { FailureName } from '../core/errors.js';
import { SNAPSHOT_BYTES_MAX } from '../core/limits.js';
import { Prng } from '../core/prng.js';
import type { DataTree, TreeLimits } from '../core/tree/index.js';
import type { Applied } from '../core/tree/index.js';
import type { Id, SessionId } from '../core/tree/types.js';
import { DEPARTED_PEERS_MAX, MEMBER_REJOIN_SILENCE_MS, UNSAFE_RECOVERY_TERM_JUMP, ORPHAN_CLOSES_MAX, SLOT_RETURN_GRACE_MS, PEER_TASKS_QUEUED_MAX, resolveTiming, TARGET_VOTERS_DEFAULT, TARGET_VOTERS_MAX, type PeerTiming } from './constants.js';
import { newCounters, type PeerCounters, type PeerHost, type UnsafeRuntimeMutations } from './host.js';
import type { Cancel, Clock, ReplicaStorage, Transport } from './interfaces.js';
import { LeaderDuties } from './leader.js';
import { votersShareDomain } from './membership.js';
import { isMovableRequest, MOVABLE_REQUEST_MARK, type LogRecord } from './record.js';
import { Replica, type ReplicaEvents } from './replica.js';
import { ServingDuties } from './serving.js';
import type { Done, LocalSession, OpenSessionOptions, RemoteServingApi, ResumeOptions, SessionRequest, SessionResult } from './serving-api.js';
import { TreeStateMachine } from './tree-machine.js';
import { decodeWire, encodeWire, type WireMessage } from './wire.js';

export interface PeerOptions {
  readonly transport: Transport;
  readonly storage: ReplicaStorage;
  readonly clock: Clock;
  /** Seeds every random choice (Raft's election timeouts, session ids, the incarnation). Give each
   *  start of one peer id a different seed: the incarnation tells a restarted peer's requests from
   *  its previous life's (it also mixes in the clock). */
  readonly seed: number;
  /** The first voters of a new ensemble, or EMPTY_CONFIG (the default) to join one. Ignored when
   *  storage holds state. */
  readonly bootstrap?: Config;
  /** Peers to ask to join through (any member will do: non-leaders answer with a leader hint). A
   *  function is asked at each join attempt (a networked peer's contacts are whoever is in its
   *  room right now). */
  readonly contacts?: readonly PeerId[] | (() => readonly PeerId[]);
  /** The number of voters the leader aims for: odd, 1..TARGET_VOTERS_MAX (default 3). */
  readonly targetVoters?: number;
  readonly timing?: Partial<PeerTiming>;
  /** Raft's own knobs (the id and PRNG come from this peer). */
  readonly raft?: Omit<RaftOptions, 'id' | 'prng'>;
  /** Every replica of one ensemble must use the same tree limits. */
  readonly treeLimits?: Partial<TreeLimits>;
  readonly snapshotEntriesInterval?: number;
  /** Instrumentation for tests and the simulator (see PeerObserver); no decision reads it. */
  readonly observer?: PeerObserver;
  /** TEST-ONLY unsafe deviations (host.ts); never set outside the simulator's mutation tests. */
  readonly unsafeRuntimeMutations?: UnsafeRuntimeMutations;
}

/**
 * What the peer simulator (src/sim/peer) watches of a peer, called synchronously inside the step
 * that caused it: role changes with the replica (status and log), every applied entry with the
 * tree after it (during the replay at start too), and every snapshot restored. Observation only:
 * nothing the peer decides depends on it, and an observer must not call the peer.
 */
export interface PeerObserver {
  softState?(state: SoftState, replica: Replica): void;
  /** Every applied entry, right after the tree applied it and before any client hears of it. */
  applied?(entry: Entry, tree: DataTree): void;
  /** `atStart`: loaded from storage as the peer starts (else installed from the leader). */
  restored?(snapshot: Snapshot, tree: DataTree, atStart: boolean): void;
}

/** API.md's keeper.status(), plus what this runtime counts. */
export interface PeerStatus {
  readonly peerId: PeerId;
  readonly role: 'leader' | 'follower' | 'candidate' | 'observer';
  readonly term: number;
  readonly leaderId: PeerId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** The last index in this peer's log (committed or not). */
  readonly lastIndex: number;
  readonly voters: string[];
  readonly observers: string[];
  /** This peer leads, or hears from a leader (writes can commit). */
  readonly quorum: boolean;
  /** Two or more voters share one failure domain (membership.ts failureDomain: the slots of one
   *  browser profile share its machine and disk), so losing that domain costs them all. */
  readonly votersShareDomain: boolean;
  /** Sessions served by this peer. */
  readonly sessions: number;
  /** This peer learned it was removed from the configuration (it asks to join again). */
  readonly removed: boolean;
  readonly stopped: boolean;
  readonly counters: PeerCounters;
}

type StartResult = { ok: true; peer: Peer } | { ok: false; error: Error };

export interface UnsafeRecoverOptions {
  /** Recover even while this peer leads or hears from a leader (tests only: with a quorum, the
   *  recovery forks the ensemble and loses whatever the others commit). */
  readonly force?: boolean;
}

/** How Peer.unsafeRecover ended. Refused (BADARGUMENTS: the peer has a quorum, or recovers
 *  already), the peer stopping (CONNECTIONLOSS), or storage failed (SYSTEMERROR: the peer stopped). */
export type UnsafeRecoverResult =
  | { readonly ok: true; readonly appliedIndex: number; readonly droppedEntries: number; readonly term: number }
  | { readonly ok: false; readonly code: FailureName; readonly reason: string };

/** Where a session was opened: its serving peer, and that peer's incarnation at the time. */
interface SessionOrigin {
  readonly peer: PeerId;
  readonly incarnation: string;
  /** A client-only attachment's session (record.ts MOVABLE_REQUEST_MARK): it may be served by
   *  another peer now, so its origin's departure or end does not close it; only silence does. */
  readonly movable: boolean;
}

/** The incarnation part of a request id (`[m~]<incarnation>.<counter>`, host.nextRequestId). */
function requestIncarnation(requestId: string): string {
  if (isMovableRequest(requestId)) requestId = requestId.slice(MOVABLE_REQUEST_MARK.length);
  const dot = requestId.lastIndexOf('.');
  return dot < 0 ? requestId : requestId.slice(0, dot);
}

const HEX = '0123456789abcdef';

function hex32(value: number): string {
  let out = '';
  for (let shift = 28; shift >= 0; shift -= 4) out += HEX[(value >>> shift) & 0xf];
  return out;
}

export class Peer implements RemoteServingApi {
  readonly peerId: PeerId;
  private readonly timing: PeerTiming;
  private readonly counters = newCounters();
  private readonly machine: TreeStateMachine;
  private readonly ids: Prng;
  private readonly raftPrng: Prng;
  private readonly incarnation: string;
  private readonly targetVoters: number;
  private readonly contacts: () => readonly PeerId[];
  private readonly lastHeard = new Map<PeerId, number>();
  /** Peers confirmed gone from the room (roomChanged); the leader treats them as silent. */
  private readonly departed = new Set<PeerId>();
  /** The serving peer of each session and the incarnation of it that opened the session, from
   *  its createSession record (volatile: sessions opened before a snapshot this peer restored are
   *  not here; they just time out). Bounded as the tree's sessions are: one entry per session. */
  private readonly sessionOrigins = new Map<SessionId, SessionOrigin>();
  /** Incarnations that said they ended while their identity stays (a suspended browser slot:
   *  `leaving` with `returns`), by peer, with when. Bounded by DEPARTED_PEERS_MAX. */
  private readonly endedIncarnations = new Map<PeerId, { readonly incarnation: string; readonly at: number }>();
  /** Sessions of this peer's earlier lives it has asked to close (closeOrphans), in flight. */
  private readonly orphansClosing = new Set<SessionId>();
  /** Peers the room reported gone, awaiting confirmation (when the notice came). */
  private readonly leftAt = new Map<PeerId, number>();
  private readonly host: PeerHost;
  private readonly leader: LeaderDuties;
  private readonly serving: ServingDuties;
  private replicaValue: Replica | null = null;
  private requestCounter = 0;

  private depth = 0;
  private tasks: (() => void)[] = [];
  private notices: (() => void)[] = [];
  private readonly timers = new Set<Cancel>();
  private stopped = false;
  private fatal: Error | null = null;

  private committed: { config: Config; index: number } = { config: EMPTY_CONFIG, index: 0 };
  private removed: { by: PeerId; configIndex: number } | null = null;
  private leaderHint: PeerId | null = null;
  private lastLeader: PeerId | null = null;
  private lastJoinAt = Number.NEGATIVE_INFINITY;
  /** When this peer last heard Raft traffic from a leader (or led); its start counts as contact. */
  private leaderContactAt: number;
  /** An unsafe recovery is waiting for the replica to rewrite its storage. */
  private recovering = false;
  private leaving: { readonly startedAt: number; phase: 'closing' | 'transfer'; transferAt: number; closesLeft: number; readonly returns: boolean; readonly avoid: ReadonlySet<PeerId>; readonly done: () => void } | null = null;
  private readonly statusListeners = new Set<(status: PeerStatus) => void>();
  private lastStatusKey = '';

  private constructor(private readonly options: PeerOptions) {
    this.peerId = options.transport.self;
    this.timing = resolveTiming(options.timing);
    const target = options.targetVoters ?? TARGET_VOTERS_DEFAULT;
    assert(Number.isInteger(target) && target >= 1 && target <= TARGET_VOTERS_MAX && target % 2 === 1, `targetVoters ${target} is odd, 1..${TARGET_VOTERS_MAX}`);
    this.targetVoters = target;
    const contacts = options.contacts ?? [];
    this.contacts = typeof contacts === 'function' ? contacts : () => contacts;
    const prng = new Prng(options.seed);
    this.raftPrng = prng.fork();
    this.ids = prng.fork();
    this.leaderContactAt = Math.floor(options.clock.now());
    this.incarnation = `${hex32(this.ids.u32())}${hex32(this.ids.u32())}-${Math.floor(Math.abs(options.clock.now())).toString(36)}`;
    this.machine = new TreeStateMachine(options.treeLimits ?? {});
    this.host = this.makeHost();
    this.leader = new LeaderDuties(this.host);
    this.serving = new ServingDuties(this.host);
    this.machine.listener = { applied: (entry, record, applied) => this.internal(() => this.onRecordApplied(entry, record, applied)) };
  }

  /** Loads the replica from storage (or bootstraps it) and starts the peer. */
  static start(options: PeerOptions, done: (result: StartResult) => void): void {
    const peer = new Peer(options);
    Replica.start(
      {
        raft: { ...options.raft, id: peer.peerId, prng: peer.raftPrng },
        storage: options.storage,
        stateMachine: peer.machine,
        send: (message) => peer.sendRaft(message),
        bootstrap: options.bootstrap ?? EMPTY_CONFIG,
        events: peer.replicaEvents(),
        ...(options.snapshotEntriesInterval === undefined ? {} : { snapshotEntriesInterval: options.snapshotEntriesInterval }),
      },
      (result) => {
        if (!result.ok) return done(result);
        peer.attach(result.replica);
        done({ ok: true, peer });
      },
    );
  }

  private get replica(): Replica {
    const replica = this.replicaValue;
    assert(replica !== null, 'the peer has started');
    return replica;
  }

  /** The local replica's tree (read-only use: tests, the status board). */
  get tree(): DataTree {
    return this.machine.tree;
  }

  private makeHost(): PeerHost {
    const replica = (): Replica => this.replica;
    const tree = (): DataTree => this.machine.tree;
    return {
      id: this.peerId,
      incarnation: this.incarnation,
      timing: this.timing,
      counters: this.counters,
      targetVoters: this.targetVoters,
      unsafeRuntimeMutations: this.options.unsafeRuntimeMutations ?? {},
      get replica() {
        return replica();
      },
      get tree() {
        return tree();
      },
      lastHeard: this.lastHeard,
      departed: this.departed,
      servingGone: (sessionId) => this.servingGone(sessionId),
      now: () => this.now(),
      send: (to, message) => this.send(to, message),
      defer: (task) => this.defer(task),
      notify: (notice) => this.notices.push(notice),
      nextRequestId: () => `${this.incarnation}.${(this.requestCounter += 1)}`,
      randomHex: () => `${hex32(this.ids.u32())}${hex32(this.ids.u32())}`,
      leaderContact: () => this.leaderContact(),
      committedConfig: () => this.committed,
    };
  }

  private now(): number {
    return Math.floor(this.options.clock.now());
  }

  // --- The loop -----------------------------------------------------------------------------------

  /**
   * Runs `task` now, or after the current step if the peer is busy; then queued tasks, then the
   * client callbacks, in order. A client callback that throws does not disturb the peer (this may
   * run inside the Replica's Ready loop, from a storage callback): its error is rethrown from a
   * fresh `clock.after(0)` timer, where the platform (or the simulator) reports it.
   */
  private external(task: () => void): void {
    if (this.depth > 0) {
      this.defer(task);
      return;
    }
    this.depth = 1;
    try {
      task();
      for (;;) {
        const next = this.tasks.shift();
        if (next !== undefined) {
          next();
          continue;
        }
        const notice = this.notices.shift();
        if (notice !== undefined) {
          this.runNotice(notice);
          continue;
        }
        if (!this.queueStatusNotices()) break;
      }
    } finally {
      this.depth = 0;
    }
  }

  private runNotice(notice: () => void): void {
    try {
      notice();
    } catch (error) {
      this.counters.callbackErrors += 1;
      this.options.clock.after(0, () => {
        throw error;
      });
    }
  }

  /** Runs `task` at once: within a step when one is running, else as a step of its own. */
  private internal(task: () => void): void {
    if (this.depth > 0) task();
    else this.external(task);
  }

  private defer(task: () => void): void {
    if (this.tasks.length >= PEER_TASKS_QUEUED_MAX) {
      this.counters.dropped.overloaded += 1;
      return;
    }
    this.tasks.push(task);
  }

  private schedule(ms: number, tick: () => void): void {
    const cancel = this.options.clock.after(ms, () => {
      this.timers.delete(cancel);
      if (this.stopped) return;
      this.schedule(ms, tick);
      this.external(tick);
    });
    this.timers.add(cancel);
  }

  // --- Start, stop, leave -------------------------------------------------------------------------

  private attach(replica: Replica): void {
    this.replicaValue = replica;
    if (this.committed.index === 0) this.committed = { config: replica.inspectLog().snapshot.config, index: replica.inspectLog().snapshot.index };
    this.options.transport.onMessage((from, bytes) => this.onMessage(from, bytes));
    this.schedule(this.timing.raftTickMs, () => this.raftTick());
    this.schedule(this.timing.sessionTickMs, () => this.sessionTick());
    this.schedule(this.timing.containerSweepIntervalMs, () => this.leader.sweep());
    this.external(() => {
      const config = replica.status().config;
      // A lone voter need not wait an election timeout to find nobody else: campaign at once.
      if (config.voters.length === 1 && config.voters[0] === this.peerId) replica.withNode((node) => node.campaign());
      this.joinTick();
    });
  }

  /**
   * The room says `peer` left (its relay socket closed: a tab closed or crashed, a process
   * stopped) or came back. If nothing is heard from it for DEPARTURE_CONFIRM_MS after the notice,
   * it is gone: a leader demotes or removes it at once (if a working majority remains) instead of
   * after VOTER_UNREACHABLE_MS, and closes the sessions it served instead of waiting for their
   * timeouts; if it led, the first remaining voter campaigns at once (takeOverFrom). So closing a
   * tab hands its vote and its locks on within about a second. Safety never depends on it (every
   * change goes through Raft); a peer wrongly reported gone and still talking is kept.
   * Sessions of client-only attachments (movable, record.ts) are not closed here: their clients
   * move them to another serving peer, and they expire only when silent past their timeout.
   */
  roomChanged(peer: PeerId, present: boolean): void {
    this.external(() => {
      if (peer === this.peerId) return;
      if (present) {
        const leftAt = this.leftAt.get(peer);
        this.departed.delete(peer);
        this.leftAt.delete(peer);
        // Back before its departure was confirmed, unheard since it left: a new process or tab
        // with its identity (a restart; a browser slot adopted after its tab crashed). It does not
        // lead any more, whatever the others believe: its first successor campaigns at once
        // rather than after an election timeout. (A relay blip would have let its heartbeats
        // through meanwhile; if not, this costs one election, never safety.)
        if (leftAt !== undefined && (this.lastHeard.get(peer) ?? Number.NEGATIVE_INFINITY) <= leftAt) this.takeOverFrom(peer, leftAt);
        return;
      }
      if (this.leftAt.size >= DEPARTED_PEERS_MAX) return void this.counters.dropped.overloaded++;
      const at = this.now();
      this.leftAt.set(peer, at);
      const cancel = this.options.clock.after(this.timing.departureConfirmMs, () => {
        this.timers.delete(cancel);
        this.external(() => this.confirmDeparture(peer, at));
      });
      this.timers.add(cancel);
    });
  }

  private confirmDeparture(peer: PeerId, at: number): void {
    if (this.stopped || this.leftAt.get(peer) !== at) return;
    this.leftAt.delete(peer);
    if ((this.lastHeard.get(peer) ?? Number.NEGATIVE_INFINITY) > at) return; // still talking: a relay blip
    // A suspended slot (it said it returns): another tab resumes it; keep its vote meanwhile.
    if (this.returning(peer, at)) {
      this.takeOverFrom(peer, at);
      return;
    }
    this.markDeparted(peer);
    this.takeOverFrom(peer, at);
    this.leader.sessionTick();
  }

  /** Remembers `peer` as gone (bounded by DEPARTED_PEERS_MAX: non-members are forgotten first). */
  private markDeparted(peer: PeerId): void {
    if (this.departed.has(peer)) return;
    if (this.departed.size >= DEPARTED_PEERS_MAX) {
      const config = this.replica.status().config;
      for (const id of this.departed) if (!isMember(config, id)) this.departed.delete(id);
      const oldest = this.departed.values().next();
      if (this.departed.size >= DEPARTED_PEERS_MAX && oldest.done !== true) this.departed.delete(oldest.value);
    }
    this.departed.add(peer);
    this.counters.departures += 1;
  }

  /**
   * `peer` said it is stopping now (its leaveNow: a tab closing). It is gone at once — no
   * DEPARTURE_CONFIRM_MS wait, the peer itself said so, and only it can (the transport names the
   * sender): a leader closes the sessions it served and replaces its vote; a new leader does so as
   * it takes office (LeaderDuties.become). If it led and named a successor, that voter got
   * TimeoutNow and campaigns; if it named none, the first remaining voter takes over as when the
   * room reports a leader gone.
   */
  private onLeaving(peer: PeerId, successor: PeerId | null, returns: boolean, incarnation: string): void {
    this.counters.leaveNotices += 1;
    if (returns) {
      // Its identity comes back (another tab adopts the slot): it stays a member; the sessions
      // this incarnation served are gone (their clients were on the closing page).
      if (!this.endedIncarnations.has(peer) && this.endedIncarnations.size >= DEPARTED_PEERS_MAX) {
        const oldest = this.endedIncarnations.keys().next();
        if (oldest.done !== true) this.endedIncarnations.delete(oldest.value);
      }
      this.endedIncarnations.set(peer, { incarnation, at: this.now() });
    } else {
      this.leftAt.delete(peer);
      this.markDeparted(peer);
    }
    if (successor === null) this.takeOverFrom(peer, this.now());
    this.leader.sessionTick();
  }

  /** `peer` said, since `at` or within SLOT_RETURN_GRACE_MS before it, that its identity returns. */
  private returning(peer: PeerId, at: number): boolean {
    const ended = this.endedIncarnations.get(peer);
    return ended !== undefined && at - ended.at <= SLOT_RETURN_GRACE_MS;
  }

  /** host.servingGone: the session's serving peer left the room, or the incarnation of it that
   *  opened the session ended (a suspended slot; or this peer's own earlier life). */
  private servingGone(sessionId: SessionId): boolean {
    const origin = this.sessionOrigins.get(sessionId);
    if (origin === undefined || origin.movable) return false;
    if (origin.peer === this.peerId) return origin.incarnation !== this.incarnation && !this.serving.serves(sessionId);
    if (this.departed.has(origin.peer)) return true;
    return this.endedIncarnations.get(origin.peer)?.incarnation === origin.incarnation;
  }

  /**
   * Sessions this peer opened in an earlier life (before a crash or restart, or in the tab that
   * hosted this slot before): their clients lived in that process or page and are gone, so this
   * peer asks to close them at once rather than let them wait out their timeouts (a crashed tab's
   * locks go within a round trip of its slot being adopted). A leader closes them itself
   * (servingGone, in its session tick). Bounded: ORPHAN_CLOSES_MAX in flight.
   */
  private closeOrphans(): void {
    if (this.stopped || this.leaving !== null || this.replicaValue === null) return;
    const status = this.replica.status();
    if (status.leader === null || status.role === 'leader') return;
    for (const [sessionId, origin] of this.sessionOrigins) {
      if (this.orphansClosing.size >= ORPHAN_CLOSES_MAX) break;
      if (origin.peer !== this.peerId || origin.movable || origin.incarnation === this.incarnation || this.orphansClosing.has(sessionId) || this.serving.serves(sessionId)) continue;
      this.orphansClosing.add(sessionId);
      this.counters.orphansClosed += 1;
      this.serving.closeOrphan(sessionId, () => this.orphansClosing.delete(sessionId));
    }
  }

  /**
   * The leader left the room (its tab closed mid-term, often before its leave() could hand over):
   * the first remaining voter by id campaigns at once, as if the leader had sent it TimeoutNow
   * (§3.10), instead of waiting out an election timeout inside the leader lease. Still a plain
   * Raft election (a higher term, a majority of votes for an up-to-date log), so safety holds; if
   * it is not up to date, the others refuse and the normal timeout elects someone else.
   */
  private takeOverFrom(departed: PeerId, at: number): void {
    const status = this.replica.status();
    if (status.leader !== departed || this.leaderContactAt > at || !status.config.voters.includes(this.peerId)) return;
    const successor = status.config.voters.filter((id) => id !== departed && !this.departed.has(id)).sort()[0];
    if (successor !== this.peerId) return;
    this.counters.takeovers += 1;
    this.replica.withNode((node) => {
      node.step({ type: 'timeout-now', from: departed, to: this.peerId, term: status.term });
    });
  }

  /** Stops at once: timers cancelled, the replica stopped, pending requests fail with
   *  CONNECTIONLOSS. Sessions stay in the ensemble until they expire (use leave() to close them). */
  stop(): void {
    this.external(() => this.stopNow('the peer stopped'));
  }

  private stopNow(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const cancel of [...this.timers]) cancel();
    this.timers.clear();
    this.replicaValue?.stop();
    this.serving.shutdown(reason);
  }

  /**
   * Leaves gracefully: closes the sessions served here (their ephemerals go at once), hands
   * leadership to the most caught-up voter if this peer leads, then stops. Each phase waits at
   * most `timing.leaveWaitMs`. `done` is called once stopped.
   */
  leave(done: () => void, avoid: readonly PeerId[] = []): void {
    this.startLeave(false, done, avoid);
  }

  /**
   * Suspends this identity gracefully (a browser slot handed to another tab of its profile, or a
   * Keeper closing in a tab that hosts slots): as leave() — sessions closed, leadership handed on —
   * but it stays a member, and its last act is a `leaving` notice that it returns, so nobody
   * demotes it while another tab resumes it from storage (SLOT_RETURN_GRACE_MS).
   */
  suspend(done: () => void, avoid: readonly PeerId[] = []): void {
    this.startLeave(true, done, avoid);
  }

  private startLeave(returns: boolean, done: () => void, avoid: readonly PeerId[]): void {
    this.external(() => {
      if (this.stopped || this.leaving !== null) {
        this.notices.push(done);
        return;
      }
      // Movable sessions are not closed: their clients move them (remote-clients.ts tells them).
      const movable = new Set(this.serving.movableSessionIds());
      for (const id of movable) this.serving.detachSession(id);
      const ids = this.serving.sessionIds().filter((id) => !movable.has(id));
      this.leaving = { startedAt: this.now(), phase: 'closing', transferAt: 0, closesLeft: ids.length, returns, avoid: new Set(avoid), done };
      for (const id of ids) {
        this.serving.closeSession(id, () => {
          if (this.leaving !== null) this.leaving.closesLeft -= 1;
          this.defer(() => this.leaveStep());
        });
      }
      this.leaveStep();
    });
  }

  private leaveStep(): void {
    const leaving = this.leaving;
    if (leaving === null || this.stopped) return;
    const now = this.now();
    if (leaving.phase === 'closing') {
      if (leaving.closesLeft > 0 && now - leaving.startedAt < this.timing.leaveWaitMs) return;
      leaving.phase = 'transfer';
      leaving.transferAt = now;
      this.leader.leaving = true;
      if (!this.startTransfer()) return this.finishLeave();
    }
    if (this.leader.term === null || now - leaving.transferAt >= this.timing.leaveWaitMs) this.finishLeave();
  }

  /** Starts a leadership transfer to the most caught-up active voter; false if there is none. */
  private startTransfer(): boolean {
    const status = this.replica.status();
    if (status.role !== 'leader' || status.progress === null) return false;
    const target = status.progress
      .filter((p) => p.id !== this.peerId && !p.isLearner && p.recentActive && this.leaving?.avoid.has(p.id) !== true)
      .sort((a, b) => b.match - a.match || (a.id < b.id ? -1 : 1))[0];
    if (target === undefined) return false;
    this.replica.withNode((node) => {
      node.transferLeadership(target.id);
    });
    return true;
  }

  /**
   * Leaves NOW, in this one synchronous step: for a page's `pagehide`, after which nothing the page
   * scheduled (storage callbacks, timers, the Ready loop's next batch) may ever run. Everything
   * that must happen leaves as plain transport sends before this returns:
   * - every member gets a `leaving` notice, so it treats this peer as gone at once (no
   *   DEPARTURE_CONFIRM_MS, no wait for the relay to notice the closed socket): the leader closes
   *   the sessions served here (their ephemerals and locks go at once) and replaces the vote;
   * - on a leader, the most caught-up voter gets TimeoutNow right after its notice (§3.10) and
   *   campaigns at once, so leadership moves in one election round at term + 1 instead of after an
   *   election timeout; it closes this peer's sessions as it takes office. The message is built and
   *   sent here, not through RawNode.transferLeadership: the replica may be persisting a batch
   *   (the transfer would wait in its queue) and the Ready loop sends only after persisting, which
   *   a closing page never sees. It is only advice: the target still needs a majority's votes for
   *   an up-to-date log, so safety is Raft's; if it lags, an election timeout elects another.
   * Then the peer stops. Writes it proposed but had not replicated are lost (their clients are on
   * this closing page). Use leave() when there is time to wait for the commits.
   * `avoid` (here and in leave / suspend): peers never to pick as successor — the other peers this
   * closing page hosts (slots.ts), which go with it.
   */
  leaveNow(avoid: readonly PeerId[] = []): void {
    this.external(() => this.leaveAtOnce(false, new Set(avoid)));
  }

  /** leaveNow for an identity that returns (a closing tab's slots, adopted by the profile's other
   *  tabs): the same synchronous hand-off, but the notice says it stays a member. */
  suspendNow(avoid: readonly PeerId[] = []): void {
    this.external(() => this.leaveAtOnce(true, new Set(avoid)));
  }

  private leaveAtOnce(returns: boolean, avoid: ReadonlySet<PeerId>): void {
    if (this.stopped) return;
    const status = this.replica.status();
    let successor: PeerId | null = null;
    if (status.role === 'leader' && status.progress !== null) {
      const target = status.progress
        .filter((p) => p.id !== this.peerId && !p.isLearner && !this.departed.has(p.id) && !avoid.has(p.id))
        .sort((a, b) => Number(b.recentActive) - Number(a.recentActive) || b.match - a.match || (a.id < b.id ? -1 : 1))[0];
      successor = target?.id ?? null;
    }
    const members = [...status.config.voters, ...status.config.learners].filter((id) => id !== this.peerId);
    for (const id of members) this.send(id, { kind: 'leaving', successor, returns, incarnation: this.incarnation });
    if (successor !== null) {
      this.counters.transfersOnLeave += 1;
      this.sendRaft({ type: 'timeout-now', from: this.peerId, to: successor, term: status.term });
    }
    const leaving = this.leaving;
    this.stopNow('the peer left');
    if (leaving !== null) this.notices.push(leaving.done);
  }

  private finishLeave(): void {
    const leaving = this.leaving;
    assert(leaving !== null, 'finishLeave: leaving');
    if (leaving.returns) {
      // Leadership was handed on (or there was none to hand); tell the members it comes back.
      const config = this.replica.status().config;
      for (const id of [...config.voters, ...config.learners]) {
        if (id !== this.peerId) this.send(id, { kind: 'leaving', successor: null, returns: true, incarnation: this.incarnation });
      }
    }
    this.stopNow('the peer left');
    this.notices.push(leaving.done);
  }

  // --- Unsafe recovery ----------------------------------------------------------------------------

  /**
   * UNSAFE, for operators, when a majority of voters is gone for good (DESIGN.md "Quorum lost";
   * etcd's --force-new-cluster, ZooKeeper's reconfig from a surviving server): this peer becomes
   * the sole voter of a new configuration, keeping the state it has applied. Its storage is
   * rewritten in one transaction (Replica.replaceState): a snapshot of the tree at the applied
   * index whose configuration is { voters: [self] }, and a hard state UNSAFE_RECOVERY_TERM_JUMP
   * terms above its own, committed through that index. Entries it holds beyond the applied index are dropped:
   * a write the lost majority acknowledged but this peer had not applied is LOST. Then it
   * campaigns at once and leads alone.
   *
   * Nothing is closed: sessions stay in the tree (their serving peers ping the new leader, or they
   * expire). Peers that come back find themselves outside the configuration: the leader answers
   * their Raft messages with REMOVED, they ask to JOIN and are added as learners, then promoted
   * (membership.ts); a returning replica whose committed entries the new log contradicts drops
   * its history and joins from scratch (onRaft: divergesFromCommitted).
   *
   * Refused while this peer leads or hears from a leader (`status().quorum`) unless `force`.
   */
  unsafeRecover(options: UnsafeRecoverOptions, done: Done<UnsafeRecoverResult>): void {
    this.external(() => {
      const answer = (result: UnsafeRecoverResult): void => void this.notices.push(() => done(result));
      if (this.stopped || this.leaving !== null) return answer({ ok: false, code: 'CONNECTIONLOSS', reason: 'the peer is stopping' });
      if (this.recovering) return answer({ ok: false, code: 'BADARGUMENTS', reason: 'a recovery of this peer is already under way' });
      const status = this.status();
      if (options.force !== true && (status.quorum || status.role === 'leader')) {
        return answer({ ok: false, code: 'BADARGUMENTS', reason: 'this peer has a quorum (it leads or hears from a leader): recovering would fork the ensemble' });
      }
      let droppedEntries = 0;
      this.recovering = true;
      const queued = this.replica.replaceState(
        () => {
          const built = this.recoveryState();
          if (typeof built !== 'string') droppedEntries = this.replica.status().lastIndex - built.snapshot.meta.index;
          return built;
        },
        (outcome) =>
          this.internal(() => {
            this.recovering = false;
            if (!outcome.ok) return answer({ ok: false, code: outcome.fatal ? 'SYSTEMERROR' : 'BADARGUMENTS', reason: outcome.reason });
            this.counters.unsafeRecoveries += 1;
            this.removed = null;
            this.leaderHint = null;
            // The sole voter: campaign at once, as a lone voter does at start (attach).
            this.replica.withNode((node) => node.campaign());
            const meta = outcome.state.snapshot.meta;
            answer({ ok: true, appliedIndex: meta.index, droppedEntries, term: outcome.state.hardState.term });
          }),
      );
      if (!queued) {
        this.recovering = false;
        answer({ ok: false, code: 'BADARGUMENTS', reason: 'the replica is overloaded; try again' });
      }
    });
  }

  /** The state an unsafe recovery writes (see unsafeRecover), or why there is none. Called by the
   *  replica with no batch in flight, so the tree is exactly at the applied index. */
  private recoveryState(): PersistedState | string {
    const replica = this.replica;
    const applied = replica.applied;
    const term = termAt(replica.inspectLog(), applied);
    assert(term !== undefined, `unsafeRecover: the applied entry ${applied} is in the log or its snapshot`);
    const data = this.machine.snapshot();
    if (data.length > SNAPSHOT_BYTES_MAX) return `the tree's snapshot (${data.length} bytes) exceeds SNAPSHOT_BYTES_MAX`;
    return {
      hardState: { term: replica.status().term + UNSAFE_RECOVERY_TERM_JUMP, vote: null, commit: applied },
      snapshot: { meta: { index: applied, term, config: makeConfig([this.peerId]) }, data },
      entries: [],
    };
  }

  /**
   * Whether a current leader's append or snapshot contradicts an entry this replica has committed:
   * a term other than ours at an index we committed. Raft never does that (leader completeness,
   * §3.6: the leader of a term at least ours holds every committed entry); only an unsafe recovery
   * elsewhere does, and stepping the message would truncate committed entries (an assertion in
   * the log) or leave this tree ahead of the leader's. Cheap in the steady state: once our log
   * ends with an entry of the sender's term, it matches the sender's log through that entry (Log
   * Matching, §3.5), so there is nothing to check.
   */
  private divergesFromCommitted(message: Message): boolean {
    if (message.type !== 'append' && message.type !== 'snapshot') return false;
    const replica = this.replica;
    if (replica.lastTerm === message.term) return false;
    const status = replica.status();
    // A deposed leader's stale append may well disagree (its uncommitted suffix); Raft ignores it.
    if (message.term < status.term) return false;
    let log: ReturnType<Replica['inspectLog']> | null = null;
    const contradicts = (index: number, term: number): boolean => {
      if (index > status.commit || index < status.snapshotIndex) return false;
      log ??= replica.inspectLog();
      const ours = termAt(log, index);
      return ours !== undefined && ours !== term;
    };
    if (message.type === 'snapshot') return contradicts(message.meta.index, message.meta.term);
    if (contradicts(message.prevLogIndex, message.prevLogTerm)) return true;
    for (const entry of message.entries) {
      if (entry.index > status.commit) break;
      if (contradicts(entry.index, entry.term)) return true;
    }
    return false;
  }

  /** Drops this replica's diverged history (see divergesFromCommitted): storage becomes a fresh
   *  joiner's (no configuration, nothing applied; term and vote kept, they never go back), and the
   *  peer asks to join; the leader, which added it as a learner already, sends its snapshot. */
  private dropDivergedHistory(): void {
    if (this.recovering) return;
    this.recovering = true;
    const queued = this.replica.replaceState(
      () => {
        const raft = this.replica.status();
        const fresh = RawNode.bootstrapState(EMPTY_CONFIG);
        return { ...fresh, hardState: { term: raft.term, vote: raft.vote, commit: 0 } };
      },
      (outcome) =>
        this.internal(() => {
          this.recovering = false;
          if (!outcome.ok) return;
          this.counters.divergedResets += 1;
          this.removed = null;
          this.joinTick();
        }),
    );
    if (!queued) this.recovering = false;
  }

  // --- Timers -------------------------------------------------------------------------------------

  private raftTick(): void {
    if (this.removed === null) this.replica.tick();
    this.serving.raftTick();
    this.leader.raftTick();
    if (this.now() - this.lastJoinAt >= this.timing.joinRetryMs) this.joinTick();
    this.leaveStep();
  }

  private sessionTick(): void {
    this.serving.sessionTick();
    this.leader.sessionTick();
    this.closeOrphans();
    this.pruneLastHeard();
  }

  /** A non-member (joining, or removed) asks to join, through its contacts and any leader it knows. */
  private joinTick(): void {
    const status = this.replica.status();
    const now = this.now();
    if (status.role === 'leader') this.leaderContactAt = now;
    const member = isMember(status.config, this.peerId) && this.removed === null;
    if (member && now - this.leaderContactAt < MEMBER_REJOIN_SILENCE_MS) return;
    this.lastJoinAt = this.now();
    const targets = new Set<PeerId>(this.contacts().filter((id) => id !== this.peerId));
    for (const id of [this.leaderHint, status.leader, this.removed?.by ?? null]) if (id !== null && id !== this.peerId) targets.add(id);
    if (targets.size === 0) return;
    this.counters.joinRequests += 1;
    for (const to of targets) this.send(to, { kind: 'join' });
  }

  /** Forgets when it heard from peers that are neither members nor heard from lately. */
  private pruneLastHeard(): void {
    const config = this.replica.status().config;
    const now = this.now();
    for (const [peer, heard] of this.lastHeard) {
      if (!isMember(config, peer) && now - heard > this.timing.learnerUnreachableMs) this.lastHeard.delete(peer);
    }
  }

  // --- Messages -----------------------------------------------------------------------------------

  private sendRaft(message: Message): void {
    this.options.transport.send(message.to, encodeWire({ kind: 'raft', message }));
  }

  /** Sends a wire message; one to this peer itself is handled after the current step. */
  private send(to: PeerId, message: WireMessage): void {
    if (this.stopped) return;
    if (to === this.peerId) {
      this.defer(() => this.dispatch(this.peerId, message));
      return;
    }
    this.options.transport.send(to, encodeWire(message));
  }

  private onMessage(from: PeerId, bytes: Uint8Array): void {
    if (this.stopped) {
      this.counters.dropped.stopped += 1;
      return;
    }
    this.external(() => {
      if (this.stopped) {
        this.counters.dropped.stopped += 1;
        return;
      }
      const decoded = decodeWire(bytes);
      if (!decoded.ok) {
        this.counters.dropped[decoded.reason] += 1;
        return;
      }
      this.dispatch(from, decoded.message);
    });
  }

  private dispatch(from: PeerId, message: WireMessage): void {
    if (from !== this.peerId) this.lastHeard.set(from, this.now());
    switch (message.kind) {
      case 'raft':
        return this.onRaft(from, message.message);
      case 'forward':
        return this.leader.onForward(from, message.forward);
      case 'forward-refused':
        return this.serving.onRefused(message.refusal);
      case 'forward-probe':
        return this.leader.onForwardProbe(from, message.probe);
      case 'ping':
        return this.leader.onPing(message.sessions);
      case 'join':
        return this.onJoin(from);
      case 'leader-hint':
        if (message.leader !== null && message.leader !== this.peerId) this.leaderHint = message.leader;
        return;
      case 'removed':
        return this.onRemoved(from, message.term, message.configIndex);
      case 'leaving':
        return this.onLeaving(from, message.successor, message.returns, message.incarnation);
    }
  }

  private onRaft(from: PeerId, message: Message): void {
    if (message.from !== from) {
      this.counters.dropped.spoofed += 1;
      return;
    }
    if (message.to !== this.peerId) {
      this.counters.dropped.misaddressed += 1;
      return;
    }
    if (this.leader.term !== null) this.leader.noticeSender(from, this.replica.status().config);
    // Raft traffic from the leader of the message's term (heartbeats, appends, snapshots): this
    // peer is in contact with a leader (joinTick's rejoin clock). Other peers' answers are not.
    if (isFromLeader(message)) this.leaderContactAt = this.now();
    if (isFromLeader(message) && this.divergesFromCommitted(message)) {
      this.counters.dropped['raft-refused'] += 1;
      this.dropDivergedHistory();
      return;
    }
    const queued = this.replica.withNode((node) => {
      if (!node.step(message).ok) this.counters.dropped['raft-refused'] += 1;
    });
    if (!queued) this.counters.dropped.overloaded += 1;
  }

  private onJoin(from: PeerId): void {
    if (this.leader.term !== null) {
      this.leader.onJoin(from);
      return;
    }
    const status = this.replica.status();
    this.send(from, { kind: 'leader-hint', term: status.term, leader: status.leader });
  }

  private onRemoved(from: PeerId, term: number, configIndex: number): void {
    const replica = this.replica;
    if (term < replica.status().term) return;
    const log = replica.inspectLog();
    let latestConfigIndex = log.snapshot.index;
    for (let i = log.entries.length - 1; i >= 0; i--) {
      const entry = log.entries[i] as Entry;
      if (entry.kind === 'config') {
        latestConfigIndex = entry.index;
        break;
      }
    }
    // A committed configuration at least as new as ours leaves us out: we were removed.
    if (configIndex < latestConfigIndex) return;
    if (this.removed === null) this.counters.removedNoticesAccepted += 1;
    this.removed = { by: from, configIndex };
    this.leaderHint = from;
  }

  // --- Replica callbacks --------------------------------------------------------------------------

  private replicaEvents(): ReplicaEvents {
    return {
      softState: (state) => this.internal(() => this.onSoftState(state)),
      readState: (state) => this.internal(() => this.onReadState(state)),
      applied: (entry) => this.internal(() => this.onApplied(entry)),
      restored: (snapshot) => this.internal(() => this.onRestored(snapshot)),
      fatal: (error) => this.internal(() => this.onFatal(error)),
    };
  }

  private onSoftState(state: SoftState): void {
    if (state.leader !== null && state.leader !== this.lastLeader) this.counters.electionsSeen += 1;
    this.lastLeader = state.leader;
    if (state.leader !== null && state.leader !== this.peerId) this.leaderHint = state.leader;
    if (this.replicaValue === null) return;
    this.options.observer?.softState?.(state, this.replicaValue);
    this.leader.observe(this.replicaValue.status());
    this.serving.pumpOutbox();
    if (state.leader !== null) this.defer(() => this.closeOrphans());
  }

  private onReadState(state: ReadState): void {
    if (this.replicaValue === null) return;
    this.serving.onReadState(state);
  }

  private onRecordApplied(entry: Entry, record: LogRecord, applied: Applied): void {
    const body = record.txn.body;
    if (body.type === 'createSession') {
      this.sessionOrigins.set(body.sessionId, { peer: record.origin, incarnation: requestIncarnation(record.requestId), movable: isMovableRequest(record.requestId) });
    }
    else if (body.type === 'closeSession') this.sessionOrigins.delete(body.sessionId);
    this.options.observer?.applied?.(entry, this.machine.tree);
    if (this.replicaValue === null) return; // replaying the log at start: nobody to tell
    this.leader.onRecordApplied(entry, record, applied);
    this.serving.onRecordApplied(entry, record, applied);
  }

  private onApplied(entry: Entry): void {
    // Normal entries were reported in onRecordApplied, before any client heard of them.
    if (entry.kind !== 'normal') this.options.observer?.applied?.(entry, this.machine.tree);
    if (entry.kind === 'config') {
      const decoded = decodeConfigEntry(entry.data);
      assert(decoded.ok, `config entry ${entry.index} decodes`);
      this.committed = { config: decoded.value.config, index: entry.index };
      if (this.removed !== null && entry.index > this.removed.configIndex && isMember(decoded.value.config, this.peerId)) this.removed = null;
    }
    if (this.replicaValue === null) return;
    this.leader.onAppliedIndex();
    this.serving.onAppliedIndex(entry.index);
  }

  private onRestored(snapshot: Snapshot): void {
    this.options.observer?.restored?.(snapshot, this.machine.tree, this.replicaValue === null);
    this.committed = { config: snapshot.meta.config, index: snapshot.meta.index };
    if (this.removed !== null && snapshot.meta.index > this.removed.configIndex && isMember(snapshot.meta.config, this.peerId)) this.removed = null;
    if (this.replicaValue === null) return;
    this.serving.onRestored();
  }

  private onFatal(error: Error): void {
    this.fatal = error;
    this.stopNow(`storage failed: ${error.message}`);
  }

  /** The storage error that stopped this peer, if any. */
  get fatalError(): Error | null {
    return this.fatal;
  }

  // --- Status -------------------------------------------------------------------------------------

  private leaderContact(): boolean {
    if (this.stopped) return false;
    const status = this.replica.summary();
    if (status.role === 'leader') return true;
    if (status.leader === null) return false;
    const heard = this.lastHeard.get(status.leader);
    return heard !== undefined && this.now() - heard <= this.timing.leaderSilenceMs;
  }

  status(): PeerStatus {
    const raft = this.replica.summary();
    const config = raft.config;
    let role: PeerStatus['role'];
    if (raft.role === 'leader') role = 'leader';
    else if (!isVoter(config, this.peerId) || this.removed !== null) role = 'observer';
    else if (raft.role === 'candidate' || raft.role === 'pre-candidate') role = 'candidate';
    else role = 'follower';
    const dropped = { ...this.counters.dropped };
    return {
      peerId: this.peerId,
      role,
      term: raft.term,
      leaderId: raft.leader,
      commitIndex: raft.commit,
      appliedIndex: this.replica.applied,
      lastIndex: raft.lastIndex,
      voters: [...config.voters],
      observers: [...config.learners],
      quorum: this.leaderContact(),
      votersShareDomain: votersShareDomain(config.voters),
      sessions: this.serving.sessionCount,
      removed: this.removed !== null,
      stopped: this.stopped,
      counters: { ...this.counters, dropped },
    };
  }

  /** Calls `listener` whenever the role, term, leader, membership, quorum or removal changes
   *  (not on every commit). Returns the unsubscribe function. */
  onStatus(listener: (status: PeerStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Queues a notice for each status listener if the status changed; true if it did. */
  private queueStatusNotices(): boolean {
    if (this.statusListeners.size === 0 || this.replicaValue === null) return false;
    // Runs after every step: the key is built from the summary, the status object only on a change.
    const raft = this.replica.summary();
    const role = raft.role === 'pre-candidate' ? 'candidate' : raft.role; // as status() reports it
    const key = `${role} ${raft.term} ${raft.leader ?? ''} ${raft.config.voters.join(',')} ${raft.config.learners.join(',')} ${this.leaderContact()} ${this.removed !== null} ${this.stopped} ${isVoter(raft.config, this.peerId)}`;
    if (key === this.lastStatusKey) return false;
    this.lastStatusKey = key;
    const status = this.status();
    for (const listener of [...this.statusListeners]) this.notices.push(() => listener(status));
    return true;
  }

  // --- ServingApi ---------------------------------------------------------------------------------

  openSession(options: OpenSessionOptions, done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName }>): void {
    this.external(() => {
      if (this.stopped) return this.notices.push(() => done({ ok: false, code: 'CONNECTIONLOSS' }));
      this.serving.openSession(options, done);
    });
  }

  closeSession(sessionId: string, done: Done<{ ok: true } | { ok: false; code: FailureName }>): void {
    this.external(() => {
      if (this.stopped) return this.notices.push(() => done({ ok: false, code: 'CONNECTIONLOSS' }));
      this.serving.closeSession(sessionId, done);
    });
  }

  addAuth(sessionId: string, id: Id): void {
    this.external(() => this.serving.addAuth(sessionId, id));
  }

  submit(sessionId: string, request: SessionRequest, done: Done<SessionResult>): void {
    this.external(() => {
      if (this.stopped) return this.notices.push(() => done({ ok: false, code: 'CONNECTIONLOSS', reason: 'the peer stopped' }));
      this.serving.submit(sessionId, request, done);
    });
  }

  resumeSession(sessionId: string, options: ResumeOptions, done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName; reason?: string }>): void {
    this.external(() => {
      if (this.stopped || this.leaving !== null) return this.notices.push(() => done({ ok: false, code: 'CONNECTIONLOSS', reason: 'the peer is stopping' }));
      this.serving.resumeSession(sessionId, options, done);
    });
  }

  detachSession(sessionId: string): void {
    this.external(() => this.serving.detachSession(sessionId));
  }

  movableSessionIds(): string[] {
    return this.serving.movableSessionIds();
  }

  appliedIndex(): number {
    return this.replicaValue === null ? 0 : this.replicaValue.applied;
  }
}

/** The term of the entry at `index` in `log` (its snapshot's term at the snapshot index), or
 *  undefined when the log does not hold it. */
function termAt(log: ReturnType<Replica['inspectLog']>, index: number): number | undefined {
  if (index === log.snapshot.index) return log.snapshot.term;
  const entry = log.entries[index - log.snapshot.index - 1];
  if (entry === undefined) return undefined;
  assert(entry.index === index, `the log is contiguous: entry ${entry.index} at ${index}`);
  return entry.term;
}

/** Message kinds only a leader sends (etcd-raft's MsgApp, MsgHeartbeat, MsgSnap; a snapshot chunk). */
function isFromLeader(message: Message): boolean {
  return message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
}
