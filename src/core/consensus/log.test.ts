// Proves the log's rules (dissertation §3.5 AppendEntries receiver, Figure 3.1; §3.6.1 up-to-date
// check; §5.1 compaction; §5.3's fast backtracking hint; §4.1 config = latest in the log) on
// hand-built logs, including the etcd examples of findConflictByTerm.

import { describe, expect, it } from 'vitest';
import { AssertionError } from '../assert.js';
import { encodeConfigEntry, makeConfig } from './config.js';
import { entryPayloadBytes, RaftLog } from './log.js';
import type { Entry, SnapshotMeta } from './types.js';

const BASE: SnapshotMeta = { index: 0, term: 0, config: makeConfig(['1', '2', '3']) };

/** Entries with the given terms, from index `first`. */
function entries(terms: readonly number[], first = 1): Entry[] {
  return terms.map((term, i) => ({ index: first + i, term, kind: 'normal', data: new Uint8Array([first + i]) }));
}

function logOf(terms: readonly number[], commit = 0): RaftLog {
  return new RaftLog(BASE, entries(terms), commit);
}

function termsOf(log: RaftLog): number[] {
  return log.allEntries().map((entry) => entry.term);
}

describe('RaftLog basics', () => {
  it('reports first/last index and terms, with the snapshot term at its index', () => {
    const log = new RaftLog({ ...BASE, index: 5, term: 2 }, entries([2, 3], 6), 6);
    expect(log.firstIndex()).toBe(6);
    expect(log.lastIndex()).toBe(7);
    expect(log.lastTerm()).toBe(3);
    expect(log.term(5)).toBe(2);
    expect(log.term(4)).toBeUndefined();
    expect(log.term(8)).toBeUndefined();
  });

  it('ignores stored entries at or below the snapshot on restart', () => {
    const log = new RaftLog({ ...BASE, index: 2, term: 1 }, entries([1, 1, 1, 2]), 3);
    expect(log.firstIndex()).toBe(3);
    expect(termsOf(log)).toEqual([1, 2]);
    expect(log.persisted).toBe(4);
  });

  it('refuses a restart whose commit index is beyond the log', () => {
    expect(() => logOf([1, 1], 3)).toThrow(AssertionError);
  });

  it('compares up-to-dateness by last term, then last index (§3.6.1)', () => {
    const log = logOf([1, 2, 2]);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(9, 1)).toBe(false);
  });
});

describe('maybeAppend (Figure 3.1, AppendEntries receiver)', () => {
  it('rejects when the log does not hold prevLogIndex with prevLogTerm', () => {
    const log = logOf([1, 1, 2]);
    expect(log.maybeAppend(3, 1, entries([2], 4))).toBeNull();
    expect(log.maybeAppend(4, 2, entries([2], 5))).toBeNull();
  });

  it('appends new entries and returns the last index the leader sent', () => {
    const log = logOf([1, 1]);
    expect(log.maybeAppend(2, 1, entries([2, 2], 3))).toBe(4);
    expect(termsOf(log)).toEqual([1, 1, 2, 2]);
  });

  it('keeps matching entries, and answers with the leader last index even when shorter than ours', () => {
    const log = logOf([1, 1, 2, 2]);
    expect(log.maybeAppend(1, 1, entries([1], 2))).toBe(2);
    expect(termsOf(log)).toEqual([1, 1, 2, 2]);
  });

  it('truncates a conflicting suffix and lowers `persisted` so the next Ready rewrites it', () => {
    const log = logOf([1, 1, 2, 2, 2]);
    expect(log.persisted).toBe(5);
    expect(log.maybeAppend(2, 1, entries([3], 3))).toBe(3);
    expect(termsOf(log)).toEqual([1, 1, 3]);
    expect(log.persisted).toBe(2);
    expect(log.unpersisted().map((entry) => entry.index)).toEqual([3]);
  });

  it('never truncates a committed entry (assertion: State Machine Safety)', () => {
    const log = logOf([1, 1, 2], 3);
    expect(() => log.maybeAppend(2, 1, entries([3], 3))).toThrow(AssertionError);
  });
});

