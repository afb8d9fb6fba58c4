// Proves the peer runtime under faults and membership change, on seeded in-process ensembles
// (harness.ts; every run replays from its seed): a session whose serving peer is cut off is expired
// by the leader (its ephemerals vanish everywhere) and its client hears 'expired' after the heal;
// containers and TTL nodes are swept; a crashed leader is replaced and writes resume; a lost quorum
// makes writes wait then fail with a clear CONNECTIONLOSS while reads go on; joining peers become
// learners and the leader promotes them to 3 voters (5 peers: 2 observers); an unreachable voter is
// demoted and replaced; a removed voter that never heard of its removal stops campaigning and
// rejoins; a graceful leave closes sessions and hands off leadership; a restarted peer and one
// that needs a snapshot catch up. Replay: SEED=N npx vitest run src/peer/faults.test.ts
import { describe, expect, it } from 'vitest';
import { OPEN_ACL_UNSAFE, type CreateMode, type CreateRequest } from '../core/tree/types.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { OPERATION_TIMEOUT_MS, VOTER_UNREACHABLE_MS, LEARNER_UNREACHABLE_MS } from './constants.js';
import { bytes, Ensemble } from './harness.js';
import type { SessionResult } from './serving-api.js';

const seed = testSeed();

function create(path: string, data = '', mode: CreateMode = 'persistent', extra: Partial<CreateRequest> = {}): CreateRequest {
  return { op: 'create', path, data: bytes(data), acl: [...OPEN_ACL_UNSAFE], mode, ...extra };
}

type Success = Extract<SessionResult, { ok: true }>;

function reasonOf(result: SessionResult): string {
  return !result.ok && 'reason' in result && result.reason !== undefined ? `: ${result.reason}` : '';
}

function ok(result: SessionResult | null): Success {
  if (result === null) throw new Error('expected a result, got none');
  if (!result.ok) throw new Error(`expected ok, got ${result.code}${reasonOf(result)}`);
  return result;
}

/** Retries a write until it succeeds (CONNECTIONLOSS is an unknown outcome: the path may exist). */
function writeEventually(ensemble: Ensemble, client: Parameters<Ensemble['call']>[0], request: CreateRequest, maxMs = 60_000): SessionResult {
  const deadline = ensemble.clock.now() + maxMs;
  for (;;) {
    const result = ensemble.call(client, request, maxMs);
    if (result.ok || result.code === 'NODEEXISTS') return result;
    expect(result.code).toBe('CONNECTIONLOSS');
    if (ensemble.clock.now() > deadline) throw new Error('write never succeeded');
    ensemble.run(500);
  }
}

