/**
 * One run of the peer simulator: from one seed, an ensemble of real Peers (src/peer — the whole
 * runtime: sessions, forwarding streams, leader duties, watches, membership, the Replica loop) on
 * SimHosts, over a faulty SimNetwork, crashing disks and drifting, freezing clocks, with clients
 * running the CAS, sequential-create, lock and leader-election workloads (workload.ts) through
 * the serving API, and a fault schedule; then a quiet phase in which everything heals and liveness
 * is checked; then the final checks. The Raft simulator's shape (src/sim/raft/raft-sim.ts), and its
 * SafetyMonitor.
 *
 * Phases (virtual time, the runtime's shipping timing):
 *   [0, quietFrom)   faults + clients; safety checked at every step (Raft monitor + checks.ts)
 *   quietFrom        heal-all: partitions healed, frozen peers resumed, crashed ones restarted
 *   liveness         a stable leader within LIVENESS_LEADER_MS; a fresh session and write within
 *                    LIVENESS_WRITE_MS; clients run LIVENESS_CLIENTS_MS more and every live client
 *                    makes progress after LIVENESS_SETTLE_MS (lock clients are granted, someone
 *                    is elected or still validly leads); clients
 *                    stop and their requests drain; every live member applies what the leader
 *                    committed within LIVENESS_CONVERGE_MS, with equal tree digests
 *   final            sequential creates (order, durability), sessions and watches of the live
 *                    clients, durable logs (log matching), codec counters, linearizability
 *
 * Everything random comes from forks of one Prng, in a fixed order; nothing reads real time.
 */

import { assert } from '../../core/assert.js';
import { EMPTY_CONFIG, makeConfig, type PeerId } from '../../core/consensus/index.js';
import { Prng } from '../../core/prng.js';
import { OPEN_ACL_UNSAFE, type CreateRequest } from '../../core/tree/types.js';
import { HistoryRecorder } from '../../testing/history.js';
import { checkLinearizability } from '../../testing/linearizability.js';
import { znodeModel, type ZnodeInput, type ZnodeOutput } from '../../testing/models/znode.js';
import { describeFault, generateFaultSchedule, scheduleFaults, type FaultSchedule, type FaultTarget } from '../faults.js';
import { SimHost } from '../host.js';
import { SimNetwork } from '../network.js';
import { LinearizabilityUndecided } from '../raft/raft-sim.js';
import { SafetyMonitor, SimViolation } from '../raft/monitor.js';
import { persistedStateOf, type RaftDisk, type StoredValue } from '../raft/replica-storage.js';
import { Scheduler } from '../scheduler.js';
import { SimStorage } from '../storage.js';
import { formatTime, TraceLog } from '../trace.js';
import type { Entry } from '../../core/consensus/index.js';
import { PeerViolation, RuntimeChecks } from './checks.js';
import { PeerNode, type PeerNodeContext } from './node.js';
import type { PeerSimProfile, RuntimeMutationName } from './profiles.js';
import { CasClient, ElectionClient, LockClient, SequentialClient, type ClientHost, type ClientWorld, type SimClient } from './workload.js';

/** A stable leader within this of the quiet phase: elections take 2.5-5 s each (10-20 ticks of
 *  250 ms), split votes repeat them, restarted peers replay their logs first. */
export const LIVENESS_LEADER_MS = 60_000;
/** A fresh session opened and a write applied on the leader within this, once it is stable: two
 *  commits, with room for the forward stream of a peer that just learned the leader. */
export const LIVENESS_WRITE_MS = 10_000;
/** Clients keep working this long into the quiet phase: past the longest session timeout the
 *  workload asks (6 s) twice, so that sessions orphaned by the faults expire and their lock nodes
 *  go, and the lock moves on. */
