/**
 * The simulated operator: membership churn driven through the leader, one single-server change at
 * a time (§4.1), the way DESIGN.md's membership policy will drive it.
 *
 * - A peer that joins starts empty (EMPTY_CONFIG), is added as a learner, and is promoted only
 *   once caught up (§4.2.1: a new voter never counts toward quorum with an empty log). Some
 *   joined learners stay learners (observers).
 * - Voters above the target count are replaced: a voter is removed (never the last caught-up
 *   ones; the leader hands over leadership first, §3.10) — so voters are replaced over a run.
 * - A peer that leaves is removed; a voter leaves only while the voter count stays at the target
 *   (a caught-up learner is promoted first), so a leave never shrinks the ensemble's fault
 *   tolerance. Removed peers are retired (stopped for good) once the removal is applied.
 * - Now and then, leadership is handed to another caught-up voter (TimeoutNow).
 *
 * Raft itself refuses a second change while one is uncommitted and any change before the new
 * leader's first commit; the operator simply retries on its next round, so a change lost with a
 * crashed leader is proposed again. Every decision draws from the operator's own Prng.
 */

import type { ConfigChange, PeerId, ProposeOutcome, Status } from '../../core/consensus/index.js';
import type { Prng } from '../../core/prng.js';

export interface OperatorCluster {
  /** The running leader with the highest term, if any, with its status. */
  leaderStatus(): Status | null;
  proposeChange(leader: PeerId, change: ConfigChange, outcome: (result: ProposeOutcome) => void): void;
  transferLeadership(leader: PeerId, to: PeerId): void;
  /** Stops a removed peer for good. */
  retire(node: PeerId): void;
  /** Whether config entry (index, term) has been applied somewhere (it is committed). */
  isApplied(index: number, term: number): boolean;
  trace(line: string): void;
}

export interface OperatorSettings {
  readonly targetVoters: number;
  /** Chance that a caught-up joined learner is promoted (the rest stay observers). */
  readonly promoteProbability: number;
  /** Chance per round of handing leadership to another caught-up voter. */
  readonly transferProbability: number;
}

export interface OperatorCounters {
  changesProposed: number;
  changesRefused: number;
  addLearner: number;
  promote: number;
  remove: number;
  transfers: number;
  retired: number;
}

/** A member is caught up when it holds everything the leader has committed. */
function caughtUp(status: Status, peer: PeerId): boolean {
  const progress = status.progress?.find((p) => p.id === peer);
  return progress !== undefined && progress.state === 'replicate' && progress.match >= status.commit;
}

export class Operator {
  private readonly cluster: OperatorCluster;
  private readonly prng: Prng;
  private readonly settings: OperatorSettings;
  private readonly joined = new Set<PeerId>();
  private readonly leaving = new Set<PeerId>();
  private readonly promoteDecided = new Map<PeerId, boolean>();
  private readonly removals: { node: PeerId; index: number; term: number }[] = [];
  private readonly retired = new Set<PeerId>();
  private transfersAllowed = true;
  readonly counters: OperatorCounters = { changesProposed: 0, changesRefused: 0, addLearner: 0, promote: 0, remove: 0, transfers: 0, retired: 0 };

  constructor(options: { cluster: OperatorCluster; prng: Prng; settings: OperatorSettings }) {
    this.cluster = options.cluster;
    this.prng = options.prng;
    this.settings = options.settings;
  }

  join(node: PeerId): void {
    this.joined.add(node);
  }

  leave(node: PeerId): void {
    this.leaving.add(node);
  }

  isRetired(node: PeerId): boolean {
    return this.retired.has(node);
  }

  /** No more spontaneous leadership transfers (the liveness phase). */
  stopTransfers(): void {
    this.transfersAllowed = false;
  }

  /** One round: retire what was removed, then at most one change or transfer. */
  round(): void {
    this.retireRemoved();
    const status = this.cluster.leaderStatus();
    if (status === null || status.leadTransferee !== null) return;
    const action = this.decide(status);
    if (action === null) return;
    if (action.kind === 'transfer') {
      this.counters.transfers += 1;
      this.cluster.trace(`operator: transfer leadership ${status.id} -> ${action.to}`);
      this.cluster.transferLeadership(status.id, action.to);
      return;
    }
    this.propose(status.id, action.change);
  }

