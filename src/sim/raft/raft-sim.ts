/**
 * One run of the Raft simulator (TigerBeetle's VOPR shape): from one seed, a cluster of real
 * Replicas on SimHosts, Raft messages encoded with codec/raft.ts and decoded on delivery through a
 * faulty SimNetwork, disks that lose unsynced writes on a crash, drifting and freezing tick
 * sources, clients recording a history, an operator churning the membership, and a fault schedule;
 * then a quiet phase in which everything heals and liveness is checked; then the final checks.
 *
 * Phases (virtual time):
 *   [0, quietFrom)      faults + clients + operator; safety checked at every step (monitor.ts)
 *   quietFrom           heal-all: partitions healed, paused nodes resumed, crashed ones restarted
 *   liveness            a stable leader within LIVENESS_LEADER_ELECTION_TIMEOUTS; a fresh write applied within
 *                       LIVENESS_WRITE_MS; clients run LIVENESS_CLIENTS_MS more, and every
 *                       operation invoked after the settle time ends with a known outcome; every
 *                       live member applies everything the leader committed within
 *                       LIVENESS_CONVERGE_MS
 *   final               durability, Log Matching over durable and in-memory logs, linearizability
 *
 * Everything random comes from forks of one Prng, in a fixed order; nothing reads real time.
 */

import { assert } from '../../core/assert.js';
import { decodeMessage, encodeMessage } from '../../core/codec/raft.js';
import { EMPTY_CONFIG, makeConfig, type Config, type ConfigChange, type Entry, type Message, type MessageType, type PeerId, type ProposeOutcome, type Status } from '../../core/consensus/index.js';
import { Prng } from '../../core/prng.js';
import { HistoryRecorder } from '../../testing/history.js';
import { checkLinearizability } from '../../testing/linearizability.js';
import { keyedRegisterModel, type KeyedRegisterInput, type RegisterOutput } from '../../testing/models/register.js';
import { describeFault, generateFaultSchedule, scheduleFaults, type FaultSchedule, type FaultTarget } from '../faults.js';
import { SimHost } from '../host.js';
import { SimNetwork } from '../network.js';
import { Scheduler } from '../scheduler.js';
import { SimStorage } from '../storage.js';
import { formatTime, TraceLog } from '../trace.js';
import { SimClient, type ClientGateway, type ReadReply, type WriteReply } from './clients.js';
import { formatMessageShort } from './format.js';
import { SafetyMonitor, SimViolation, type CheckName } from './monitor.js';
import { SimNode, type NodeContext } from './node.js';
import { Operator, type OperatorCluster } from './operator.js';
import { CRASH_AT_WRITE_WAIT_MS, type MutationName, type RaftSimProfile } from './profiles.js';
import { persistedStateOf, type RaftDisk, type StoredValue } from './replica-storage.js';

/** Liveness bounds after the quiet phase starts. Elections take one to a few election timeouts
 *  (at most 2T each, split votes repeat them); restarted nodes replay their logs first. */
export const LIVENESS_LEADER_ELECTION_TIMEOUTS = 30;
/** A fresh write must be applied on the leader within this, once a leader is stable. */
export const LIVENESS_WRITE_MS = 3_000;
/** Clients keep working this long into the quiet phase, after the leader is stable. */
export const LIVENESS_CLIENTS_MS = 2_000;
/** Operations invoked this long after the stable leader was found must end with known outcomes
 *  (earlier ones may still be waiting on replicas that were down). */
export const LIVENESS_SETTLE_MS = 500;
/** Every live member applies what the leader committed within this, after the clients stop. */
export const LIVENESS_CONVERGE_MS = 8_000;
/** The operator's period. */
export const OPERATOR_ROUND_MS = 200;
/** Events in one run: tens of thousands is normal (measured: 6,000-25,000); a hundred times
 *  that is a message storm or a livelock, reported as a liveness failure of the seed. */
export const RUN_EVENTS_MAX = 2_000_000;
/** Raft messages in flight at once: at most ~270 measured over every profile (heartbeats, a
 *  pipelined window per follower, duplicates); five thousand means messages breed messages (a
 *  storm), reported at once as a liveness failure instead of running into RUN_EVENTS_MAX. */