export const LIVENESS_CLIENTS_MS = 15_000;
/** Progress is required of the clients from this long after the stable leader was found. */
export const LIVENESS_SETTLE_MS = 1_000;
/** Requests drain within this after the clients stop (the runtime's operation timeout + slack). */
export const LIVENESS_DRAIN_MS = 12_000;
/** Every live member applies what the leader committed within this, after the drain. */
export const LIVENESS_CONVERGE_MS = 10_000;
/** Events in one run: some tens of thousands is normal; a hundred times that is a livelock. */
export const RUN_EVENTS_MAX = 5_000_000;
/** Messages in flight at once: a few hundred is normal (heartbeats, appends, forwards, pings);
 *  five thousand means messages breed messages. */
export const MESSAGES_IN_FLIGHT_STORM = 5_000;
/** The chance that a crash keeps a random prefix of the unsynced batches (a torn tail). */
export const TORN_WRITE_PROBABILITY = 0.3;
/** Polling step of the liveness phase. */
const POLL_MS = 50;
/** The SimHost's own tick source is unused (the Peer times itself through its Clock); one tick a
 *  minute keeps it cheap. */
const HOST_TICK_MS = 60_000;

export interface PeerSimOptions {
  readonly seed: number;
  readonly profile: PeerSimProfile;
  readonly mutation?: RuntimeMutationName | null;
  readonly traceLinesKept?: number;
}

export type FaultCounts = Record<string, number>;

export interface PeerSeedFigures {
  readonly virtualMs: number;
  readonly events: number;
  readonly voters: number;
  readonly observers: number;
  readonly faults: FaultCounts;
  readonly operations: { readonly invoked: number; readonly ok: number; readonly historyOps: number; readonly historyUnknown: number };
  readonly entriesCommitted: number;
  readonly elections: number;
  readonly sessions: { readonly opened: number; readonly expired: number; readonly closed: number };
  readonly lock: { readonly grants: number; readonly staleGrants: number; readonly fencedWrites: number; readonly holders: number };
  readonly election: { readonly elected: number; readonly staleElected: number; readonly relinquished: number; readonly lost: number; readonly logLeaders: number };
  readonly watchEvents: number;
  readonly watchChecks: number;
  readonly sequentialCreates: number;
  readonly snapshotsInstalled: number;
  /** Writes in flight long enough to probe their stream, and streams a probe found a lost forward in. */
  readonly forwardProbes: number;
  readonly forwardsLost: number;
}

export interface PeerSeedOutcome {
  readonly seed: number;
  readonly profile: string;
  readonly mutation: RuntimeMutationName | null;
  readonly verdict: 'pass' | 'violation' | 'undecided';
  readonly check: string | null;
  readonly message: string;
  readonly traceTail: readonly string[];
  readonly digest: string;
  readonly figures: PeerSeedFigures;
}

interface Wire {
  readonly from: string;
  readonly to: string;
  readonly bytes: Uint8Array;
}

export class PeerSim implements FaultTarget {
  readonly seed: number;
  readonly profile: PeerSimProfile;
  readonly mutation: RuntimeMutationName | null;
  readonly scheduler = new Scheduler();
  readonly trace: TraceLog;
  readonly monitor = new SafetyMonitor();
  readonly checks = new RuntimeChecks();
  readonly network: SimNetwork<Wire>;
  readonly history: HistoryRecorder<ZnodeInput, ZnodeOutput>;
  readonly schedule: FaultSchedule;
  private readonly faultPrng: Prng;
  private readonly nodes = new Map<PeerId, PeerNode>();
  private readonly clients: SimClient[] = [];
  private readonly struck = new Map<string, PeerId | null>();
  private readonly faultCounts: FaultCounts = {};
  private readonly voters: PeerId[];
  private readonly observers: PeerId[];
  private quiet = false;
  private clientsStopped = false;

