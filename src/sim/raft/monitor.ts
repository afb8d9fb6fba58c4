/**
 * The safety checkers of the Raft simulator, run as the simulation goes (every role change, every
 * persisted batch, every applied entry), each one naming the property of the dissertation it
 * checks (Ongaro 2014, Figure 3.2):
 *
 * - election-safety: at most one leader per term, over the whole run. Every role change to leader
 *   is observed when the replica hands out the Ready that reports it.
 * - log-matching: if two logs hold an entry with the same index and term, they are identical up to
 *   it. Checked on every entry that ever enters any log: every entry of an in-memory log reaches a
 *   Ready's `entries`, and so a persist batch, before it can be acknowledged or applied (under the
 *   ackBeforePersist mutation it is sent first, but written in the same event). Each (index, term)
 *   is registered with its content and the term of the entry before it in that log (or the
 *   snapshot's term); by induction, equal contents and equal predecessor terms for every
 *   (index, term) is exactly Log Matching. Durable logs are checked again on every restart and at
 *   the end, in-memory logs at the end.
 * - leader-completeness: an entry applied anywhere is in the log of every leader of a later term.
 *   An entry's commit term is unknown to an observer, but it is at most the highest term any
 *   leader had when the entry was first applied; leaders of terms above that bound are checked,
 *   when they become leader, over the part of their log after their snapshot (below it, their
 *   state hash at the snapshot index was compared when they applied or restored it).
 * - state-machine-safety: no two replicas apply different entries at one index, and every replica
 *   has the same state hash after applying index i (or restoring a snapshot at i).
 */

import type { Entry, PeerId, SnapshotMeta } from '../../core/consensus/index.js';
import type { PersistBatch } from '../../peer/interfaces.js';
import { hashBytes } from './hash.js';

export type CheckName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'durability'
  | 'linearizability'
  | 'liveness'
  | 'codec'
  | 'assertion';

/** A violated property: thrown from inside the simulation, caught by the run with its seed. */
export class SimViolation extends Error {
  constructor(readonly check: CheckName, detail: string) {
    super(`${check}: ${detail}`);
    this.name = 'SimViolation';
  }
}

/** The identity of an entry's content: kind and data (the term is part of the key it is filed under). */
export function contentKey(entry: Entry): string {
  return entry.kind === 'noop' ? 'noop' : `${entry.kind}:${entry.data.length}:${hashBytes(entry.data)}`;
}

interface LogRecord {
  readonly content: string;
  readonly previousTerm: number;
  readonly by: PeerId;
}

interface AppliedRecord {
  readonly term: number;
  readonly content: string;
  /** The highest leader term seen when the entry was first applied: its commit term is <= this. */
  readonly commitTermBound: number;
  readonly by: PeerId;
}

/** What the monitor sees of a log: a snapshot and the entries after it. */
export interface LogView {
  readonly snapshot: SnapshotMeta;
  readonly entries: readonly Entry[];
}

export interface MonitorCounters {
  elections: number;
  entriesApplied: number;
  /** The highest index applied anywhere (entries committed, noops and config changes included). */
  highestApplied: number;
  logEntriesChecked: number;
  completenessChecks: number;
}

export class SafetyMonitor {
  private readonly leaderOfTerm = new Map<number, PeerId>();
  private highestLeaderTerm = 0;
  private readonly logRecords = new Map<string, LogRecord>();
  private readonly appliedAt = new Map<number, AppliedRecord>();
  private readonly hashAt = new Map<number, { readonly hash: number; readonly by: PeerId }>();
  readonly counters: MonitorCounters = { elections: 0, entriesApplied: 0, highestApplied: 0, logEntriesChecked: 0, completenessChecks: 0 };

  /** A node reports itself leader of `term` (from the Ready that says so), with its log then. */
  onLeader(node: PeerId, term: number, log: LogView): void {
    const known = this.leaderOfTerm.get(term);
    if (known !== undefined && known !== node) {
      throw new SimViolation('election-safety', `two leaders in term ${term}: ${known} and ${node}`);
    }
    if (known === undefined) {
      this.leaderOfTerm.set(term, node);
      this.counters.elections += 1;
    }
    this.highestLeaderTerm = Math.max(this.highestLeaderTerm, term);
    this.checkCompleteness(node, term, log);
  }