export const MESSAGES_IN_FLIGHT_STORM = 5_000;
/** Polling step of the liveness phase. */
const POLL_MS = 10;

export interface RaftSimOptions {
  readonly seed: number;
  readonly profile: RaftSimProfile;
  readonly mutation?: MutationName | null;
  /** Trace lines kept for reading (the digest covers every line). */
  readonly traceLinesKept?: number;
}

/** Faults injected, by kind (what the schedule asked and the target did). */
export type FaultCounts = Record<string, number>;

export interface SeedFigures {
  readonly virtualMs: number;
  readonly events: number;
  readonly faults: FaultCounts;
  readonly operations: { readonly invoked: number; readonly ok: number; readonly unknown: number };
  readonly entriesCommitted: number;
  readonly elections: number;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly snapshotsInstalled: number;
  readonly voters: number;
  readonly learners: number;
}

export interface SeedOutcome {
  readonly seed: number;
  readonly profile: string;
  readonly mutation: MutationName | null;
  readonly verdict: 'pass' | 'violation' | 'undecided';
  readonly check: CheckName | null;
  readonly message: string;
  readonly traceTail: readonly string[];
  readonly digest: string;
  readonly figures: SeedFigures;
}

interface Wire {
  readonly from: string;
  readonly to: string;
  readonly type: MessageType;
  readonly term: number;
  readonly bytes: Uint8Array;
}

export class RaftSim implements FaultTarget {
  readonly seed: number;
  readonly profile: RaftSimProfile;
  readonly mutation: MutationName | null;
  readonly scheduler: Scheduler;
  readonly trace: TraceLog;
  readonly monitor = new SafetyMonitor();
  readonly network: SimNetwork<Wire>;
  readonly history: HistoryRecorder<KeyedRegisterInput, RegisterOutput>;
  readonly schedule: FaultSchedule;
  private readonly faultPrng: Prng;
  /** Forks one Prng per node, joiners included, in the order they appear. */
  private readonly nodePrng: Prng;
  private readonly clientLinkPrng: Prng;
  private readonly nodes = new Map<PeerId, SimNode>();
  private readonly clients: SimClient[] = [];
  private readonly probe: SimClient;
  private readonly operator: Operator;
  private readonly context: NodeContext;
  /** Crash/pause events name a slot; the node actually struck (null: none was). */
  private readonly struck = new Map<string, PeerId | null>();
  private readonly faultCounts: FaultCounts = {};
  private snapshotsInstalled = 0;
  /** Crash-at-write armings, numbered, so that a timeout never fires for a later arming. */
  private armings = 0;
  private readonly armedBy = new Map<PeerId, number>();
  /** After heal-all: nothing is injected any more. */
  private quiet = false;
  private readonly initialVoters: PeerId[];
  private readonly initialLearners: PeerId[];

