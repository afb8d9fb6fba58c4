// Proves RawNode's contract (etcd's rawnode; dissertation §3.8 / Figure 3.1 durability): the node
// is frozen between ready() and advance(); a vote or an acknowledgement only ever leaves in the
// same Ready as the hard state / entries it depends on (so "persist, then send" covers it); the
// refusals of propose/compact/readIndex; restart from persisted state re-applying the log; and
// unsafe mutations (b) and (c) deviate exactly as documented (mutation (a) is shown by
// testdata/commit_rule_mutation.txt).

import { describe, expect, it } from 'vitest';
import { AssertionError } from '../assert.js';
import { ENTRY_DATA_BYTES_MAX, UNCOMMITTED_BYTES_MAX } from '../limits.js';
import { Prng } from '../prng.js';
import { EMPTY_CONFIG, makeConfig } from './config.js';
import type { VoteRequest } from './messages.js';
import type { UnsafeMutations } from './options.js';
import { RawNode, type Ready } from './raw-node.js';
import type { PersistedState } from './types.js';
import { MemoryStorage } from './harness/memory-storage.js';

const THREE = makeConfig(['1', '2', '3']);

function node(id: string, persisted: PersistedState, unsafeMutations: UnsafeMutations = {}): RawNode {
  return new RawNode({ id, prng: new Prng(1), preVote: false, unsafeMutations }, persisted);
}

/** Persists and advances every Ready; returns them. */
function drain(raw: RawNode, storage?: MemoryStorage): Ready[] {
  const readys: Ready[] = [];
  for (let i = 0; i < 10 && raw.hasReady(); i++) {
    const ready = raw.ready();
    storage?.persist(ready);
    readys.push(ready);
    raw.advance(ready);
  }
  return readys;
}

function voteRequest(to: string, term: number, lastLogIndex = 0): VoteRequest {
  return { type: 'vote', from: '2', to, term, lastLogIndex, lastLogTerm: 0, transfer: false };
}

describe('the Ready cycle', () => {
  it('freezes the node between ready() and advance()', () => {
    const raw = node('1', RawNode.bootstrapState(makeConfig(['1'])));
    raw.campaign();
    const ready = raw.ready();
    expect(() => raw.tick()).toThrow(AssertionError);
    expect(() => raw.propose(new Uint8Array(1))).toThrow(AssertionError);
    expect(() => raw.step(voteRequest('1', 5))).toThrow(AssertionError);
    expect(() => raw.ready()).toThrow(AssertionError);
    expect(raw.hasReady()).toBe(false);
    raw.status(); // read-only calls stay allowed
    raw.advance(ready);
    expect(() => raw.advance(ready)).toThrow(AssertionError);
  });

  it('a one-voter node commits its no-op only after persisting it', () => {
    const raw = node('1', RawNode.bootstrapState(makeConfig(['1'])));
    raw.campaign();
    const first = raw.ready();
    expect(first.hardState).toEqual({ term: 1, vote: '1', commit: 0 });
    expect(first.entries.map((e) => e.kind)).toEqual(['noop']);
    expect(first.committedEntries).toEqual([]);
    expect(first.mustSync).toBe(true);
    expect(first.softState).toEqual({ leader: '1', role: 'leader' });
    raw.advance(first);
    const second = raw.ready();
    expect(second.committedEntries.map((e) => e.index)).toEqual([1]);
    expect(second.mustSync).toBe(false); // only the commit index changed
    raw.advance(second);
    expect(raw.status().applied).toBe(1);
    expect(raw.hasReady()).toBe(false);
  });

  it('a granted vote leaves in the same Ready as the hard state recording it', () => {
    const raw = node('3', RawNode.bootstrapState(THREE));
    expect(raw.step(voteRequest('3', 4)).ok).toBe(true);
    const ready = raw.ready();
    expect(ready.hardState).toEqual({ term: 4, vote: '2', commit: 0 });
    expect(ready.messages).toEqual([{ type: 'vote-response', from: '3', to: '2', term: 4, reject: false }]);
    expect(ready.messagesBeforePersist).toEqual([]);
    expect(ready.mustSync).toBe(true);
  });

  it('an append acknowledgement leaves in the same Ready as the entries it acknowledges', () => {
    const raw = node('3', RawNode.bootstrapState(THREE));
    const entries = [{ index: 1, term: 2, kind: 'noop' as const, data: new Uint8Array(0) }];
    raw.step({ type: 'append', from: '1', to: '3', term: 2, prevLogIndex: 0, prevLogTerm: 0, commit: 0, entries });
    const ready = raw.ready();
    expect(ready.entries).toEqual(entries);
    expect(ready.messages.map((m) => m.type)).toEqual(['append-response']);
    expect(ready.mustSync).toBe(true);
  });

  it('refuses messages not addressed to it or malformed, without effect', () => {
    const raw = node('3', RawNode.bootstrapState(THREE));
    expect(raw.step(voteRequest('4', 4)).ok).toBe(false);
    expect(raw.step(voteRequest('3', 4, -1)).ok).toBe(false);
    expect(raw.hasReady()).toBe(false);
  });
});

