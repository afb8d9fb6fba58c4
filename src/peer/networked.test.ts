import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/consensus/index.js';
import { MemoryStorage, MemoryStore } from '../adapters/storage-memory.js';
import { MemoryNetwork, type MemoryTransport } from '../adapters/transport-memory.js';
import { ManualClock } from './clock-manual.js';
import { startNetworkedPeer, ROOM_LIST_WAIT_MS, type RoomTransport } from './networked.js';
import type { Peer } from './peer.js';
import { bytes, Ensemble, type Client } from './harness.js';
import { DEPARTURE_CONFIRM_MS, RAFT_TICK_MS, SESSION_TICK_MS } from './constants.js';
import { ELECTION_TIMEOUT_TICKS_DEFAULT } from '../core/limits.js';
import type { SessionRequest } from './serving-api.js';
import { OPEN_ACL_UNSAFE } from '../core/tree/types.js';

/** A room over a memory network: joining lists the peers already in it, as the relay does. */
class MemoryRoom {
  readonly members: PeerId[] = [];
  constructor(readonly network: MemoryNetwork) {}

  join(id: PeerId, options: { listed?: boolean } = {}): RoomTransport {
    const inner: MemoryTransport = this.network.connect(id);
    const listedPeers = this.members.filter((other) => other !== id);
    this.members.push(id);
    const members = this.members;
    return {
      self: id,
      send: (to, bytes) => inner.send(to, bytes),
      onMessage: (handler) => inner.onMessage(handler),
      whenListed: (listener) => {
        if (options.listed !== false) listener(listedPeers);
      },
      roomPeers: () => members.filter((other) => other !== id),
      close: () => inner.close(),
    };
  }
}

function start(room: MemoryRoom, clock: ManualClock, id: PeerId, store = new MemoryStore(), listed = true): { peer: Peer | null; error: Error | null } {
  const out: { peer: Peer | null; error: Error | null } = { peer: null, error: null };
  startNetworkedPeer({ transport: room.join(id, { listed }), storage: new MemoryStorage(store), clock, seed: id.charCodeAt(0) }, (result) => {
    if (result.ok) out.peer = result.peer;
    else out.error = result.error;
  });
  return out;
}