describe('findConflictByTerm (§5.3 hint, etcd examples)', () => {
  // Leader 1 3 3 3 5 5 5 5 5, follower hint (6, 2): the leader may skip to index 1.
  it('skips every index whose term is above the hint term', () => {
    const leader = logOf([1, 3, 3, 3, 5, 5, 5, 5, 5]);
    expect(leader.findConflictByTerm(6, 2)).toEqual({ index: 1, term: 1 });
    expect(leader.findConflictByTerm(9, 5)).toEqual({ index: 9, term: 5 });
    expect(leader.findConflictByTerm(9, 4)).toEqual({ index: 4, term: 3 });
  });

  // Follower 1 3 3 4 4 5 5 5 6 probed at (8, term 3): it answers index 3.
  it('gives the follower-side hint for a divergent tail', () => {
    const follower = logOf([1, 3, 3, 4, 4, 5, 5, 5, 6]);
    expect(follower.findConflictByTerm(8, 3)).toEqual({ index: 3, term: 3 });
  });

  it('clamps to the last index, and says "term unknown" below the snapshot', () => {
    expect(logOf([1, 2]).findConflictByTerm(7, 2)).toEqual({ index: 2, term: 2 });
    const compacted = new RaftLog({ ...BASE, index: 4, term: 3 }, entries([3, 4], 5), 4);
    expect(compacted.findConflictByTerm(6, 2)).toEqual({ index: 4, term: 0 });
    expect(compacted.findConflictByTerm(2, 9)).toEqual({ index: 2, term: 0 });
    expect(compacted.findConflictByTerm(6, 3)).toEqual({ index: 5, term: 3 });
  });
});

describe('commit, apply, slices', () => {
  it('commit never goes back and never beyond the last index', () => {
    const log = logOf([1, 1, 1]);
    log.commitTo(2);
    log.commitTo(1);
    expect(log.committed).toBe(2);
    expect(() => log.commitTo(4)).toThrow(AssertionError);
  });

  it('applied never exceeds commit', () => {
    const log = logOf([1, 1, 1], 2);
    log.appliedTo(2);
    expect(() => log.appliedTo(3)).toThrow(AssertionError);
  });

  it('slices within a byte budget, but always at least one entry', () => {
    const log = new RaftLog(BASE, [10, 10, 10, 50].map((size, i) => ({ index: i + 1, term: 1, kind: 'normal' as const, data: new Uint8Array(size) })), 0);
    expect(log.slice(1, 5, 100, 25, entryPayloadBytes).length).toBe(2);
    expect(log.slice(4, 5, 100, 25, entryPayloadBytes).length).toBe(1);
    expect(log.slice(1, 5, 3, 1000, entryPayloadBytes).length).toBe(3);
  });

  it('hands committed entries out from the applied index, at most a byte budget at a time', () => {
    const log = logOf([1, 1, 1, 1], 4);
    expect(log.committedAfter(0, 1).map((entry) => entry.index)).toEqual([1]);
    expect(log.committedAfter(2, 100).map((entry) => entry.index)).toEqual([3, 4]);
  });
});

describe('compaction and snapshots (§5.1)', () => {
  it('compacts applied entries into a base with the term and config at that index', () => {
    const log = logOf([1, 1, 2, 2], 4);
    log.appliedTo(3);
    const meta = log.compact(3);
    expect(meta).toEqual({ index: 3, term: 2, config: BASE.config });
    expect(log.firstIndex()).toBe(4);
    expect(log.term(3)).toBe(2);
    expect(termsOf(log)).toEqual([2]);
    expect(() => log.compact(4)).toThrow(AssertionError); // not applied
  });

  it('restores from a leader snapshot by discarding the whole log', () => {
    const log = logOf([1, 1, 2], 1);
    log.restore({ index: 10, term: 4, config: makeConfig(['1', '2']) });
    expect(log.lastIndex()).toBe(10);
    expect(log.committed).toBe(10);
    expect(log.allEntries()).toEqual([]);
    expect(log.config().voters).toEqual(['1', '2']);
  });
});

describe('configuration = latest config entry in the log (§4.1)', () => {
  function configEntry(index: number, term: number, voters: string[], learners: string[]): Entry {
    const config = makeConfig(voters, learners);
    const data = encodeConfigEntry({ change: { type: 'add-learner', peer: learners[0] as string }, config });
    return { index, term, kind: 'config', data };
  }

  it('takes effect on append, reverts on truncation, and is kept by compaction', () => {
    const log = logOf([1]);
    log.append([configEntry(2, 1, ['1', '2', '3'], ['4'])]);
    expect(log.config().learners).toEqual(['4']);
    expect(log.lastConfigIndex()).toBe(2);
    // A new leader's entry at 2 replaces the uncommitted config entry: the config reverts.
    log.maybeAppend(1, 1, [{ index: 2, term: 2, kind: 'noop', data: new Uint8Array(0) }]);
    expect(log.config()).toEqual(BASE.config);
    log.append([configEntry(3, 2, ['1', '2', '3'], ['5'])]);
    log.persistedTo(3);
    log.commitTo(3);
    log.appliedTo(3);
    expect(log.configAt(2)).toEqual(BASE.config);
    expect(log.compact(3).config.learners).toEqual(['5']);
    expect(log.config().learners).toEqual(['5']);
  });
});