  constructor(options: PeerSimOptions) {
    this.seed = options.seed;
    this.profile = options.profile;
    this.mutation = options.mutation ?? null;
    const prng = new Prng(options.seed);
    // Forks in a fixed order: adding draws to one component never shifts another's.
    const shapePrng = prng.fork();
    const networkPrng = prng.fork();
    this.faultPrng = prng.fork();
    const clientPrng = prng.fork();
    const nodePrng = prng.fork();
    const scheduleSeed = prng.u32() | 0;

    this.trace = new TraceLog(options.traceLinesKept);
    this.history = new HistoryRecorder({ clock: () => this.scheduler.now() });
    const voterCount = shapePrng.pick(this.profile.voterChoices);
    const observerCount = shapePrng.int(0, this.profile.observersMax);
    this.voters = Array.from({ length: voterCount }, (_, i) => `p${i + 1}`);
    this.observers = Array.from({ length: observerCount }, (_, i) => `o${i + 1}`);
    const all = [...this.voters, ...this.observers];
    this.network = new SimNetwork<Wire>({ scheduler: this.scheduler, prng: networkPrng, nodes: all, link: this.profile.link, deliver: (wire) => this.deliver(wire) });
    const context = this.nodeContext(voterCount);
    const config = makeConfig(this.voters);
    for (const id of all) {
      const seeds = nodePrng.fork();
      const disk: RaftDisk = new SimStorage({ scheduler: this.scheduler, prng: seeds.fork(), name: id, fsyncDelayMsMin: this.profile.fsyncMs.min, fsyncDelayMsMax: this.profile.fsyncMs.max });
      let node: PeerNode | null = null;
      const host = new SimHost<Entry, StoredValue>({
        scheduler: this.scheduler,
        network: this.network,
        storage: disk,
        name: id,
        tickMs: HOST_TICK_MS,
        onStart: () => (node as PeerNode).start(),
        onTick: () => undefined,
      });
      const bootstrap = this.voters.includes(id) ? config : EMPTY_CONFIG;
      node = new PeerNode({ id, host, bootstrap, contacts: all.filter((other) => other !== id), context, seeds });
      this.nodes.set(id, node);
    }
    this.addClients(all, clientPrng);
    this.schedule = generateFaultSchedule({ seed: scheduleSeed, nodes: all, profile: this.profile.faults });
    this.note(`seed ${this.seed} profile ${this.profile.name} voters ${this.voters.join(',')} observers ${this.observers.join(',') || '-'}${this.mutation === null ? '' : ` MUTATION ${this.mutation}`}`);
  }

  private note(line: string): void {
    this.trace.record(`${formatTime(this.scheduler.now())} ${line}`);
  }

  private nodeContext(voterCount: number): PeerNodeContext {
    return {
      scheduler: this.scheduler,
      monitor: this.monitor,
      snapshotEntriesInterval: this.profile.snapshotEntriesInterval,
      targetVoters: voterCount,
      unsafeRuntimeMutations: this.mutation === null ? {} : { [this.mutation]: true },
      trace: (line) => this.note(line),
      send: (from, to, bytes) => this.send(from, to, bytes),
      onApplied: (_node, entry, tree) => this.checks.onApplied(entry, tree),
      onSnapshotInstalled: (node) => {
        this.count('snapshot-install');
        this.checks.snapshotInstalled(node.id);
        for (const client of node.clients) client.watchesMayBeLost();
      },
    };
  }

  private addClients(nodes: readonly PeerId[], prng: Prng): void {
    const settings = this.profile.workload;
    const world: ClientWorld = {
      settings,
      checks: this.checks,
      history: this.history,
      trace: (line) => this.note(line),
      stopped: () => this.clientsStopped,
    };
    let placed = 0;
    const place = (make: (name: string, host: ClientHost, clientPrng: Prng) => SimClient): void => {
      const node = this.node(nodes[placed % nodes.length] as PeerId);
      placed += 1;
      const host: ClientHost = {
        node: node.id,
        peer: () => node.peer,
        timer: (delayMs, label, work) => void node.host.timer(delayMs, label, work),
      };
      const client = make(`c${placed}@${node.id}`, host, prng.fork());
      node.clients.push(client);
      this.clients.push(client);
    };
    for (let i = 0; i < settings.casClientsPerPeer * nodes.length; i++) place((name, host, p) => new CasClient({ name, role: 'cas', host, world, prng: p }));
    for (let i = 0; i < settings.sequentialClients; i++) {
      place((name, host, p) => new SequentialClient({ name, role: 'sequential', host, world, prng: p, order: () => this.checks.order() }));
    }
    for (let i = 0; i < settings.lockClients; i++) place((name, host, p) => new LockClient({ name, role: 'lock', host, world, prng: p }));
    // Placed last, consecutively: on different peers (at most one per peer while there are
    // fewer participants than peers).
    for (let i = 0; i < settings.electionClients; i++) place((name, host, p) => new ElectionClient({ name, role: 'election', host, world, prng: p }));
  }