  constructor(options: RaftSimOptions) {
    this.seed = options.seed;
    this.profile = options.profile;
    this.mutation = options.mutation ?? null;
    const prng = new Prng(options.seed);
    // Forks in a fixed order: adding draws to one component never shifts another's.
    const shapePrng = prng.fork();
    const networkPrng = prng.fork();
    this.faultPrng = prng.fork();
    this.clientLinkPrng = prng.fork();
    const clientPrng = prng.fork();
    const operatorPrng = prng.fork();
    this.nodePrng = prng.fork();
    const scheduleSeed = prng.u32() | 0;

    this.trace = new TraceLog(options.traceLinesKept);
    this.scheduler = new Scheduler();
    this.history = new HistoryRecorder({ clock: () => this.scheduler.now() });
    const voterCount = shapePrng.pick(this.profile.voterChoices);
    const learnerCount = shapePrng.int(0, this.profile.learnersMax);
    this.initialVoters = Array.from({ length: voterCount }, (_, i) => `n${i + 1}`);
    this.initialLearners = Array.from({ length: learnerCount }, (_, i) => `l${i + 1}`);
    const initial = [...this.initialVoters, ...this.initialLearners];
    this.network = new SimNetwork<Wire>({
      scheduler: this.scheduler,
      prng: networkPrng,
      nodes: initial,
      link: this.profile.link,
      deliver: (wire) => this.deliver(wire),
    });
    const unsafeMutations = this.mutation === null ? {} : { [this.mutation]: true };
    this.context = {
      profile: this.profile,
      unsafeMutations,
      monitor: this.monitor,
      now: () => this.scheduler.now(),
      trace: (line) => this.note(line),
      send: (message) => this.send(message),
      afterWrite: (node) => this.afterWrite(node),
      onSnapshotInstalled: () => {
        this.snapshotsInstalled += 1;
      },
    };
    const config = makeConfig(this.initialVoters, this.initialLearners);
    const slow = this.profile.slowDisks;
    const slowNodes = new Set(slow === undefined ? [] : shapePrng.shuffle([...initial]).slice(0, slow.nodes));
    for (const id of initial) {
      const node = this.addNode(id, config, this.nodePrng.fork());
      if (slow !== undefined && slowNodes.has(id)) node.host.storage.setFsyncDelay(slow.fsyncMs.min, slow.fsyncMs.max);
    }

    this.schedule = generateFaultSchedule({ seed: scheduleSeed, nodes: initial, profile: this.profile.faults });
    this.operator = new Operator({
      cluster: this.operatorCluster(),
      prng: operatorPrng,
      settings: { targetVoters: voterCount, promoteProbability: this.profile.promoteProbability, transferProbability: this.profile.transferProbability },
    });
    const gateway = this.gateway();
    for (let i = 0; i < this.profile.clientCount; i++) {
      this.clients.push(new SimClient({ name: `c${i + 1}`, prng: clientPrng.fork(), gateway, history: this.history, settings: this.profile.clients }));
    }
    this.probe = new SimClient({ name: 'probe', prng: clientPrng.fork(), gateway, history: this.history, settings: this.profile.clients });
    this.note(`seed ${this.seed} profile ${this.profile.name} voters ${this.initialVoters.join(',')} learners ${this.initialLearners.join(',') || '-'}${slowNodes.size === 0 ? '' : ` slow disks ${[...slowNodes].join(',')}`}${this.mutation === null ? '' : ` MUTATION ${this.mutation}`}`);
  }

  private note(line: string): void {
    this.trace.record(`${formatTime(this.scheduler.now())} ${line}`);
  }

  // --- nodes ------------------------------------------------------------------------------

  private addNode(id: PeerId, bootstrap: Config, prng: Prng): SimNode {
    const disk: RaftDisk = new SimStorage({ scheduler: this.scheduler, prng: prng.fork(), name: id, fsyncDelayMsMin: this.profile.fsyncMs.min, fsyncDelayMsMax: this.profile.fsyncMs.max });
    let node: SimNode | null = null;
    const host = new SimHost<Entry, StoredValue>({
      scheduler: this.scheduler,
      network: this.network,
      storage: disk,
      name: id,
      tickMs: this.profile.tickMs,
      driftRatio: 0,
      onStart: () => (node as SimNode).start(),
      onTick: () => (node as SimNode).replica?.tick(),
    });
    node = new SimNode({ id, host, bootstrap, context: this.context, raftPrng: prng.fork() });
    this.nodes.set(id, node);
    return node;
  }

  private node(id: PeerId): SimNode {
    const node = this.nodes.get(id);
    assert(node !== undefined, `a node named ${id}`);
    return node;
  }

  private send(message: Message): void {
    const target = this.nodes.get(message.to);
    if (target === undefined) return; // a peer the leader knows of but that never started
    if (this.network.inFlight() >= MESSAGES_IN_FLIGHT_STORM) {
      throw new SimViolation('liveness', `message storm: ${this.network.inFlight()} messages in flight (a ${message.type} ${message.from}->${message.to} is one too many)`);
    }
    this.network.send({ from: message.from, to: message.to, type: message.type, term: message.term, bytes: encodeMessage(message) });
  }

  private deliver(wire: Wire): void {
    const decoded = decodeMessage(wire.bytes);
    if (!decoded.ok) throw new SimViolation('codec', `a ${wire.type} from ${wire.from} to ${wire.to} does not decode: ${decoded.error}`);
    const message = decoded.value;
    if (message.type !== wire.type || message.term !== wire.term || message.from !== wire.from || message.to !== wire.to) {
      throw new SimViolation('codec', `a ${wire.type} t${wire.term} ${wire.from}->${wire.to} decodes as ${message.type} t${message.term} ${message.from}->${message.to}`);
    }
    this.note(formatMessageShort(message));
    const node = this.node(wire.to);
    node.host.run(() => node.replica?.step(message));
  }