describe('a networked peer entering its ensemble', () => {
  it('the first peer of an empty room leads a one-voter ensemble; later peers join and are promoted to 3 voters', () => {
    const clock = new ManualClock();
    const room = new MemoryRoom(new MemoryNetwork({ delivery: (deliver) => void clock.after(1, deliver) }));
    const a = start(room, clock, 'a');
    clock.advance(10);
    expect(a.peer?.status()).toMatchObject({ role: 'leader', voters: ['a'] });
    const b = start(room, clock, 'b');
    const c = start(room, clock, 'c');
    const d = start(room, clock, 'd');
    for (let i = 0; i < 200 && (a.peer?.status().voters.length ?? 0) < 3; i++) clock.advance(100);
    expect(a.peer?.status().voters).toHaveLength(3);
    expect(a.peer?.status().role).toBe('leader');
    for (const joined of [b, c, d]) expect(joined.peer?.status().leaderId).toBe('a');
    // Three voters is the target: the fourth stays an observer.
    expect(a.peer?.status().observers).toHaveLength(1);
  });

  it('a voter that left the room is replaced by an observer at once, not after VOTER_UNREACHABLE_MS', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ delivery: (deliver) => void clock.after(1, deliver) });
    const room = new MemoryRoom(network);
    const peers = ['a', 'b', 'c', 'd'].map((id) => start(room, clock, id));
    const leader = peers[0]?.peer as Peer;
    for (let i = 0; i < 200 && leader.status().voters.length < 3; i++) clock.advance(100);
    expect(leader.status().voters).toEqual(['a', 'b', 'c']);
    expect(leader.status().observers).toEqual(['d']);
    // b's tab closes: its transport goes and the room reports it gone.
    network.disconnect('b');
    for (const entry of peers) entry.peer?.roomChanged('b', false);
    const left = clock.now();
    for (let i = 0; i < 100 && !leader.status().voters.includes('d'); i++) clock.advance(100);
    expect(leader.status().voters).toEqual(['a', 'c', 'd']);
    // Well within one session timeout, let alone VOTER_UNREACHABLE_MS (30 s).
    expect(clock.now() - left).toBeLessThan(5000);
    // Demoted, then removed as a departed learner: the configuration forgets the closed tab.
    for (let i = 0; i < 100 && leader.status().observers.length > 0; i++) clock.advance(100);
    expect(leader.status().observers).toEqual([]);
    expect(clock.now() - left).toBeLessThan(10_000);
  });

  it('when the leader leaves the room, the first remaining voter takes over at once, not after an election timeout', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ delivery: (deliver) => void clock.after(1, deliver) });
    const room = new MemoryRoom(network);
    const peers = ['a', 'b', 'c'].map((id) => start(room, clock, id).peer as Peer);
    const [a, b, c] = peers as [Peer, Peer, Peer];
    for (let i = 0; i < 200 && a.status().voters.length < 3; i++) clock.advance(100);
    for (let i = 0; i < 20; i++) clock.advance(100);
    expect(b.status().leaderId).toBe('a');
    network.disconnect('a');
    b.roomChanged('a', false);
    c.roomChanged('a', false);
    const left = clock.now();
    for (let i = 0; i < 100 && b.status().role !== 'leader'; i++) clock.advance(10);
    // b (first by id) campaigned at once; the election timeout is 2.5-5 s.
    expect(b.status().role).toBe('leader');
    expect(c.status().leaderId).toBe('b');
    expect(clock.now() - left).toBeLessThan(DEPARTURE_CONFIRM_MS + 500);
    expect(b.status().counters.takeovers).toBe(1);
    expect(c.status().counters.takeovers).toBe(0);
  });

  it('a peer whose storage holds a replica resumes it instead of bootstrapping or joining', () => {
    const clock = new ManualClock();
    const room = new MemoryRoom(new MemoryNetwork({ delivery: (deliver) => void clock.after(1, deliver) }));
    const store = new MemoryStore();
    const first = start(room, clock, 'a', store);
    clock.advance(10);
    const term = first.peer?.status().term ?? 0;
    first.peer?.stop();
    // Restarted into a room that lists nobody: it must not need the list at all.
    const again = start(new MemoryRoom(new MemoryNetwork({ delivery: (deliver) => void clock.after(1, deliver) })), clock, 'a', store, false);
    clock.advance(2000);
    expect(again.peer?.status()).toMatchObject({ role: 'leader', voters: ['a'] });
    expect(again.peer?.status().term).toBeGreaterThan(term);
  });

  it('a fresh peer that never hears the room list fails with a clear error', () => {
    const clock = new ManualClock();
    const room = new MemoryRoom(new MemoryNetwork());
    const lost = start(room, clock, 'z', new MemoryStore(), false);
    clock.advance(ROOM_LIST_WAIT_MS + 1);
    expect(lost.peer).toBeNull();
    expect(lost.error?.message).toMatch(/no room list/);
  });
});