describe('refusals', () => {
  it('propose: not leader, too large, uncommitted limit', () => {
    const follower = node('2', RawNode.bootstrapState(THREE));
    expect(follower.propose(new Uint8Array(1))).toEqual({ ok: false, reason: 'not-leader' });
    expect(follower.readIndex('r')).toEqual({ ok: false, reason: 'no-leader' });
    expect(follower.transferLeadership('1')).toEqual({ ok: false, reason: 'no-leader' });
    // A leader of three whose followers never answer: nothing commits.
    const leader = node('1', RawNode.bootstrapState(THREE));
    leader.campaign();
    drain(leader);
    for (const id of ['2', '3']) leader.step({ type: 'vote-response', from: id, to: '1', term: 1, reject: false });
    drain(leader);
    expect(leader.status().role).toBe('leader');
    expect(leader.propose(new Uint8Array(ENTRY_DATA_BYTES_MAX + 1))).toEqual({ ok: false, reason: 'entry-too-large' });
    const big = new Uint8Array(ENTRY_DATA_BYTES_MAX);
    let accepted = 0;
    while (leader.propose(big).ok) accepted += 1;
    expect(accepted).toBe(Math.floor(UNCOMMITTED_BYTES_MAX / ENTRY_DATA_BYTES_MAX));
    expect(leader.propose(big)).toEqual({ ok: false, reason: 'uncommitted-limit' });
    expect(leader.proposeConfigChange({ type: 'add-learner', peer: '4' })).toEqual({ ok: false, reason: 'no-commit-in-term' });
  });

  it('compact: only applied, never twice', () => {
    const raw = node('1', RawNode.bootstrapState(makeConfig(['1'])));
    raw.campaign();
    drain(raw);
    raw.propose(new Uint8Array([7]));
    expect(raw.compact(2, new Uint8Array(0))).toEqual({ ok: false, reason: 'not-applied' });
    drain(raw);
    const result = raw.compact(2, new Uint8Array([1, 2]));
    expect(result.ok && result.snapshot.meta).toEqual({ index: 2, term: 1, config: makeConfig(['1']) });
    expect(raw.compact(2, new Uint8Array(0))).toEqual({ ok: false, reason: 'already-compacted' });
  });
});

describe('restart from persisted state', () => {
  it('keeps term, vote and log, and hands the committed entries out again', () => {
    const persisted = RawNode.bootstrapState(makeConfig(['1']));
    const storage = new MemoryStorage(persisted);
    const raw = node('1', persisted);
    raw.campaign();
    drain(raw, storage);
    raw.propose(new Uint8Array([7]));
    drain(raw, storage);
    const restarted = node('1', storage.load());
    expect(restarted.status()).toMatchObject({ role: 'follower', term: 1, vote: '1', commit: 2, applied: 0, lastIndex: 2 });
    const ready = restarted.ready();
    expect(ready.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(ready.entries).toEqual([]);
  });

  it('refuses inconsistent storage (a bug to surface, not to repair)', () => {
    const bad = { ...RawNode.bootstrapState(THREE), hardState: { term: 1, vote: null, commit: 5 } };
    expect(() => node('1', bad)).toThrow(AssertionError);
    const joiner = node('9', RawNode.bootstrapState(EMPTY_CONFIG));
    joiner.campaign(); // not a voter: no effect
    expect(joiner.hasReady()).toBe(false);
  });
});

describe('unsafe mutations', () => {
  it('(b) ackBeforePersist moves the Ready messages before persistence', () => {
    const raw = node('3', RawNode.bootstrapState(THREE), { ackBeforePersist: true });
    raw.step(voteRequest('3', 4));
    const ready = raw.ready();
    expect(ready.messages).toEqual([]);
    expect(ready.messagesBeforePersist.map((m) => m.type)).toEqual(['vote-response']);
  });

  it('(c) voteWithoutDurableHardState grants without recording the vote durably', () => {
    const raw = node('3', RawNode.bootstrapState(THREE), { voteWithoutDurableHardState: true });
    raw.step(voteRequest('3', 4));
    const ready = raw.ready();
    expect(ready.hardState).toEqual({ term: 4, vote: null, commit: 0 });
    expect(ready.messages.map((m) => m.type)).toEqual(['vote-response']);
    expect(raw.status().vote).toBe('2'); // kept in memory only
  });
});