  private afterWrite(node: SimNode): void {
    if (!node.crashArmed) return;
    node.crashArmed = false;
    // At this instant, before the write's fsync (which takes at least fsyncMs.min >= 0 ms and is
    // scheduled after this event).
    this.scheduler.schedule(0, `crash-at-write ${node.id}`, () => this.crashNow(node, 'during a write'));
  }

  /** The leader with the highest term among running nodes, if any. */
  private currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const node of this.nodes.values()) {
      if (!node.isUp()) continue;
      const status = (node.replica as NonNullable<SimNode['replica']>).status();
      if (status.role === 'leader' && status.term > bestTerm) {
        best = node;
        bestTerm = status.term;
      }
    }
    return best;
  }

  // --- faults (FaultTarget) -----------------------------------------------------------------

  private count(kind: string): void {
    this.faultCounts[kind] = (this.faultCounts[kind] ?? 0) + 1;
  }

  /** The node a crash or pause of slot `name` strikes: the leader when asked and possible, else
   *  the named node when it is up; null when neither (the event is skipped). */
  private strike(name: string, preferLeader: boolean): SimNode | null {
    if (preferLeader) {
      const leader = this.currentLeader();
      if (leader !== null && !leader.crashArmed) return leader;
    }
    const named = this.nodes.get(name);
    return named !== undefined && named.isUp() && !named.crashArmed ? named : null;
  }

  partition(groups: readonly (readonly string[])[]): void {
    this.count('partition');
    this.note(`FAULT partition ${groups.map((group) => `{${group.join(',')}}`).join(' | ')}`);
    this.network.heal();
    this.network.partition(groups);
  }

  partitionOneWay(from: readonly string[], to: readonly string[]): void {
    this.count('partition-one-way');
    this.note(`FAULT partition-one-way {${from.join(',')}} -/-> {${to.join(',')}}`);
    this.network.heal();
    this.network.cutOneWayBetween(from, to);
  }

  heal(): void {
    this.note('FAULT heal');
    this.network.heal();
  }

  crash(name: string, options: { readonly preferLeader?: boolean } = {}): void {
    const node = this.strike(name, options.preferLeader === true);
    this.struck.set(name, node?.id ?? null);
    if (node === null) return;
    if (this.faultPrng.chance(this.profile.crashAtWriteProbability)) {
      node.crashArmed = true;
      const arming = ++this.armings;
      this.armedBy.set(node.id, arming);
      this.note(`FAULT crash ${node.id} armed for its next write${options.preferLeader === true ? ' (leader)' : ''}`);
      this.scheduler.schedule(CRASH_AT_WRITE_WAIT_MS, `crash-at-write timeout ${node.id}`, () => {
        if (!node.crashArmed || this.armedBy.get(node.id) !== arming) return;
        node.crashArmed = false;
        this.crashNow(node, 'no write came');
      });
      return;
    }
    this.crashNow(node, options.preferLeader === true ? 'leader' : 'named');
  }

  private crashNow(node: SimNode, why: string): void {
    if (node.retired || node.host.process.state() === 'crashed') return;
    const pending = node.host.storage.pendingBatches();
    const keep = pending > 0 && this.faultPrng.chance(this.profile.tornWriteProbability) ? this.faultPrng.int(0, pending) : 0;
    this.count('crash');
    if (pending > 0) this.count('crash-with-unsynced-writes');
    if (keep > 0) this.count('torn-write');
    this.note(`FAULT crash ${node.id} (${why}; ${pending} unsynced batches, ${keep} kept)`);
    node.host.crash({ keepPendingBatches: keep });
    node.stopped();
  }

  restart(name: string): void {
    const id = this.struck.get(name);
    this.struck.delete(name);
    if (id === null || id === undefined) return;
    const node = this.node(id);
    if (node.crashArmed) {
      node.crashArmed = false; // the crash never came: nothing to restart
      return;
    }
    if (node.retired || node.host.process.state() !== 'crashed') return;
    this.count('restart');
    this.note(`FAULT restart ${id}`);
    node.host.restart();
  }

  pause(name: string, options: { readonly preferLeader?: boolean } = {}): void {
    const node = this.strike(name, options.preferLeader === true);
    this.struck.set(name, node?.id ?? null);
    if (node === null) return;
    this.count('pause');
    this.note(`FAULT pause ${node.id}`);
    node.host.pause();
  }

  resume(name: string): void {
    const id = this.struck.get(name);
    this.struck.delete(name);
    if (id === null || id === undefined) return;
    const node = this.node(id);
    if (node.host.process.state() !== 'paused') return;
    this.count('resume');
    this.note(`FAULT resume ${id}`);
    node.host.resume();
  }

  lossBurst(probability: number | null): void {
    if (this.quiet) return;
    if (probability !== null) this.count('loss-burst');
    this.note(probability === null ? 'FAULT loss-burst-end' : `FAULT loss-burst p=${probability}`);
    this.network.configureAllLinks({ lossProbability: probability ?? this.profile.link.lossProbability });
  }

  duplicateBurst(probability: number | null): void {
    if (this.quiet) return;
    if (probability !== null) this.count('duplicate-burst');
    this.note(probability === null ? 'FAULT duplicate-burst-end' : `FAULT duplicate-burst p=${probability}`);
    this.network.configureAllLinks({ duplicateProbability: probability ?? this.profile.link.duplicateProbability });
  }

  clockDrift(name: string, ratio: number): void {
    const node = this.nodes.get(name);
    if (node === undefined || node.retired) return;
    this.count('clock-drift');
    this.note(`FAULT clock-drift ${name} ratio=${ratio}`);
    node.host.clock.setDrift(ratio);
  }

  join(name: string): void {
    assert(!this.nodes.has(name), `${name} joins once`);
    this.count('join');
    this.note(`FAULT join ${name}`);
    this.network.addNode(name);
    const node = this.addNode(name, EMPTY_CONFIG, this.nodePrng.fork());
    node.host.start();
    this.operator.join(name);
  }

  leave(name: string): void {
    this.count('leave');
    this.note(`FAULT leave ${name}`);
    this.operator.leave(name);
  }

  /** The quiet phase starts: partitions healed, bursts over, and the links' own loss and
   *  duplication stop too (they are faults; delays and reordering stay), paused nodes resume,
   *  crashed ones restart. Clock drift stays (bounded drift is normal operation). */
  healAll(): void {
    this.note('FAULT heal-all');
    this.network.heal();
    this.quiet = true;
    this.network.configureAllLinks({ lossProbability: 0, duplicateProbability: 0 });
    this.struck.clear();
    for (const node of this.nodes.values()) {
      node.crashArmed = false;
      if (node.retired) continue;
      const state = node.host.process.state();
      if (state === 'paused') node.host.resume();
      if (state === 'crashed') node.host.restart();
    }
  }

  // --- clients and operator ------------------------------------------------------------------

  private clientDelay(): number {
    return this.clientLinkPrng.int(this.profile.clientLinkMs.min, this.profile.clientLinkMs.max);
  }

  private gateway(): ClientGateway {
    const addressable = (): string[] => [...this.nodes.values()].filter((node) => !node.retired).map((node) => node.id);
    const answer = <T>(client: string, node: string, reply: (value: T) => void, describe: (value: T) => string) => (value: T) => {
      this.scheduler.schedule(this.clientDelay(), `reply ${node}->${client}`, () => {
        this.note(`${node}->${client} ${describe(value)}`);
        reply(value);
      });
    };
    const describeWrite = (value: WriteReply): string => (value.kind === 'applied' ? `applied changed=${value.changed}` : `${value.kind} hint=${value.leaderHint ?? '-'}`);
    const describeRead = (value: ReadReply): string => (value.kind === 'value' ? `value ${JSON.stringify(value.value)}` : `refused hint=${value.leaderHint ?? '-'}`);
    return {
      now: () => this.scheduler.now(),
      addressableNodes: addressable,
      submitWrite: (client, nodeId, command, reply) => {
        const node = this.node(nodeId);
        const answered = answer(client, nodeId, reply, describeWrite);
        const what = command.kind === 'cas' ? `cas ${command.key} ${JSON.stringify(command.expected)}=>${command.value}` : `write ${command.key}=${command.value}`;
        this.scheduler.schedule(this.clientDelay(), `request ${client}->${nodeId}`, () => {
          this.note(`${client}->${nodeId} ${what} (${command.id})`);
          node.host.run(() => node.handleWrite(command, answered));
        });
      },
      submitRead: (client, nodeId, requestId, key, reply) => {
        const node = this.node(nodeId);
        const answered = answer(client, nodeId, reply, describeRead);
        this.scheduler.schedule(this.clientDelay(), `request ${client}->${nodeId}`, () => {
          this.note(`${client}->${nodeId} read ${key} (${requestId})`);
          node.host.run(() => node.handleRead(requestId, key, answered));
        });
      },
      timer: (delayMs, label, action) => {
        this.scheduler.schedule(delayMs, label, action);
      },
    };
  }

  private operatorCluster(): OperatorCluster {
    return {
      leaderStatus: (): Status | null => this.currentLeader()?.replica?.status() ?? null,
      proposeChange: (leader: PeerId, change: ConfigChange, outcome: (result: ProposeOutcome) => void) => {
        const node = this.node(leader);
        node.host.run(() => node.replica?.withNode((raw) => outcome(raw.proposeConfigChange(change))));
      },
      transferLeadership: (leader: PeerId, to: PeerId) => {
        const node = this.node(leader);
        node.host.run(() => node.replica?.withNode((raw) => raw.transferLeadership(to)));
      },
      retire: (id: PeerId) => this.retire(id),
      isApplied: (index: number, term: number) => this.monitor.appliedTermAt(index) === term,
      trace: (line: string) => this.note(line),
    };
  }

  private retire(id: PeerId): void {
    const node = this.node(id);
    if (node.retired) return;
    this.count('retire');
    node.retired = true;
    node.crashArmed = false;
    if (node.host.process.state() !== 'crashed') node.host.crash();
    node.stopped();
  }

  private operatorRound(): void {
    this.operator.round();
    this.scheduler.schedule(OPERATOR_ROUND_MS, 'operator', () => this.operatorRound());
  }

  // --- the run ------------------------------------------------------------------------------

  private runTo(time: number): void {
    const budget = RUN_EVENTS_MAX - this.scheduler.eventsRun();
    if (budget <= 0) throw new SimViolation('liveness', `more than ${RUN_EVENTS_MAX} events: a livelock`);
    this.scheduler.runUntil(time, { eventsMax: budget });
    if (this.scheduler.now() < time) throw new SimViolation('liveness', `more than ${RUN_EVENTS_MAX} events: a livelock`);
  }

  /** Runs until `condition` holds (polled every POLL_MS) or `deadline`; returns whether it held. */
  private runUntilTrue(condition: () => boolean, deadline: number): boolean {
    while (!condition()) {
      if (this.scheduler.now() >= deadline) return false;
      this.runTo(Math.min(deadline, this.scheduler.now() + POLL_MS));
    }
    return true;
  }

  /** A leader whose term is the highest among running members and that applied an entry of it. */
  private stableLeader(): SimNode | null {
    const leader = this.currentLeader();
    if (leader === null) return null;
    const status = (leader.replica as NonNullable<SimNode['replica']>).status();
    for (const node of this.nodes.values()) {
      if (node.isUp() && (node.replica as NonNullable<SimNode['replica']>).status().term > status.term) return null;
    }
    return this.monitor.appliedTermAt(status.applied) === status.term ? leader : null;
  }

  private electionTimeoutMs(): number {
    return this.profile.tickMs * this.profile.raft.electionTimeoutTicks;
  }

  /** Runs the whole simulation; throws SimViolation (or an AssertionError) on the first problem. */
  run(): void {
    scheduleFaults(this.scheduler, this.schedule, this);
    for (const event of this.schedule.events) this.note(`schedule ${describeFault(event)}`);
    for (const node of this.nodes.values()) node.host.start();
    for (const client of this.clients) client.start(this.electionTimeoutMs() * 2);
    this.scheduler.schedule(OPERATOR_ROUND_MS, 'operator', () => this.operatorRound());

    const quietFrom = this.schedule.quietFromMs;
    this.runTo(quietFrom);
    // The heal-all event at quietFrom has run (events at a time run before runUntil returns).
    this.note('QUIET phase: liveness from here');
    this.operator.stopTransfers();
    const leaderBound = quietFrom + LIVENESS_LEADER_ELECTION_TIMEOUTS * this.electionTimeoutMs();
    if (!this.runUntilTrue(() => this.stableLeader() !== null, leaderBound)) {
      throw new SimViolation('liveness', `no stable leader within ${leaderBound - quietFrom} ms of the quiet phase (${LIVENESS_LEADER_ELECTION_TIMEOUTS} election timeouts)`);
    }
    const leaderAt = this.scheduler.now();
    this.note(`QUIET stable leader ${this.stableLeader()?.id ?? '?'} after ${leaderAt - quietFrom} ms`);
    this.checkFreshWrite(leaderAt);

    const clientsStopAt = this.scheduler.now() + LIVENESS_CLIENTS_MS;
    for (const client of this.clients) client.stop(clientsStopAt);
    this.runTo(clientsStopAt);
    const opsDeadline = clientsStopAt + this.profile.clients.operationTimeoutMs + POLL_MS;
    if (!this.runUntilTrue(() => this.clients.every((client) => !client.isBusy()), opsDeadline)) {
      throw new SimViolation('liveness', 'client operations still pending after their timeout');
    }
    this.checkQuietOperations(leaderAt + LIVENESS_SETTLE_MS);
    this.checkConvergence();
    this.finalChecks();
  }

  private checkFreshWrite(leaderAt: number): void {
    let known: boolean | null = null;
    this.probe.probeWrite('probe', (outcome) => {
      known = outcome;
    });
    const deadline = leaderAt + LIVENESS_WRITE_MS;
    if (!this.runUntilTrue(() => known !== null, deadline) || known !== true) {
      throw new SimViolation('liveness', `a fresh write after the quiet phase did not commit within ${LIVENESS_WRITE_MS} ms`);
    }
    this.note(`QUIET fresh write applied after ${this.scheduler.now() - leaderAt} ms`);
  }

  /** Every operation invoked once the cluster settled ended with a known outcome. */
  private checkQuietOperations(settledAt: number): void {
    for (const operation of this.history.history()) {
      if (operation.invokeTime < settledAt) continue;
      if (operation.returnTime === Infinity) {
        throw new SimViolation('liveness', `operation #${operation.id} of ${operation.client} invoked at ${operation.invokeTime}, in the quiet phase, ended unknown`);
      }
    }
  }

  /** Live members of the leader's configuration. */
  private liveMembers(): { leader: SimNode; members: SimNode[] } {
    const leader = this.stableLeader();
    if (leader === null) throw new SimViolation('liveness', 'the leader was lost in the quiet phase');
    const config = (leader.replica as NonNullable<SimNode['replica']>).status().config;
    const members = [...config.voters, ...config.learners].map((id) => this.node(id)).filter((node) => !node.retired);
    return { leader, members };
  }

  private checkConvergence(): void {
    const deadline = this.scheduler.now() + LIVENESS_CONVERGE_MS;
    const converged = (): boolean => {
      const leader = this.stableLeader();
      if (leader === null) return false;
      const commit = (leader.replica as NonNullable<SimNode['replica']>).status().commit;
      return this.liveMembers().members.every((node) => node.isUp() && (node.replica as NonNullable<SimNode['replica']>).applied >= commit);
    };
    if (!this.runUntilTrue(converged, deadline)) {
      const leader = this.stableLeader();
      const detail = leader === null ? 'no stable leader' : this.liveMembers().members.map((node) => `${node.id}:${node.replica?.applied ?? 'down'}`).join(' ');
      throw new SimViolation('liveness', `live members did not apply everything committed within ${LIVENESS_CONVERGE_MS} ms (${detail})`);
    }
  }

  private finalChecks(): void {
    const { members } = this.liveMembers();
    // Durability: every acknowledged write is in the final state of every live member.
    for (const client of [...this.clients, this.probe]) {
      for (const [id, changed] of client.acknowledged) {
        for (const node of members) {
          const result = node.stateMachine().resultOf(id);
          if (result !== changed) {
            throw new SimViolation('durability', `${client.name}'s acknowledged command ${id} (changed=${changed}) is ${result === undefined ? 'missing from' : `changed=${result} in`} ${node.id}'s final state`);
          }
        }
      }
    }
    // Log Matching over every durable and in-memory log, at the end.
    for (const node of this.nodes.values()) {
      if (node.retired) continue;
      const durable = persistedStateOf(node.host.storage);
      if (durable !== null) this.monitor.checkLog(node.id, { snapshot: durable.snapshot.meta, entries: durable.entries }, 'durable');
      if (node.replica !== null) this.monitor.checkLog(node.id, node.replica.inspectLog(), 'in-memory');
    }
    const result = checkLinearizability(keyedRegisterModel(), this.history.history());
    if (result.result === 'illegal') throw new SimViolation('linearizability', result.explanation);
    if (result.result === 'unknown-timeout') throw new LinearizabilityUndecided(result.explanation);
  }

  // --- figures ------------------------------------------------------------------------------

  figures(): SeedFigures {
    const operations = { invoked: 0, ok: 0, unknown: 0 };
    for (const client of [...this.clients, this.probe]) {
      operations.invoked += client.counters.invoked;
      operations.ok += client.counters.ok;
      operations.unknown += client.counters.unknown;
    }
    const net = this.network.counters();
    const faults: FaultCounts = { ...this.faultCounts };
    const add = (kind: string, value: number): void => {
      if (value > 0) faults[kind] = (faults[kind] ?? 0) + value;
    };
    add('message-delay', net.delivered);
    add('message-loss', net.droppedLoss);
    add('message-duplicate', net.duplicated);
    add('message-reorder', net.reordered);
    add('message-partitioned', net.droppedPartition);
    add('membership-add-learner', this.operator.counters.addLearner);
    add('membership-promote', this.operator.counters.promote);
    add('membership-remove', this.operator.counters.remove);
    add('leadership-transfer', this.operator.counters.transfers);
    add('snapshot-install', this.snapshotsInstalled);
    let batchesLost = 0;
    for (const node of this.nodes.values()) batchesLost += node.host.storage.counters().batchesLost;
    add('unsynced-batches-lost', batchesLost);
    return {
      virtualMs: this.scheduler.now(),
      events: this.scheduler.eventsRun(),
      faults,
      operations,
      entriesCommitted: this.monitor.counters.highestApplied,
      elections: this.monitor.counters.elections,
      messagesSent: net.sent,
      messagesDelivered: net.delivered,
      snapshotsInstalled: this.snapshotsInstalled,
      voters: this.initialVoters.length,
      learners: this.initialLearners.length,
    };
  }
}