  private retireRemoved(): void {
    for (let i = this.removals.length - 1; i >= 0; i--) {
      const removal = this.removals[i] as { node: PeerId; index: number; term: number };
      if (!this.cluster.isApplied(removal.index, removal.term)) continue;
      this.removals.splice(i, 1);
      if (this.retired.has(removal.node)) continue;
      this.retired.add(removal.node);
      this.leaving.delete(removal.node);
      this.counters.retired += 1;
      this.cluster.trace(`operator: retire ${removal.node}`);
      this.cluster.retire(removal.node);
    }
  }

  private propose(leader: PeerId, change: ConfigChange): void {
    this.cluster.proposeChange(leader, change, (result) => {
      if (!result.ok) {
        this.counters.changesRefused += 1;
        return;
      }
      this.counters.changesProposed += 1;
      if (change.type === 'add-learner') this.counters.addLearner += 1;
      if (change.type === 'promote') this.counters.promote += 1;
      if (change.type === 'remove') {
        this.counters.remove += 1;
        this.removals.push({ node: change.peer, index: result.index, term: result.term });
      }
      this.cluster.trace(`operator: ${change.type} ${change.peer} proposed at ${result.term}/${result.index}`);
    });
  }

  private decide(status: Status): { kind: 'change'; change: ConfigChange } | { kind: 'transfer'; to: PeerId } | null {
    const config = status.config;
    const voterCount = config.voters.length;
    const caughtUpLearner = config.learners.find((peer) => caughtUp(status, peer) && !this.leaving.has(peer));
    for (const node of this.leaving) {
      if (!config.voters.includes(node) && !config.learners.includes(node)) {
        // Never added (or removed by someone else): just stop it.
        if (!this.removals.some((removal) => removal.node === node)) this.retireNow(node);
        continue;
      }
      if (node === status.id) return this.transferAway(status);
      if (config.voters.includes(node) && voterCount <= this.settings.targetVoters) {
        if (caughtUpLearner !== undefined) return { kind: 'change', change: { type: 'promote', peer: caughtUpLearner } };
        continue; // wait for a replacement
      }
      return { kind: 'change', change: { type: 'remove', peer: node } };
    }
    if (voterCount > this.settings.targetVoters) {
      const victims = config.voters.filter((peer) => peer !== status.id);
      const victim = victims.length > 0 ? this.prng.pick(victims) : null;
      if (victim === null) return this.transferAway(status);
      return { kind: 'change', change: { type: 'remove', peer: victim } };
    }
    for (const node of this.joined) {
      if (this.retired.has(node) || this.leaving.has(node)) continue;
      if (!config.voters.includes(node) && !config.learners.includes(node)) return { kind: 'change', change: { type: 'add-learner', peer: node } };
    }
    for (const node of config.learners) {
      if (!this.joined.has(node) || this.leaving.has(node) || !caughtUp(status, node)) continue;
      let promote = this.promoteDecided.get(node);
      if (promote === undefined) {
        promote = this.prng.chance(this.settings.promoteProbability);
        this.promoteDecided.set(node, promote);
      }
      if (promote) return { kind: 'change', change: { type: 'promote', peer: node } };
    }
    if (this.transfersAllowed && this.prng.chance(this.settings.transferProbability)) return this.transferAway(status);
    return null;
  }

  private transferAway(status: Status): { kind: 'transfer'; to: PeerId } | null {
    const candidates = status.config.voters.filter((peer) => peer !== status.id && caughtUp(status, peer) && !this.leaving.has(peer));
    return candidates.length === 0 ? null : { kind: 'transfer', to: this.prng.pick(candidates) };
  }

  private retireNow(node: PeerId): void {
    if (this.retired.has(node)) return;
    this.retired.add(node);
    this.leaving.delete(node);
    this.counters.retired += 1;
    this.cluster.trace(`operator: retire ${node} (never a member)`);
    this.cluster.retire(node);
  }
}