  private checkCompleteness(node: PeerId, term: number, log: LogView): void {
    const snapshotIndex = log.snapshot.index;
    const snapshotApplied = this.appliedAt.get(snapshotIndex);
    if (snapshotIndex > 0 && snapshotApplied !== undefined && snapshotApplied.commitTermBound < term && snapshotApplied.term !== log.snapshot.term) {
      throw new SimViolation('leader-completeness', `${node} leads term ${term} from a snapshot at ${snapshotIndex} of term ${log.snapshot.term}, but ${snapshotApplied.by} applied an entry of term ${snapshotApplied.term} there`);
    }
    for (const entry of log.entries) {
      const applied = this.appliedAt.get(entry.index);
      if (applied === undefined || applied.commitTermBound >= term) continue;
      this.counters.completenessChecks += 1;
      if (applied.term !== entry.term || applied.content !== contentKey(entry)) {
        throw new SimViolation('leader-completeness', `${node} leads term ${term} with ${entry.term}/${entry.index} ${contentKey(entry)}, but ${applied.by} applied ${applied.term}/${entry.index} ${applied.content} (committed by term ${applied.commitTermBound} at the latest)`);
      }
    }
    // Applied entries beyond the leader's log: it lacks them.
    const last = log.entries[log.entries.length - 1]?.index ?? snapshotIndex;
    for (let index = last + 1; this.appliedAt.has(index); index++) {
      const applied = this.appliedAt.get(index) as AppliedRecord;
      if (applied.commitTermBound < term) {
        throw new SimViolation('leader-completeness', `${node} leads term ${term} with a log ending at ${last}, but ${applied.by} applied ${applied.term}/${index} (committed by term ${applied.commitTermBound} at the latest)`);
      }
    }
  }

  /** A batch is about to be written to `node`'s disk; `termAt(i)` is the term of the entry at i
   *  in the log it extends (or of the snapshot at i), undefined if there is none. */
  onPersist(node: PeerId, batch: PersistBatch, termAt: (index: number) => number | undefined): void {
    let previousTerm: number | undefined;
    const first = batch.entries[0];
    if (first !== undefined) {
      const before = first.index - 1;
      previousTerm = batch.snapshot !== null && batch.snapshot.meta.index === before ? batch.snapshot.meta.term : termAt(before);
      if (previousTerm === undefined) throw new SimViolation('log-matching', `${node} writes entries from ${first.index} after a gap in its log`);
    }
    for (const entry of batch.entries) {
      this.checkLogEntry(node, entry, previousTerm as number);
      previousTerm = entry.term;
    }
  }

  /** Checks a whole log (a durable one at restart, any one at the end). */
  checkLog(node: PeerId, log: LogView, where: string): void {
    let previousTerm = log.snapshot.term;
    let expected = log.snapshot.index + 1;
    for (const entry of log.entries) {
      if (entry.index !== expected) throw new SimViolation('log-matching', `${node}'s ${where} log skips from ${expected - 1} to ${entry.index}`);
      this.checkLogEntry(node, entry, previousTerm);
      previousTerm = entry.term;
      expected += 1;
    }
  }

  private checkLogEntry(node: PeerId, entry: Entry, previousTerm: number): void {
    this.counters.logEntriesChecked += 1;
    const key = `${entry.index}/${entry.term}`;
    const content = contentKey(entry);
    const known = this.logRecords.get(key);
    if (known === undefined) {
      this.logRecords.set(key, { content, previousTerm, by: node });
      return;
    }
    if (known.content !== content) {
      throw new SimViolation('log-matching', `entry ${entry.term}/${entry.index} differs: ${known.by} had ${known.content}, ${node} has ${content}`);
    }
    if (known.previousTerm !== previousTerm) {
      throw new SimViolation('log-matching', `logs of ${known.by} and ${node} agree at ${entry.term}/${entry.index} but differ before it (entry ${entry.index - 1} of term ${known.previousTerm} vs ${previousTerm})`);
    }
  }

  /** `node` applied `entry`; its state hash is now `hash`. */
  onApplied(node: PeerId, entry: Entry, hash: number): void {
    this.counters.entriesApplied += 1;
    const content = contentKey(entry);
    const known = this.appliedAt.get(entry.index);
    if (known === undefined) {
      this.appliedAt.set(entry.index, { term: entry.term, content, commitTermBound: this.highestLeaderTerm, by: node });
      this.counters.highestApplied = Math.max(this.counters.highestApplied, entry.index);
    } else if (known.term !== entry.term || known.content !== content) {
      throw new SimViolation('state-machine-safety', `${node} applied ${entry.term}/${entry.index} ${content}, but ${known.by} applied ${known.term}/${entry.index} ${known.content}`);
    }
    this.checkHash(node, entry.index, hash);
  }

  /** `node` restored a snapshot at `index`; its state hash is now `hash`. */
  onRestored(node: PeerId, index: number, hash: number): void {
    this.checkHash(node, index, hash);
  }

  private checkHash(node: PeerId, index: number, hash: number): void {
    const known = this.hashAt.get(index);
    if (known === undefined) {
      this.hashAt.set(index, { hash, by: node });
      return;
    }
    if (known.hash !== hash) {
      throw new SimViolation('state-machine-safety', `state hash at index ${index}: ${known.by} had ${known.hash.toString(16)}, ${node} has ${hash.toString(16)}`);
    }
  }

  /** The term of the entry applied at `index`, if any replica applied one. */
  appliedTermAt(index: number): number | undefined {
    return this.appliedAt.get(index)?.term;
  }
}