/** The checker could not decide within its bound: reported as such, never as a pass. */
export class LinearizabilityUndecided extends Error {
  constructor(detail: string) {
    super(`linearizability undecided (unknown-timeout): ${detail}`);
    this.name = 'LinearizabilityUndecided';
  }
}

/** Runs one seed to its outcome: a pass, the first violated check with the trace's tail, or an
 *  undecided linearizability check. Never throws for a problem found in the run. */
export function runRaftSeed(options: RaftSimOptions & { readonly traceTailLines?: number }): SeedOutcome {
  const sim = new RaftSim(options);
  let verdict: SeedOutcome['verdict'] = 'pass';
  let check: CheckName | null = null;
  let message = '';
  try {
    sim.run();
  } catch (error) {
    if (error instanceof SimViolation) {
      verdict = 'violation';
      check = error.check;
      message = error.message;
    } else if (error instanceof LinearizabilityUndecided) {
      verdict = 'undecided';
      check = 'linearizability';
      message = error.message;
    } else if (error instanceof Error) {
      // A failed assertion anywhere (core, peer, simulator) is a bug found by this seed.
      verdict = 'violation';
      check = 'assertion';
      message = `${error.name}: ${error.message}\n${error.stack ?? ''}`;
    } else {
      throw error;
    }
  }
  const tail = options.traceTailLines ?? 80;
  const lines = sim.trace.lines();
  return {
    seed: options.seed,
    profile: options.profile.name,
    mutation: options.mutation ?? null,
    verdict,
    check,
    message,
    traceTail: verdict === 'pass' ? [] : lines.slice(Math.max(0, lines.length - tail)),
    digest: sim.trace.digest(),
    figures: sim.figures(),
  };
}