describe(`peer faults (seed ${seed})`, () => {
  it('expires the session of a cut-off serving peer: ephemerals vanish everywhere, its client hears expired after the heal', () => {
    withSeed('expiry under partition', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect();
      const cutOff = [...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string;
      const others = [...ensemble.peers.keys()].filter((id) => id !== cutOff);
      const client = ensemble.client(cutOff, 4000);
      expect(client.timeoutMs).toBe(4000);
      ok(ensemble.call(client, create('/eph', '', 'ephemeral')));
      expect(ensemble.converge()).toBe(true);
      ensemble.network.partition([cutOff], others);
      const pending = ensemble.submit(client, { op: 'setData', path: '/eph', data: bytes('x'), version: -1 });
      // The majority side expires the session after its timeout (plus a session tick).
      expect(ensemble.runUntil(() => others.every((id) => ensemble.peer(id).tree.stat('/eph') === undefined), 20_000)).toBe(true);
      for (const id of others) expect(ensemble.peer(id).tree.hasSession(client.sessionId)).toBe(false);
      expect(ensemble.leader()?.status().counters.sessionsExpired).toBeGreaterThan(0);
      // The cut-off side still has it (it has not applied the expiry), and says it is disconnected.
      expect(ensemble.peer(cutOff).tree.stat('/eph')).toBeDefined();
      expect(client.states).toContain('disconnected');
      expect(ensemble.call(client, { op: 'exists', path: '/eph', watch: false })).toMatchObject({ ok: true });
      ensemble.network.heal();
      expect(ensemble.runUntil(() => client.states.at(-1) === 'expired', 30_000)).toBe(true);
      expect(pending.result).toMatchObject({ ok: false });
      expect(ensemble.peer(cutOff).tree.stat('/eph')).toBeUndefined();
      expect(ensemble.call(client, { op: 'exists', path: '/', watch: false })).toMatchObject({ ok: false, code: 'SESSIONEXPIRED' });
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('keeps a pinged session alive across many timeouts', () => {
    withSeed('pinged session', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect();
      const follower = [...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string;
      const client = ensemble.client(follower, 4000);
      ok(ensemble.call(client, create('/alive', '', 'ephemeral')));
      ensemble.run(60_000);
      expect(ensemble.leader()?.tree.stat('/alive')).toBeDefined();
      expect(client.states).toEqual(['connected']);
    });
  });

  it('sweeps empty containers and expired TTL nodes', () => {
    withSeed('containers and ttl', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], timing: { containerSweepIntervalMs: 1000 } });
      const leader = ensemble.elect();
      const client = ensemble.client([...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string);
      ok(ensemble.call(client, create('/box', '', 'container')));
      ok(ensemble.call(client, create('/box/item')));
      ok(ensemble.call(client, create('/ttl', '', 'persistent_ttl', { ttlMs: 3000 })));
      ok(ensemble.call(client, create('/keep', '', 'persistent_ttl', { ttlMs: 3000 })));
      ok(ensemble.call(client, create('/keep/child')));
      ensemble.run(2000);
      expect(ensemble.leader()?.tree.stat('/box')).toBeDefined(); // not empty yet
      ok(ensemble.call(client, { op: 'delete', path: '/box/item', version: -1 }));
      expect(ensemble.runUntil(() => [...ensemble.peers.values()].every((peer) => peer.tree.stat('/box') === undefined), 10_000)).toBe(true);
      expect(ensemble.runUntil(() => [...ensemble.peers.values()].every((peer) => peer.tree.stat('/ttl') === undefined), 10_000)).toBe(true);
      expect(ensemble.leader()?.tree.stat('/keep')).toBeDefined(); // a TTL node with children stays
      expect(ensemble.leader()?.status().counters.containersSwept).toBeGreaterThanOrEqual(2);
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('replaces a crashed leader and resumes writes; the restarted peer catches up', () => {
    withSeed('leader crash', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const old = ensemble.elect();
      const survivor = [...ensemble.peers.keys()].find((id) => id !== old.peerId) as string;
      const client = ensemble.client(survivor);
      ok(ensemble.call(client, create('/before')));
      const inFlight = ensemble.submit(client, create('/during'));
      const oldTerm = old.status().term;
      ensemble.crash(old.peerId);
      const next = ensemble.elect();
      expect(next.peerId).not.toBe(old.peerId);
      expect(next.status().term).toBeGreaterThan(oldTerm);
      expect(ensemble.runUntil(() => inFlight.result !== null)).toBe(true);
      if (!inFlight.result?.ok) expect(inFlight.result).toMatchObject({ code: 'CONNECTIONLOSS' });
      writeEventually(ensemble, client, create('/after'));
      expect(client.states).not.toContain('expired');
      ensemble.restart(old.peerId);
      expect(ensemble.converge()).toBe(true);
      expect(ensemble.peer(old.peerId).tree.stat('/after')).toBeDefined();
    });
  });

  it('without a quorum, writes wait then fail with a clear CONNECTIONLOSS; reads go on locally', () => {
    withSeed('quorum lost', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect();
      const lonely = [...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string;
      const client = ensemble.client(lonely, 40_000);
      ok(ensemble.call(client, create('/q', 'data')));
      expect(ensemble.converge()).toBe(true);
      ensemble.network.isolate(lonely);
      ensemble.run(6000);
      expect(ensemble.peer(lonely).status().quorum).toBe(false);
      const write = ensemble.submit(client, create('/q/never'));
      ensemble.run(OPERATION_TIMEOUT_MS / 2);
      expect(write.result).toBeNull(); // waiting, not failed at once
      expect(ensemble.runUntil(() => write.result !== null, OPERATION_TIMEOUT_MS * 2)).toBe(true);
      expect(write.result).toMatchObject({ ok: false, code: 'CONNECTIONLOSS', path: '/q/never' });
      expect((write.result as { reason?: string }).reason).toMatch(/quorum|leader/);
      const read = ensemble.call(client, { op: 'getData', path: '/q', watch: false });
      expect(new TextDecoder().decode((ok(read) as { data: Uint8Array }).data)).toBe('data');
      ensemble.network.heal();
      writeEventually(ensemble, client, create('/q/later'));
      expect(ensemble.converge()).toBe(true);
    });
  });

  it.each([0, 3])('after a proposal Raft refuses, resets prep and waits for the log to apply (the prep barrier; storage delay %i ms)', (storageDelayMs) => {
    withSeed('prep barrier', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], storageDelayMs });
      const leader = ensemble.elect();
      const followers = [...ensemble.peers.keys()].filter((id) => id !== leader.peerId);
      const client = ensemble.client(leader.peerId);
      const otherClient = ensemble.client(leader.peerId);
      ok(ensemble.call(client, create('/big')));
      // Nothing commits while the followers hear nothing, so the leader's uncommitted bytes grow
      // to UNCOMMITTED_BYTES_MAX (16 MiB) and Raft refuses the 17th 1 MB write.
      for (const id of followers) ensemble.network.block(leader.peerId, id);
      const payload = 'x'.repeat(1_000_000);
      // Issued together (from one callback), so all 20 are outstanding at once, as a pipelining
      // client's are: the refusal must fail the ones issued after the refused one too.
      const boxes: { result: SessionResult | null }[] = [];
      leader.submit(client.sessionId, { op: 'exists', path: '/big', watch: false }, () => {
        for (let i = 0; i < 20; i++) boxes.push(ensemble.submit(client, create(`/big/n${i}`, payload)));
      });
      ensemble.run(200);
      expect(boxes).toHaveLength(20);
      expect(leader.status().counters.proposalsRefused).toBe(1);
      // Another session's write that conflicts with the unapplied ones: prep must wait for them
      // (the barrier) rather than prep it against a tree that does not show them yet.
      const other = ensemble.submit(otherClient, create('/big/n0', 'conflict'));
      ensemble.run(50);
      expect(other.result).toBeNull();
      for (const id of followers) ensemble.network.unblock(leader.peerId, id);
      expect(ensemble.runUntil(() => boxes.every((box) => box.result !== null), 20_000)).toBe(true);
      // The refusal killed the stream: every write in flight on it fails with CONNECTIONLOSS
      // (outcome unknown). The 16 proposed before the refusal did take effect; the rest did not.
      expect(boxes.map((box) => (box.result?.ok ? 'OK' : box.result?.code))).toEqual(Array(20).fill('CONNECTIONLOSS'));
      expect(ensemble.runUntil(() => other.result !== null)).toBe(true);
      expect(other.result).toMatchObject({ ok: false, code: 'NODEEXISTS', path: '/big/n0' });
      expect(ensemble.converge()).toBe(true);
      const children = ensemble.call(client, { op: 'getChildren', path: '/big', watch: false });
      expect(children).toMatchObject({ ok: true, children: Array.from({ length: 16 }, (_, i) => `n${i}`).sort() });
      // The refused txn left nothing behind in prep (the overlay was reset): its create now succeeds.
      for (let i = 16; i < 20; i++) ok(ensemble.call(client, create(`/big/n${i}`, 'again')));
      expect(ensemble.call(client, create('/big/n0', 'again'))).toMatchObject({ ok: false, code: 'NODEEXISTS' });
      expect(ensemble.converge()).toBe(true);
      expect(ensemble.leader()?.tree.stat('/big')?.numChildren).toBe(20);
    });
  });

  it('adds joining peers as learners and promotes them to 3 voters; 5 peers leave 2 observers', () => {
    withSeed('join and promote', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a'], joiners: ['b', 'c', 'd', 'e'] });
      const settled = (): boolean => {
        const status = ensemble.leader()?.status();
        return status !== undefined && status.voters.length === 3 && status.observers.length === 2;
      };
      expect(ensemble.runUntil(settled, 60_000)).toBe(true);
      const status = ensemble.leader()?.status();
      expect(status?.voters).toContain('a');
      ensemble.run(10_000); // and it stays there
      expect(ensemble.leader()?.status().voters).toHaveLength(3);
      for (const peer of ensemble.peers.values()) {
        const own = peer.status();
        expect(own.voters).toEqual(status?.voters);
        expect(own.role === 'observer').toBe(status?.observers.includes(own.peerId));
      }
      const observer = status?.observers[0] as string;
      const client = ensemble.client(observer);
      ok(ensemble.call(client, create('/via-observer')));
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('demotes a voter unreachable past the limit and promotes an observer in its place', () => {
    withSeed('replace voter', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], joiners: ['d', 'e'] });
      expect(ensemble.runUntil(() => ensemble.leader()?.status().observers.length === 2, 30_000)).toBe(true);
      const leader = ensemble.leader()?.peerId as string;
      const lost = ['a', 'b', 'c'].find((id) => id !== leader) as string;
      ensemble.network.isolate(lost);
      ensemble.run(VOTER_UNREACHABLE_MS / 2);
      expect(ensemble.leader()?.status().voters).toContain(lost);
      const replaced = (): boolean => {
        const status = ensemble.leader()?.status();
        return status !== undefined && status.voters.length === 3 && !status.voters.includes(lost);
      };
      expect(ensemble.runUntil(replaced, VOTER_UNREACHABLE_MS * 2)).toBe(true);
      expect(ensemble.leader()?.status().observers).toContain(lost);
      // Writes go on through the new majority.
      const client = ensemble.client(ensemble.leader()?.status().voters.find((id) => id !== ensemble.leader()?.peerId) as string);
      ok(ensemble.call(client, create('/replaced')));
      ensemble.network.heal();
      ensemble.run(5000);
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('stops a removed voter from campaigning and lets it rejoin', () => {
    withSeed('removed voter', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], joiners: ['d', 'e'] });
      expect(ensemble.runUntil(() => ensemble.leader()?.status().observers.length === 2, 30_000)).toBe(true);
      const leader = ensemble.leader()?.peerId as string;
      const lost = ['a', 'b', 'c'].find((id) => id !== leader) as string;
      ensemble.network.isolate(lost);
      // demoted after VOTER_UNREACHABLE_MS, removed after LEARNER_UNREACHABLE_MS
      const removed = (): boolean => {
        const status = ensemble.leader()?.status();
        return status !== undefined && !status.voters.includes(lost) && !status.observers.includes(lost);
      };
      expect(ensemble.runUntil(removed, LEARNER_UNREACHABLE_MS * 2, 100)).toBe(true);
      // It never heard: it still believes it is a voter, and campaigns (pre-votes) in vain.
      expect(ensemble.peer(lost).status().voters).toContain(lost);
      const termBefore = ensemble.leader()?.status().term as number;
      ensemble.network.heal();
      // Either the leader's REMOVED notice reaches it, or — silent from any leader for longer than
      // MEMBER_REJOIN_SILENCE_MS while isolated, it has been sending JOIN — its JOIN arrives first.
      expect(ensemble.peer(lost).status().counters.joinRequests).toBeGreaterThan(0);
      // It asks to join, comes back as an observer, and never disturbed the leader's term.
      expect(ensemble.runUntil(() => ensemble.leader()?.status().observers.includes(lost) === true, 30_000)).toBe(true);
      expect(ensemble.runUntil(() => ensemble.peer(lost).status().removed === false, 30_000)).toBe(true);
      ensemble.run(20_000);
      expect(ensemble.leader()?.status().term).toBe(termBefore);
      expect(ensemble.peer(lost).status().role).toBe('observer');
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('leaves gracefully: sessions closed, leadership handed off before an election timeout', () => {
    withSeed('graceful leave', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect();
      const client = ensemble.client(leader.peerId);
      ok(ensemble.call(client, create('/mine', '', 'ephemeral')));
      const term = leader.status().term;
      let left = false;
      const startedAt = ensemble.clock.now();
      leader.leave(() => {
        left = true;
      });
      expect(ensemble.runUntil(() => left, 30_000, 5)).toBe(true);
      expect(client.states.at(-1)).toBe('closed');
      expect(leader.status().stopped).toBe(true);
      const others = [...ensemble.peers.values()].filter((peer) => peer !== leader);
      expect(ensemble.runUntil(() => others.some((peer) => peer.status().role === 'leader'), 2000, 5)).toBe(true);
      // A transfer, not an election timeout (>= 2.5 s of silence).
      expect(ensemble.clock.now() - startedAt).toBeLessThan(2500);
      const next = others.find((peer) => peer.status().role === 'leader');
      expect(next?.status().term).toBe(term + 1);
      for (const peer of others) expect(peer.tree.stat('/mine')).toBeUndefined();
    });
  });

  it('lets a follower leave: its sessions close, the ensemble keeps its leader', () => {
    withSeed('follower leave', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect();
      const follower = ensemble.peer([...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string);
      const client = ensemble.client(follower.peerId);
      ok(ensemble.call(client, create('/gone', '', 'ephemeral')));
      let left = false;
      follower.leave(() => {
        left = true;
      });
      expect(ensemble.runUntil(() => left, 30_000, 5)).toBe(true);
      expect(client.states.at(-1)).toBe('closed');
      expect(leader.status().role).toBe('leader');
      expect(ensemble.runUntil(() => leader.tree.stat('/gone') === undefined, 1000)).toBe(true);
      let late: SessionResult | null = null;
      follower.submit(client.sessionId, { op: 'exists', path: '/', watch: false }, (result) => {
        late = result;
      });
      ensemble.run(10);
      expect(late).toMatchObject({ ok: false, code: 'CONNECTIONLOSS' });
    });
  });

  it('catches up a restarted follower from its storage, and a lagging one through a snapshot', () => {
    withSeed('restart and snapshot', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], snapshotEntriesInterval: 20 });
      const leader = ensemble.elect();
      const [first, second] = [...ensemble.peers.keys()].filter((id) => id !== leader.peerId) as [string, string];
      const client = ensemble.client(leader.peerId);
      ok(ensemble.call(client, create('/log')));
      ensemble.crash(first);
      for (let i = 0; i < 60; i++) ok(ensemble.call(client, create(`/log/${i}`)));
      expect(ensemble.stores.get(leader.peerId)?.snapshot?.meta.index).toBeGreaterThan(20);
      ensemble.restart(first); // its log ends before the leader's snapshot: InstallSnapshot
      expect(ensemble.converge()).toBe(true);
      expect(ensemble.peer(first).tree.stat('/log')?.numChildren).toBe(60);
      ensemble.crash(second);
      ensemble.restart(second);
      expect(ensemble.converge()).toBe(true);
      const watcher = ensemble.client(first);
      ok(ensemble.call(watcher, create('/log/after-restart')));
      expect(ensemble.converge()).toBe(true);
    });
  });
});
