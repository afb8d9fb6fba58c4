/**
 * The replicated log of one node (etcd's log.go + log_unstable.go, in one piece because the whole
 * log since the last snapshot is held in memory; storage is the caller's, fed through Ready).
 *
 *   snapshot.index | firstIndex ... persisted | persisted+1 ... lastIndex
 *   (compacted)    | durable in storage       | to hand out in the next Ready.entries
 *
 * `committed` and `applied` follow §3.5 / Figure 3.1; `persisted` is how far storage holds this
 * log (a follower that truncates a suffix lowers it, and the next Ready overwrites that suffix).
 * The configuration in force is the latest config entry's, committed or not (§4.1).
 *
 * Invariants, asserted: applied <= committed <= lastIndex; snapshot.index <= applied;
 * persisted <= lastIndex; entries are contiguous and their terms never decrease; nothing at or
 * below `committed` is ever truncated.
 */

import { assert } from '../assert.js';
import { decodeConfigEntry } from './config.js';
import type { Config, Entry, SnapshotMeta } from './types.js';

/** Bytes an entry counts for in size budgets: its payload (as etcd's payloadSize). */
export function entryPayloadBytes(entry: Entry): number {
  return entry.data.length;
}

interface ConfigAt {
  readonly index: number;
  readonly config: Config;
}

export class RaftLog {
  private base: SnapshotMeta;
  private entries: Entry[] = [];
  /** The config entries among `entries`, in index order. */
  private configs: ConfigAt[] = [];
  committed: number;
  applied: number;
  persisted: number;

  /** A log restored from storage: everything given is durable. */
  constructor(snapshot: SnapshotMeta, entries: readonly Entry[], commit: number) {
    this.base = snapshot;
    this.committed = snapshot.index;
    this.applied = snapshot.index;
    this.persisted = snapshot.index;
    const after = entries.filter((entry) => entry.index > snapshot.index);
    if (after.length > 0) this.append(after);
    this.persisted = this.lastIndex();
    assert(commit >= snapshot.index, 'log: commit is not below the snapshot');
    assert(commit <= this.lastIndex(), 'log: commit <= lastIndex on restart');
    this.committed = commit;
  }