describe('departures reported by the room', () => {
  const ephemeral = (path: string): SessionRequest => ({ op: 'create', path, data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral' });

  it('close the sessions a departed peer served at once, not after their timeout', () => {
    const ensemble = new Ensemble({ seed: 11, voters: ['a', 'b', 'c'] });
    const leader = ensemble.elect();
    const follower = (['a', 'b', 'c'].find((id) => id !== leader.peerId) as string);
    const client = ensemble.client(follower, 10_000);
    expect(ensemble.call(client, ephemeral('/held')).ok).toBe(true);
    const observer = ensemble.client(leader.peerId);
    ensemble.network.isolate(follower);
    for (const id of ['a', 'b', 'c']) if (id !== follower) ensemble.peer(id).roomChanged(follower, false);
    const left = ensemble.clock.now();
    const gone = (): boolean => {
      const result = ensemble.call(observer, { op: 'exists', path: '/held', watch: false });
      return result.ok && result.op === 'exists' && result.stat === null;
    };
    expect(ensemble.runUntil(gone, 10_000, 100)).toBe(true);
    // The departure is confirmed after DEPARTURE_CONFIRM_MS, the next session tick expires it.
    expect(ensemble.clock.now() - left).toBeLessThan(DEPARTURE_CONFIRM_MS + SESSION_TICK_MS + 1000);
    expect(leader.status().counters.departures).toBe(1);
  });

  it('ignore a departure notice for a peer that is still heard from (a relay blip)', () => {
    const ensemble = new Ensemble({ seed: 12, voters: ['a', 'b', 'c'] });
    const leader = ensemble.elect();
    const follower = (['a', 'b', 'c'].find((id) => id !== leader.peerId) as string);
    const client = ensemble.client(follower, 10_000);
    expect(ensemble.call(client, ephemeral('/kept')).ok).toBe(true);
    leader.roomChanged(follower, false);
    ensemble.run(5000);
    expect(leader.status().counters.departures).toBe(0);
    expect(leader.status().voters).toContain(follower);
    expect(ensemble.call(client, { op: 'exists', path: '/kept', watch: false })).toMatchObject({ ok: true, op: 'exists', stat: expect.anything() });
  });
});

describe('leaving at once (Peer.leaveNow, a closing tab)', () => {
  const ephemeral = (path: string): SessionRequest => ({ op: 'create', path, data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral' });
  const absent = (ensemble: Ensemble, client: Client, path: string): boolean => {
    const result = ensemble.call(client, { op: 'exists', path, watch: false });
    return result.ok && result.op === 'exists' && result.stat === null;
  };
  /** The shortest election timeout: a handoff faster than this did not wait for one. */
  const ELECTION_TIMEOUT_MIN_MS = ELECTION_TIMEOUT_TICKS_DEFAULT * RAFT_TICK_MS;

  it('a leader hands leadership on with TimeoutNow at term + 1, even mid-persist, and its ephemerals go at once', () => {
    // Storage takes 5 ms a batch: the leader's replica is busy persisting when the tab closes, so
    // a transfer queued in the replica (or sent after persisting) would never leave.
    const ensemble = new Ensemble({ seed: 21, voters: ['a', 'b', 'c'], storageDelayMs: 5 });
    const leader = ensemble.elect();
    const others = ['a', 'b', 'c'].filter((id) => id !== leader.peerId);
    const held = ensemble.client(leader.peerId, 20_000);
    expect(ensemble.call(held, ephemeral('/held-by-leader')).ok).toBe(true);
    const watcher = ensemble.client(others[0] as string);
    expect(absent(ensemble, watcher, '/held-by-leader')).toBe(false);
    const term = leader.status().term;
    ensemble.submit(held, { op: 'create', path: '/in-flight', data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' });
    const closed = ensemble.clock.now();
    leader.leaveNow();
    expect(leader.status().stopped).toBe(true);
    expect(leader.status().counters.transfersOnLeave).toBe(1);
    ensemble.peers.delete(leader.peerId);
    const successor = (): Peer | undefined => ensemble.leader();
    expect(ensemble.runUntil(() => successor() !== undefined && others.every((id) => ensemble.peer(id).status().leaderId === successor()?.peerId), 10_000, 1)).toBe(true);
    const handoffMs = ensemble.clock.now() - closed;
    const next = successor() as Peer;
    expect(next.status().term).toBe(term + 1);
    expect(handoffMs).toBeLessThan(ELECTION_TIMEOUT_MIN_MS / 10);
    expect(next.status().counters).toMatchObject({ takeovers: 0, leaveNotices: 1 });
    expect(ensemble.runUntil(() => absent(ensemble, watcher, '/held-by-leader'), 10_000, 1)).toBe(true);
    // The ephemeral went within a few commit rounds, not after a session timeout or a tick.
    expect(ensemble.clock.now() - closed).toBeLessThan(DEPARTURE_CONFIRM_MS);
    expect(ensemble.call(watcher, { op: 'create', path: '/after', data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' }).ok).toBe(true);
  });

  it('a follower: the leader closes its sessions at once, without waiting for the room or a session tick', () => {
    const ensemble = new Ensemble({ seed: 22, voters: ['a', 'b', 'c'] });
    const leader = ensemble.elect();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader.peerId) as string;
    const held = ensemble.client(follower, 20_000);
    expect(ensemble.call(held, ephemeral('/held-by-follower')).ok).toBe(true);
    const watcher = ensemble.client(leader.peerId);
    const closed = ensemble.clock.now();
    ensemble.peer(follower).leaveNow();
    ensemble.peers.delete(follower);
    expect(ensemble.runUntil(() => absent(ensemble, watcher, '/held-by-follower'), 10_000, 1)).toBe(true);
    expect(ensemble.clock.now() - closed).toBeLessThan(DEPARTURE_CONFIRM_MS);
    expect(leader.status().role).toBe('leader');
    expect(leader.status().counters).toMatchObject({ leaveNotices: 1, departures: 1 });
  });

  it('a lone leader just stops; leaveNow twice, or after stop, does nothing more', () => {
    const ensemble = new Ensemble({ seed: 23, voters: ['a'] });
    const leader = ensemble.elect();
    leader.leaveNow();
    leader.leaveNow();
    expect(leader.status()).toMatchObject({ stopped: true });
    expect(leader.status().counters.transfersOnLeave).toBe(0);
  });

  it('a leave() in progress completes when leaveNow cuts it short', () => {
    const ensemble = new Ensemble({ seed: 24, voters: ['a', 'b', 'c'], storageDelayMs: 5 });
    const leader = ensemble.elect();
    ensemble.client(leader.peerId);
    let done = 0;
    leader.leave(() => done++);
    leader.leaveNow();
    ensemble.run(10);
    expect(done).toBe(1);
  });
});

describe('identities that return (browser slots: Peer.suspend / suspendNow) and orphaned sessions', () => {
  const ephemeral = (path: string): SessionRequest => ({ op: 'create', path, data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral' });
  const absent = (ensemble: Ensemble, client: Client, path: string): boolean => {
    const result = ensemble.call(client, { op: 'exists', path, watch: false });
    return result.ok && result.op === 'exists' && result.stat === null;
  };
  const ids = ['a', 'b', 'c'];

  it('a suspended follower keeps its vote through the room reporting it gone; its sessions close at once; resumed, it serves again', () => {
    const ensemble = new Ensemble({ seed: 31, voters: ids });
    const leader = ensemble.elect();
    const follower = ids.find((id) => id !== leader.peerId) as string;
    const held = ensemble.client(follower, 20_000);
    expect(ensemble.call(held, ephemeral('/held-by-slot')).ok).toBe(true);
    const watcher = ensemble.client(leader.peerId);
    const closed = ensemble.clock.now();
    ensemble.peer(follower).suspendNow();
    for (const id of ids) if (id !== follower) ensemble.peer(id).roomChanged(follower, false);
    expect(ensemble.runUntil(() => absent(ensemble, watcher, '/held-by-slot'), 10_000, 1)).toBe(true);
    expect(ensemble.clock.now() - closed).toBeLessThan(DEPARTURE_CONFIRM_MS);
    ensemble.crash(follower); // its page is gone (the notice was delivered before)
    // Well past the departure confirmation: still a voter (a plain leave would have been demoted).
    ensemble.run(5 * DEPARTURE_CONFIRM_MS);
    expect(leader.status().voters).toContain(follower);
    expect(leader.status().counters).toMatchObject({ leaveNotices: 1, departures: 0 });
    // Another tab adopts the slot: the same identity resumes from its store and serves.
    const resumed = ensemble.restart(follower);
    for (const id of ids) if (id !== follower) ensemble.peer(id).roomChanged(follower, true);
    const again = ensemble.client(follower, 20_000);
    expect(ensemble.call(again, ephemeral('/held-again')).ok).toBe(true);
    ensemble.run(3 * SESSION_TICK_MS);
    // Its new session is not taken for one of the ended incarnation.
    expect(absent(ensemble, watcher, '/held-again')).toBe(false);
    expect(resumed.status().voters).toEqual([...ids].sort());
  });

  it('a suspended leader hands leadership on at term + 1 and stays a voter', () => {
    const ensemble = new Ensemble({ seed: 32, voters: ids });
    const leader = ensemble.elect();
    const id = leader.peerId;
    const term = leader.status().term;
    leader.suspendNow();
    ensemble.run(20);
    ensemble.crash(id);
    for (const other of ids) if (other !== id) ensemble.peer(other).roomChanged(id, false);
    expect(ensemble.runUntil(() => ensemble.leader() !== undefined, 10_000, 1)).toBe(true);
    const next = ensemble.leader() as Peer;
    expect(next.status().term).toBe(term + 1);
    ensemble.run(5 * DEPARTURE_CONFIRM_MS);
    expect(next.status().voters).toContain(id);
    expect(next.status().counters.departures).toBe(0);
  });

  it('suspend() (graceful) transfers leadership, then says it returns; nobody demotes it', () => {
    const ensemble = new Ensemble({ seed: 33, voters: ids });
    const leader = ensemble.elect();
    const id = leader.peerId;
    let done = false;
    leader.suspend(() => {
      done = true;
    });
    expect(ensemble.runUntil(() => done, 20_000, 1)).toBe(true);
    ensemble.run(20);
    ensemble.crash(id);
    for (const other of ids) if (other !== id) ensemble.peer(other).roomChanged(id, false);
    ensemble.run(5 * DEPARTURE_CONFIRM_MS);
    const next = ensemble.leader() as Peer;
    expect(next.peerId).not.toBe(id);
    expect(next.status().voters).toContain(id);
    expect(next.status().counters).toMatchObject({ departures: 0, leaveNotices: 1 });
  });

  it('a peer restarted from its store closes the sessions of its earlier life at once, not after their timeout', () => {
    const ensemble = new Ensemble({ seed: 34, voters: ids });
    const leader = ensemble.elect();
    const follower = ids.find((id) => id !== leader.peerId) as string;
    const held = ensemble.client(follower, 20_000);
    expect(ensemble.call(held, ephemeral('/held-before-crash')).ok).toBe(true);
    const watcher = ensemble.client(leader.peerId);
    ensemble.crash(follower); // no notice, and the room never says it left
    const restarted = ensemble.restart(follower);
    const at = ensemble.clock.now();
    expect(ensemble.runUntil(() => absent(ensemble, watcher, '/held-before-crash'), 20_000, 1)).toBe(true);
    expect(ensemble.clock.now() - at).toBeLessThan(SESSION_TICK_MS);
    expect(restarted.status().counters.orphansClosed).toBe(1);
  });

  it('a restarted leader closes its own earlier sessions in its session tick', () => {
    const ensemble = new Ensemble({ seed: 35, voters: ['a'] });
    const leader = ensemble.elect();
    const held = ensemble.client(leader.peerId, 20_000);
    expect(ensemble.call(held, ephemeral('/held-by-lone-leader')).ok).toBe(true);
    ensemble.crash('a');
    ensemble.restart('a');
    const again = ensemble.client('a', 20_000);
    const at = ensemble.clock.now();
    expect(ensemble.runUntil(() => absent(ensemble, again, '/held-by-lone-leader'), 20_000, 10)).toBe(true);
    expect(ensemble.clock.now() - at).toBeLessThanOrEqual(SESSION_TICK_MS + 100);
  });
});
