/**
 * The unsafe "recover from this peer" action (Peer.unsafeRecover; DESIGN.md "Quorum lost"), on the
 * in-memory Ensemble: with 2 of 3 voters gone for good, writes fail; recovering the survivor makes
 * it the sole voter with the state it had applied, and writes work again; crashed peers that come
 * back find themselves outside the configuration, rejoin as learners (REMOVED, JOIN), are repaired
 * to the survivor's log — from scratch when they had committed entries the survivor never applied
 * (those are lost: that is what makes the action unsafe) — and are promoted. Refused with a quorum.
 */

import { describe, expect, it } from 'vitest';
import { Ensemble, bytes, type Client } from './harness.js';
import type { Peer, UnsafeRecoverOptions, UnsafeRecoverResult } from './peer.js';
import { OPEN_ACL_UNSAFE } from '../core/tree/types.js';
import type { SessionResult } from './serving-api.js';
import { UNSAFE_RECOVERY_TERM_JUMP } from './constants.js';

/** How long a write may wait without a quorum before the test calls it failed: well above an
 *  election timeout and a forward's retries, so a write that could commit would have. */
const NO_QUORUM_WRITE_WAIT_MS = 20_000;

/** How long rejoining, catching up and promotion may take on the manual clock (join retries,
 *  learner promotion, a snapshot transfer): a generous multiple of what they take. */
const REJOIN_WAIT_MS = 60_000;

/** Whether `peer`'s replica holds `path`. */
function has(peer: Peer, path: string): boolean {
  return peer.tree.getData(path, { sessionId: '0', auth: [] }).ok;
}

function recover(ensemble: Ensemble, peer: Peer, options: UnsafeRecoverOptions = {}): UnsafeRecoverResult {
  let result: UnsafeRecoverResult | null = null;
  peer.unsafeRecover(options, (outcome) => {
    result = outcome;
  });
  expect(ensemble.runUntil(() => result !== null, 5_000)).toBe(true);
  return result as unknown as UnsafeRecoverResult;
}