  snapshotMeta(): SnapshotMeta {
    return this.base;
  }

  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.entries.length;
  }

  lastTerm(): number {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? this.base.term : last.term;
  }

  /** The term of entry `index`, or undefined when it is compacted (below the snapshot) or beyond
   *  the end. The snapshot's own index has the snapshot's term. */
  term(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    return this.entry(index)?.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.base.index) return undefined;
    return this.entries[index - this.base.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §3.6.1 (and §5.4.1 Election restriction): a candidate's log is at least as up-to-date as ours
   *  when its last term is higher, or equal with a last index at least ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** The configuration in force: the latest in the log, committed or not (§4.1). */
  config(): Config {
    const last = this.configs[this.configs.length - 1];
    return last === undefined ? this.base.config : last.config;
  }

  /** The configuration in force at `index` (for a snapshot taken there). */
  configAt(index: number): Config {
    assert(index >= this.base.index, 'log: configAt below the snapshot');
    let config = this.base.config;
    for (const at of this.configs) {
      if (at.index > index) break;
      config = at.config;
    }
    return config;
  }

  /** The index of the latest config entry in the log, or the snapshot index when none. */
  lastConfigIndex(): number {
    const last = this.configs[this.configs.length - 1];
    return last === undefined ? this.base.index : last.index;
  }

  /** Appends entries that start right after lastIndex. Returns the new last index. */
  append(entries: readonly Entry[]): number {
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, `log: append at ${entry.index} follows ${this.lastIndex()}`);
      assert(entry.term >= this.lastTerm(), 'log: terms never decrease along the log');
      this.entries.push(entry);
      if (entry.kind === 'config') {
        const decoded = decodeConfigEntry(entry.data);
        assert(decoded.ok, `log: config entry ${entry.index} decodes`);
        this.configs.push({ index: entry.index, config: decoded.value.config });
      }
    }
    return this.lastIndex();
  }

  /** Drops entries from `index` on (a follower resolving a conflict, §3.5). */
  private truncateFrom(index: number): void {
    assert(index > this.committed, `log: never truncate committed entry ${index} (commit ${this.committed})`);
    assert(index > this.base.index, 'log: truncate above the snapshot');
    this.entries.length = index - this.base.index - 1;
    this.configs = this.configs.filter((at) => at.index < index);
    this.persisted = Math.min(this.persisted, index - 1);
  }

  /** The index of the first entry in `entries` that is new or conflicts with ours, or 0 when we
   *  already hold them all. Entries at or below the snapshot are taken as matching (committed). */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (entry.index <= this.base.index) continue;
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The follower's side of AppendEntries (§3.5, Figure 3.1 receiver rules 2-4): if our log holds
   * (prevIndex, prevTerm), append `entries`, truncating any conflicting suffix, and return the
   * index of the last entry the leader sent; null on a mismatch at prevIndex.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.lastIndex()) this.truncateFrom(conflict);
      this.append(entries.slice(conflict - prevIndex - 1));
    }
    return lastNew;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term (§5.3's optimization, as
   * etcd's findConflictByTerm): no entry above it can match an entry of `term` or lower. Stops at
   * the snapshot: at or below it terms are unknown, and the answer is (index, 0), "no skip".
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let at = Math.min(index, this.lastIndex());
    while (at > this.base.index) {
      const atTerm = this.term(at) as number;
      if (atTerm <= term) return { index: at, term: atTerm };
      at -= 1;
    }
    if (at === this.base.index && this.base.term <= term) return { index: at, term: this.base.term };
    return { index: at, term: 0 };
  }

  /** Entries in [lo, hi), stopping before `bytesBudget` payload+overhead bytes (by `sizeOf`) or
   *  `countMax` entries are exceeded, but always at least one when the range is not empty. */
  slice(lo: number, hi: number, countMax: number, bytesBudget: number, sizeOf: (entry: Entry) => number): Entry[] {
    assert(lo > this.base.index, 'log: slice above the snapshot');
    assert(hi <= this.lastIndex() + 1, 'log: slice within the log');
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi && out.length < countMax; index++) {
      const entry = this.entry(index) as Entry;
      const size = sizeOf(entry);
      if (out.length > 0 && bytes + size > bytesBudget) break;
      out.push(entry);
      bytes += size;
    }
    return out;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `log: commit ${index} <= lastIndex ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    assert(index >= this.applied, 'log: applied never decreases');
    assert(index <= this.committed, 'log: applied <= committed');
    this.applied = index;
  }

  /** Entries not yet handed to storage. */
  unpersisted(): Entry[] {
    return this.entries.slice(this.persisted - this.base.index);
  }

  /** Storage now holds the log through `index` (the last entry of a Ready just persisted). */
  persistedTo(index: number): void {
    assert(index <= this.lastIndex(), 'log: persisted <= lastIndex');
    this.persisted = Math.max(this.persisted, index);
  }

  /** Committed entries not yet applied, from `after` + 1, at most `bytesMax` payload bytes (at least
   *  one entry). */
  committedAfter(after: number, bytesMax: number): Entry[] {
    const lo = Math.max(after, this.base.index) + 1;
    if (lo > this.committed) return [];
    return this.slice(lo, this.committed + 1, Number.MAX_SAFE_INTEGER, bytesMax, entryPayloadBytes);
  }

  /** Replaces the whole log with a snapshot received from the leader (§5.1, InstallSnapshot rule 7:
   *  "discard the entire log"). Storage is rewritten from the snapshot by the next Ready. */
  restore(meta: SnapshotMeta): void {
    assert(meta.index > this.committed, 'log: restore only a snapshot beyond the commit index');
    this.base = meta;
    this.entries = [];
    this.configs = [];
    this.committed = meta.index;
    this.persisted = meta.index;
  }

  /** Discards entries through `index` (applied), keeping the config and term at `index` as the new
   *  base. Returns the new base. */
  compact(index: number): SnapshotMeta {
    assert(index > this.base.index, 'log: compact above the current snapshot');
    assert(index <= this.applied, 'log: compact only applied entries');
    assert(index <= this.persisted, 'log: compact only persisted entries');
    const meta: SnapshotMeta = { index, term: this.term(index) as number, config: this.configAt(index) };
    this.entries = this.entries.slice(index - this.base.index);
    this.configs = this.configs.filter((at) => at.index > index);
    this.base = meta;
    return meta;
  }

  /** A copy of the log after the snapshot (for status, tests and the scenario harness). */
  allEntries(): readonly Entry[] {
    return this.entries.slice();
  }
}