  private node(id: PeerId): PeerNode {
    const node = this.nodes.get(id);
    assert(node !== undefined, `a node named ${id}`);
    return node;
  }

  private send(from: PeerId, to: PeerId, bytes: Uint8Array): void {
    if (!this.nodes.has(to)) return;
    if (this.network.inFlight() >= MESSAGES_IN_FLIGHT_STORM) {
      throw new SimViolation('liveness', `message storm: ${this.network.inFlight()} messages in flight`);
    }
    this.network.send({ from, to, bytes });
  }

  private deliver(wire: Wire): void {
    this.note(`${wire.from}>${wire.to} ${wire.bytes.length}b`);
    const node = this.node(wire.to);
    node.host.run(() => node.receive(wire.from, wire.bytes));
  }

  /** The leader with the highest term among running peers, if any. */
  private currentLeader(): PeerNode | null {
    let best: PeerNode | null = null;
    let bestTerm = -1;
    for (const node of this.nodes.values()) {
      const peer = node.peer;
      if (!node.isUp() || peer === null) continue;
      const status = peer.status();
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

  private strike(name: string, preferLeader: boolean): PeerNode | null {
    if (preferLeader) {
      const leader = this.currentLeader();
      if (leader !== null) return leader;
    }
    const named = this.nodes.get(name);
    return named !== undefined && named.host.process.state() === 'running' ? named : null;
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
    const pending = node.host.storage.pendingBatches();
    const keep = pending > 0 && this.faultPrng.chance(TORN_WRITE_PROBABILITY) ? this.faultPrng.int(0, pending) : 0;
    this.count('crash');
    if (pending > 0) this.count('crash-with-unsynced-writes');
    if (keep > 0) this.count('torn-write');
    this.note(`FAULT crash ${node.id}${options.preferLeader === true ? ' (leader)' : ''} (${pending} unsynced batches, ${keep} kept)`);
    node.host.crash({ keepPendingBatches: keep });
    node.stopped();
  }

  restart(name: string): void {
    const id = this.struck.get(name);
    this.struck.delete(name);
    if (id === null || id === undefined) return;
    const node = this.node(id);
    if (node.host.process.state() !== 'crashed') return;
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
    const node = this.node(name);
    this.count('clock-drift');
    this.note(`FAULT clock-drift ${name} ratio=${ratio}`);
    node.host.clock.setDrift(ratio);
    node.clock.setDrift(ratio);
  }

  /** Membership here is the runtime's own (observers join through it); no churn schedule. */
  join(): void {}

  leave(): void {}

  healAll(): void {
    this.note('FAULT heal-all');
    this.network.heal();
    this.quiet = true;
    this.network.configureAllLinks({ lossProbability: 0, duplicateProbability: 0 });
    this.struck.clear();
    for (const node of this.nodes.values()) {
      const state = node.host.process.state();
      if (state === 'paused') node.host.resume();
      if (state === 'crashed') node.host.restart();
    }
  }

  // --- the run ------------------------------------------------------------------------------

  private runTo(time: number): void {
    if (time <= this.scheduler.now()) return;
    const budget = RUN_EVENTS_MAX - this.scheduler.eventsRun();
    if (budget <= 0) throw new SimViolation('liveness', `more than ${RUN_EVENTS_MAX} events: a livelock`);
    this.scheduler.runUntil(time, { eventsMax: budget });
    if (this.scheduler.now() < time) throw new SimViolation('liveness', `more than ${RUN_EVENTS_MAX} events: a livelock`);
  }

  private runUntilTrue(condition: () => boolean, deadline: number): boolean {
    while (!condition()) {
      if (this.scheduler.now() >= deadline) return false;
      this.runTo(Math.min(deadline, this.scheduler.now() + POLL_MS));
    }
    return true;
  }

  /** A leader whose term is the highest among running peers and that applied an entry of it. */
  private stableLeader(): PeerNode | null {
    const leader = this.currentLeader();
    const status = leader?.peer?.status();
    if (leader === null || status === undefined) return null;
    for (const node of this.nodes.values()) {
      if (node.isUp() && (node.peer?.status().term ?? 0) > status.term) return null;
    }
    return this.monitor.appliedTermAt(status.appliedIndex) === status.term ? leader : null;
  }

  /** Runs the whole simulation; throws a SimViolation, PeerViolation or AssertionError on the
   *  first problem. */
  run(): void {
    scheduleFaults(this.scheduler, this.schedule, this);
    for (const event of this.schedule.events) this.note(`schedule ${describeFault(event)}`);
    for (const node of this.nodes.values()) node.host.start();

    const quietFrom = this.schedule.quietFromMs;
    this.runTo(quietFrom);
    this.note('QUIET phase: liveness from here');
    if (!this.runUntilTrue(() => this.stableLeader() !== null, quietFrom + LIVENESS_LEADER_MS)) {
      throw new SimViolation('liveness', `no stable leader within ${LIVENESS_LEADER_MS} ms of the quiet phase`);
    }
    const leaderAt = this.scheduler.now();
    this.note(`QUIET stable leader ${this.stableLeader()?.id ?? '?'} after ${leaderAt - quietFrom} ms`);
    this.checkFreshWrite(leaderAt);

    const settledAt = leaderAt + LIVENESS_SETTLE_MS;
    this.runTo(settledAt);
    const progressBefore = this.clients.map((client) => client.counters.progress);
    const grantsBefore = this.checks.counters.grants;
    const electionsBefore = this.checks.counters.elections;
    const clientsStopAt = leaderAt + LIVENESS_CLIENTS_MS;
    this.runTo(clientsStopAt);
    this.clientsStopped = true;
    this.checkProgress(progressBefore, grantsBefore, electionsBefore);
    const drained = (): boolean => this.clients.every((client) => client.inFlight === 0);
    if (!this.runUntilTrue(drained, clientsStopAt + LIVENESS_DRAIN_MS)) {
      const busy = this.clients.filter((client) => client.inFlight > 0).map((client) => `${client.name}:${client.inFlight}`);
      throw new SimViolation('liveness', `client requests unanswered ${LIVENESS_DRAIN_MS} ms after the clients stopped: ${busy.join(' ')}`);
    }
    this.checkConvergence();
    this.finalChecks();
  }

  /** A fresh session and write through whichever peer leads (tried again after a refusal: a
   *  leader found at the heal may still step down to a newer term). */
  private checkFreshWrite(leaderAt: number): void {
    const deadline = leaderAt + LIVENESS_WRITE_MS;
    let outcome: string | null = null;
    let attempts = 0;
    while (outcome !== 'ok' && this.scheduler.now() < deadline) {
      const peer = this.stableLeader()?.peer;
      if (peer === null || peer === undefined) {
        this.runTo(Math.min(deadline, this.scheduler.now() + POLL_MS));
        continue;
      }
      attempts += 1;
      let answer: string | null = null;
      peer.openSession({ timeoutMs: 10_000, listener: { event: () => undefined, state: () => undefined } }, (opened) => {
        if (!opened.ok) {
          answer = `open failed ${opened.code}`;
          return;
        }
        const request: CreateRequest = { op: 'create', path: '/probe', data: new Uint8Array(0), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' };
        peer.submit(opened.session.sessionId, request, (result) => {
          answer = result.ok || result.code === 'NODEEXISTS' ? 'ok' : `create failed ${result.code}`;
          peer.closeSession(opened.session.sessionId, () => undefined);
        });
      });
      this.runUntilTrue(() => answer !== null, deadline);
      outcome = answer;
    }
    if (outcome !== 'ok') {
      throw new SimViolation('liveness', `a fresh session and write on the stable leader did not complete within ${LIVENESS_WRITE_MS} ms (${attempts} attempts, last: ${outcome ?? 'no answer'})`);
    }
    this.note(`QUIET fresh write applied after ${this.scheduler.now() - leaderAt} ms (${attempts} attempts)`);
  }

  /** Every client on a running peer made progress after the cluster settled; the lock moved;
   *  someone was elected, or a participant still leads with a node the log has not deleted. */
  private checkProgress(before: readonly number[], grantsBefore: number, electionsBefore: number): void {
    this.clients.forEach((client, index) => {
      const node = this.node(client.host.node);
      if (!node.isUp()) return;
      if (client.counters.progress <= (before[index] as number)) {
        throw new SimViolation('liveness', `${client.name} (${client.role}) made no progress in the ${LIVENESS_CLIENTS_MS - LIVENESS_SETTLE_MS} ms after the ensemble settled`);
      }
    });
    if (this.profile.workload.lockClients > 0 && this.checks.counters.grants <= grantsBefore) {
      throw new SimViolation('liveness', `the lock was granted to nobody in the ${LIVENESS_CLIENTS_MS - LIVENESS_SETTLE_MS} ms after the ensemble settled`);
    }
    if (this.profile.workload.electionClients > 0 && this.checks.counters.elections <= electionsBefore) {
      const leads = this.clients.some((client) => client instanceof ElectionClient && client.isLeading() && this.checks.leadsValidly(client.name));
      if (!leads) throw new SimViolation('liveness', `nobody was elected in the ${LIVENESS_CLIENTS_MS - LIVENESS_SETTLE_MS} ms after the ensemble settled, and nobody leads`);
    }
  }

  /** Live members of the leader's configuration. */
  private liveMembers(): { leader: PeerNode; members: PeerNode[] } {
    const leader = this.stableLeader();
    const status = leader?.peer?.status();
    if (leader === null || status === undefined) throw new SimViolation('liveness', 'the leader was lost in the quiet phase');
    const members = [...status.voters, ...status.observers].map((id) => this.node(id));
    return { leader, members };
  }

  private checkConvergence(): void {
    const converged = (): boolean => {
      const leader = this.stableLeader()?.peer?.status();
      if (leader === undefined) return false;
      return this.liveMembers().members.every((node) => node.isUp() && (node.peer?.status().appliedIndex ?? -1) >= leader.commitIndex);
    };
    if (!this.runUntilTrue(converged, this.scheduler.now() + LIVENESS_CONVERGE_MS)) {
      const detail = this.stableLeader() === null ? 'no stable leader' : this.liveMembers().members.map((node) => `${node.id}:${node.peer?.status().appliedIndex ?? 'down'}`).join(' ');
      throw new SimViolation('liveness', `live members did not apply everything committed within ${LIVENESS_CONVERGE_MS} ms (${detail})`);
    }
    const { members } = this.liveMembers();
    const digests = new Map<string, string[]>();
    for (const node of members) {
      const status = (node.peer as NonNullable<PeerNode['peer']>).status();
      const key = `${status.appliedIndex}:${node.tree().digest()}`;
      digests.set(key, [...(digests.get(key) ?? []), node.id]);
    }
    const applied = new Set(members.map((node) => node.peer?.status().appliedIndex));
    if (applied.size === 1 && digests.size > 1) {
      throw new PeerViolation('tree-digest', `the members' trees differ at one applied index: ${[...digests].map(([key, ids]) => `${ids.join(',')}=${key}`).join(' ')}`);
    }
  }

  private finalChecks(): void {
    const { members } = this.liveMembers();
    this.checks.checkSequential();
    for (const node of members) this.checks.checkSequentialDurable(node.id, node.tree());
    for (const client of this.clients) {
      const session = client.liveSession();
      const node = this.node(client.host.node);
      if (session === null || !node.isUp()) continue;
      this.checks.sessionStillLive(client.name, session, node.tree());
      this.checks.watchesNotLost(session, node.tree());
    }
    for (const node of this.nodes.values()) {
      node.checkNoDivergence();
      const durable = persistedStateOf(node.host.storage);
      if (durable !== null) this.monitor.checkLog(node.id, { snapshot: durable.snapshot.meta, entries: durable.entries }, 'durable');
      const dropped = node.peer?.status().counters.dropped;
      if (dropped !== undefined) {
        const bad = (['malformed', 'unknown-tag', 'too-large', 'spoofed', 'misaddressed'] as const).filter((reason) => dropped[reason] > 0);
        if (bad.length > 0) throw new PeerViolation('codec', `${node.id} dropped messages as ${bad.map((reason) => `${reason}=${dropped[reason]}`).join(' ')}`);
      }
    }
    const result = checkLinearizability(znodeModel(), this.history.history());
    if (result.result === 'illegal') throw new SimViolation('linearizability', result.explanation);
    if (result.result === 'unknown-timeout') throw new LinearizabilityUndecided(result.explanation);
  }

  // --- figures ------------------------------------------------------------------------------

  figures(): PeerSeedFigures {
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
    let batchesLost = 0;
    let snapshotsInstalled = 0;
    let forwardProbes = 0;
    let forwardsLost = 0;
    for (const node of this.nodes.values()) {
      batchesLost += node.host.storage.counters().batchesLost;
      snapshotsInstalled += node.snapshotsInstalled;
      const probes = node.forwardProbes();
      forwardProbes += probes.probes;
      forwardsLost += probes.lost;
    }
    add('unsynced-batches-lost', batchesLost);
    const sum = (pick: (client: SimClient) => number): number => this.clients.reduce((total, client) => total + pick(client), 0);
    add('session-expired', sum((client) => client.counters.sessionsExpired));
    const history = this.history.history();
    const log = this.checks.log.counters;
    const counters = this.checks.counters;
    return {
      virtualMs: this.scheduler.now(),
      events: this.scheduler.eventsRun(),
      voters: this.voters.length,
      observers: this.observers.length,
      faults,
      operations: { invoked: sum((c) => c.counters.operations), ok: sum((c) => c.counters.ok), historyOps: history.length, historyUnknown: history.filter((op) => op.returnTime === Infinity).length },
      entriesCommitted: this.monitor.counters.highestApplied,
      elections: this.monitor.counters.elections,
      sessions: { opened: sum((c) => c.counters.sessionsOpened), expired: sum((c) => c.counters.sessionsExpired), closed: sum((c) => c.counters.sessionsClosed) },
      lock: { grants: counters.grants, staleGrants: counters.staleGrants, fencedWrites: log.fencedWrites, holders: log.holders },
      election: {
        elected: counters.elections,
        staleElected: counters.staleElections,
        relinquished: sum((client) => (client instanceof ElectionClient ? client.electionCounters.relinquished : 0)),
        lost: sum((client) => (client instanceof ElectionClient ? client.electionCounters.lost : 0)),
        logLeaders: log.electionLeaders,
      },
      watchEvents: counters.watchEvents,
      watchChecks: counters.watchChecks,
      sequentialCreates: this.checks.sequentialCreates().length,
      snapshotsInstalled,
      forwardProbes,
      forwardsLost,
    };
  }
}

/** Runs one seed to its outcome; never throws for a problem found in the run. */
export function runPeerSeed(options: PeerSimOptions & { readonly traceTailLines?: number }): PeerSeedOutcome {
  const sim = new PeerSim(options);
  let verdict: PeerSeedOutcome['verdict'] = 'pass';
  let check: string | null = null;
  let message = '';
  try {
    sim.run();
  } catch (error) {
    if (error instanceof SimViolation || error instanceof PeerViolation) {
      verdict = 'violation';
      check = error.check;
      message = error.message;
    } else if (error instanceof LinearizabilityUndecided) {
      verdict = 'undecided';
      check = 'linearizability';
      message = error.message;
    } else if (error instanceof Error) {
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