function create(ensemble: Ensemble, client: Client, path: string, maxMs?: number): SessionResult | null {
  const box = ensemble.submit(client, { op: 'create', path, data: bytes(path), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' });
  ensemble.runUntil(() => box.result !== null, maxMs ?? 30_000);
  return box.result;
}

/** Three voters a, b, c with a leader, a client served by `a`, and /before written everywhere. */
function threeVoters(seed: number): { ensemble: Ensemble; client: Client } {
  const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
  ensemble.elect();
  const client = ensemble.client('a');
  expect(create(ensemble, client, '/before')).toMatchObject({ ok: true });
  expect(ensemble.converge()).toBe(true);
  return { ensemble, client };
}

describe('unsafe recovery from a surviving peer', () => {
  it('2 of 3 voters gone: writes fail; recovered, the survivor leads alone with its data; the others rejoin as learners and are promoted', () => {
    const { ensemble, client } = threeVoters(1);
    ensemble.crash('b');
    ensemble.crash('c');
    const a = ensemble.peer('a');
    expect(ensemble.runUntil(() => !a.status().quorum, 30_000)).toBe(true);
    const stuck = create(ensemble, client, '/during', NO_QUORUM_WRITE_WAIT_MS);
    expect(stuck === null || !stuck.ok).toBe(true);

    const appliedBefore = a.status().appliedIndex;
    const termBefore = a.status().term;
    const recovered = recover(ensemble, a);
    expect(recovered).toMatchObject({ ok: true, appliedIndex: appliedBefore, term: termBefore + UNSAFE_RECOVERY_TERM_JUMP });
    expect(ensemble.runUntil(() => a.status().role === 'leader', 1_000)).toBe(true);
    expect(a.status()).toMatchObject({ voters: ['a'], observers: [], quorum: true });
    expect(a.status().counters.unsafeRecoveries).toBe(1);
    expect(has(a, '/before')).toBe(true);
    // The session served by a survived (it is in the tree) and writes through it commit.
    expect(create(ensemble, client, '/after')).toMatchObject({ ok: true });

    // b comes back with its old configuration {a, b, c}: told it was removed, it joins as a learner.
    const b = ensemble.restart('b');
    expect(ensemble.runUntil(() => a.status().observers.includes('b') && has(b, '/after'), REJOIN_WAIT_MS)).toBe(true);
    expect(b.status().counters.removedNoticesAccepted).toBeGreaterThanOrEqual(1);
    expect(a.status().counters.removedNoticesSent).toBeGreaterThanOrEqual(1);
    // Two healthy members make no odd majority larger than one: b is promoted once c is back too.
    const c = ensemble.restart('c');
    expect(ensemble.runUntil(() => a.status().voters.length === 3, REJOIN_WAIT_MS)).toBe(true);
    expect(a.status().voters).toEqual(['a', 'b', 'c']);
    expect(a.status().role).toBe('leader');
    expect(ensemble.converge()).toBe(true);
    expect(has(c, '/before')).toBe(true);
    expect(create(ensemble, client, '/later')).toMatchObject({ ok: true });
  });

  it('the writes the lost majority committed but the survivor never applied are lost; a returning peer that had them drops its history and catches up', () => {
    const { ensemble } = threeVoters(2);
    // a is cut off; b and c commit /lost without it, then both crash for good.
    ensemble.network.partition(['a'], ['b', 'c']);
    expect(ensemble.runUntil(() => ensemble.leader()?.peerId === 'b' || ensemble.leader()?.peerId === 'c', 30_000)).toBe(true);
    const majorityLeader = ensemble.leader() as Peer;
    const other = majorityLeader.peerId === 'b' ? 'c' : 'b';
    const writer = ensemble.client(other);
    expect(create(ensemble, writer, '/lost')).toMatchObject({ ok: true });
    expect(ensemble.runUntil(() => ensemble.peer(other).status().commitIndex === majorityLeader.status().commitIndex, 5_000)).toBe(true);
    ensemble.crash('b');
    ensemble.crash('c');
    ensemble.network.heal();
    const a = ensemble.peer('a');
    expect(ensemble.runUntil(() => !a.status().quorum, 30_000)).toBe(true);
    expect(has(a, '/lost')).toBe(false);

    expect(recover(ensemble, a)).toMatchObject({ ok: true });
    expect(ensemble.runUntil(() => a.status().role === 'leader', 1_000)).toBe(true);
    expect(has(a, '/lost')).toBe(false);
    expect(has(a, '/before')).toBe(true);
    const client = ensemble.client('a');
    expect(create(ensemble, client, '/after')).toMatchObject({ ok: true });

    // b committed /lost (an entry a's new log contradicts): it must drop it, not crash or keep it.
    const b = ensemble.restart('b');
    expect(has(b, '/lost')).toBe(true);
    expect(ensemble.runUntil(() => has(b, '/after'), REJOIN_WAIT_MS)).toBe(true);
    expect(b.status().counters.divergedResets).toBe(1);
    expect(has(b, '/lost')).toBe(false);
    expect(b.tree.digest()).toBe(a.tree.digest());
    ensemble.restart('c');
    expect(ensemble.runUntil(() => a.status().voters.length === 3, REJOIN_WAIT_MS)).toBe(true);
    expect(ensemble.converge()).toBe(true);
    expect(has(ensemble.peer('c'), '/lost')).toBe(false);
  });

  it('is refused while the peer has a quorum (leader or follower), and changes nothing', () => {
    const { ensemble } = threeVoters(3);
    const leader = ensemble.leader() as Peer;
    const follower = [...ensemble.peers.values()].find((peer) => peer !== leader) as Peer;
    for (const peer of [leader, follower]) {
      const before = peer.status();
      const result = recover(ensemble, peer);
      expect(result).toMatchObject({ ok: false, code: 'BADARGUMENTS' });
      expect(result.ok ? '' : result.reason).toMatch(/quorum/);
      expect(peer.status().counters.unsafeRecoveries).toBe(0);
      expect(peer.status().voters).toEqual(before.voters);
    }
    expect(ensemble.converge()).toBe(true);
  });

  it('force: a follower with a quorum recovers all the same (tests only): it leads a one-voter ensemble', () => {
    const { ensemble } = threeVoters(4);
    const leader = ensemble.leader() as Peer;
    const follower = [...ensemble.peers.values()].find((peer) => peer !== leader) as Peer;
    ensemble.crash(leader.peerId);
    expect(recover(ensemble, follower, { force: true })).toMatchObject({ ok: true });
    expect(ensemble.runUntil(() => follower.status().role === 'leader', 1_000)).toBe(true);
    expect(follower.status().voters).toEqual([follower.peerId]);
    expect(follower.status().counters.unsafeRecoveries).toBe(1);
  });
});
