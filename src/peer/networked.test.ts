import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/consensus/index.js';
import { MemoryStorage, MemoryStore } from '../adapters/storage-memory.js';
import { MemoryNetwork, type MemoryTransport } from '../adapters/transport-memory.js';
import { ManualClock } from './clock-manual.js';
import { decideEntry, ENTRY_ANSWER_WAIT_MS, ENTRY_PROBE_INTERVAL_MS, ENTRY_SETTLING_WAIT_MAX_MS, startNetworkedPeer, ROOM_LIST_WAIT_MS, type RoomTransport } from './networked.js';
import type { Peer } from './peer.js';
import { bytes, Ensemble, type Client } from './harness.js';
import { DEPARTURE_CONFIRM_MS, RAFT_TICK_MS, SESSION_TICK_MS } from './constants.js';
import { ELECTION_TIMEOUT_TICKS_DEFAULT } from '../core/limits.js';
import type { SessionRequest } from './serving-api.js';
import { OPEN_ACL_UNSAFE } from '../core/tree/types.js';

/** A room over a memory network: joining lists the peers already in it, as the relay does
 *  (`settlingMs`: as a relay that started lately; `members` may be edited to play a relay restart). */
class MemoryRoom {
  readonly members: PeerId[] = [];
  constructor(readonly network: MemoryNetwork) {}

  join(id: PeerId, options: { listed?: boolean; settlingMs?: number } = {}): RoomTransport {
    const inner: MemoryTransport = this.network.connect(id);
    const listedPeers = this.members.filter((other) => other !== id);
    this.members.push(id);
    const members = this.members;
    return {
      self: id,
      send: (to, bytes) => inner.send(to, bytes),
      onMessage: (handler) => inner.onMessage(handler),
      whenListed: (listener) => {
        if (options.listed !== false) listener(listedPeers, options.settlingMs);
      },
      roomPeers: () => members.filter((other) => other !== id),
      close: () => inner.close(),
    };
  }
}

function start(room: MemoryRoom, clock: ManualClock, id: PeerId, store = new MemoryStore(), listed = true, settlingMs?: number): { peer: Peer | null; error: Error | null } {
  const out: { peer: Peer | null; error: Error | null } = { peer: null, error: null };
  startNetworkedPeer({ transport: room.join(id, { listed, ...(settlingMs === undefined ? {} : { settlingMs }) }), storage: new MemoryStorage(store), clock, seed: id.charCodeAt(0) }, (result) => {
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

// The bootstrap split (docs/architecture.md, "Entering the ensemble"): a relay that restarted lists
// an empty room while the members are still in their reconnect backoff, and says so (`settlingMs`).
describe('a fresh peer and a relay that is settling', () => {
  /** The relay's grace (RELAY_SETTLING_MS, src/relay: the client's 10 s backoff ceiling + 2 s). */
  const SETTLING_MS = 12_000;
  const memoryRoom = (clock: ManualClock): MemoryRoom => new MemoryRoom(new MemoryNetwork({ delivery: (deliver) => void clock.after(1, deliver) }));
  const runUntil = (clock: ManualClock, done: () => boolean, limitMs: number, stepMs = 10): boolean => {
    for (let waited = 0; waited < limitMs && !done(); waited += stepMs) clock.advance(stepMs);
    return done();
  };

  it('an empty but settling list, then a member re-registers: the peer joins that ensemble and never bootstraps', () => {
    const clock = new ManualClock();
    const room = memoryRoom(clock);
    const a = start(room, clock, 'a');
    clock.advance(10);
    const leader = a.peer as Peer;
    expect(leader.status()).toMatchObject({ role: 'leader', voters: ['a'] });
    const termBefore = leader.status().term;
    // The relay restarts: it lists nobody, and `a` (alive, its data channels up) is in its backoff.
    room.members.length = 0;
    const fresh = start(room, clock, 'z', new MemoryStore(), true, SETTLING_MS);
    clock.advance(3_000);
    expect(fresh.peer, 'no decision while the relay settles and the room looks empty').toBeNull();
    room.members.unshift('a'); // `a` re-registers with the relay
    const registered = clock.now();
    expect(runUntil(clock, () => fresh.peer !== null, SETTLING_MS)).toBe(true);
    expect(clock.now() - registered, 'it joins as soon as the member answers, before the grace ends').toBeLessThan(4 * ENTRY_PROBE_INTERVAL_MS);
    const z = fresh.peer as Peer;
    // Two peers: `z` stays an observer (voters are kept odd) of `a`'s ensemble, in `a`'s term.
    expect(runUntil(clock, () => z.status().observers.includes('z') && z.status().leaderId === 'a', 20_000, 100)).toBe(true);
    expect(z.status()).toMatchObject({ leaderId: 'a', term: termBefore, voters: ['a'], observers: ['z'] });
    expect(leader.status()).toMatchObject({ role: 'leader', voters: ['a'], observers: ['z'] });
  });

  it('an empty but settling list and nobody comes: the peer bootstraps once the grace is over, not before', () => {
    const clock = new ManualClock();
    const room = memoryRoom(clock);
    const lone = start(room, clock, 'z', new MemoryStore(), true, SETTLING_MS);
    clock.advance(SETTLING_MS - ENTRY_PROBE_INTERVAL_MS);
    expect(lone.peer).toBeNull();
    expect(lone.error).toBeNull();
    clock.advance(2 * ENTRY_PROBE_INTERVAL_MS + 10);
    expect(lone.peer?.status()).toMatchObject({ role: 'leader', voters: ['z'] });
  });

  it('an empty and complete list: the peer bootstraps at once, as without a relay restart', () => {
    const clock = new ManualClock();
    const room = memoryRoom(clock);
    const lone = start(room, clock, 'z', new MemoryStore(), true, 0);
    expect(lone.peer).not.toBeNull();
    clock.advance(10);
    expect(lone.peer?.status()).toMatchObject({ role: 'leader', voters: ['z'] });
  });

  it('two fresh peers while the relay settles, no old ensemble: the first bootstraps at the end of the grace, the second joins it', () => {
    const clock = new ManualClock();
    const room = memoryRoom(clock);
    const first = start(room, clock, 'p', new MemoryStore(), true, SETTLING_MS);
    clock.advance(1_000);
    // The second finds the first listed and joins through it at once; it answers the first's
    // probes as a fresh peer (term 0, no leader), which is no reason for the first to join it.
    const second = start(room, clock, 'q', new MemoryStore(), true, SETTLING_MS - 1_000);
    expect(second.peer).not.toBeNull();
    clock.advance(SETTLING_MS - 1_000 - 2 * ENTRY_PROBE_INTERVAL_MS);
    expect(first.peer).toBeNull();
    // Every room peer answered: no ENTRY_ANSWER_WAIT_MS on top of the grace.
    expect(runUntil(clock, () => first.peer !== null, 4 * ENTRY_PROBE_INTERVAL_MS)).toBe(true);
    const p = first.peer as Peer;
    const q = second.peer as Peer;
    expect(runUntil(clock, () => q.status().leaderId === 'p' && q.status().observers.includes('q'), 20_000, 100)).toBe(true);
    expect(p.status()).toMatchObject({ role: 'leader', voters: ['p'], observers: ['q'] });
  });

  it('decideEntry: every branch, and a relay cannot make a peer wait past its own bounds', () => {
    const base = { firstListed: [] as PeerId[], settlingMs: SETTLING_MS, elapsedMs: 0, members: 0, unanswered: 0 };
    expect(decideEntry({ ...base, firstListed: ['a'] })).toBe('join');
    expect(decideEntry({ ...base, settlingMs: 0 })).toBe('bootstrap');
    expect(decideEntry(base)).toBe('wait');
    expect(decideEntry({ ...base, members: 1 })).toBe('join');
    expect(decideEntry({ ...base, elapsedMs: SETTLING_MS })).toBe('bootstrap');
    expect(decideEntry({ ...base, elapsedMs: SETTLING_MS, unanswered: 1 })).toBe('wait');
    expect(decideEntry({ ...base, elapsedMs: SETTLING_MS + ENTRY_ANSWER_WAIT_MS, unanswered: 1 })).toBe('bootstrap');
    expect(decideEntry({ ...base, settlingMs: 10 * ENTRY_SETTLING_WAIT_MAX_MS, elapsedMs: ENTRY_SETTLING_WAIT_MAX_MS })).toBe('bootstrap');
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

describe('movable sessions (client-only attachments, issue 6)', () => {
  const ephemeral = (path: string): SessionRequest => ({ op: 'create', path, data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral' });

  it('outlive their serving peer\'s departure until their timeout, while a tab session on it closes at once', () => {
    const ensemble = new Ensemble({ seed: 21, voters: ['a', 'b', 'c'] });
    const leader = ensemble.elect();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader.peerId) as string;
    let movable: string | null = null;
    ensemble.peer(follower).openSession({ timeoutMs: 10_000, listener: { event: () => undefined, state: () => undefined }, movable: true }, (result) => {
      if (result.ok) movable = result.session.sessionId;
    });
    expect(ensemble.runUntil(() => movable !== null)).toBe(true);
    const created: { ok: boolean | null } = { ok: null };
    ensemble.peer(follower).submit(movable as unknown as string, ephemeral('/movable'), (result) => (created.ok = result.ok));
    const tab = ensemble.client(follower, 10_000);
    expect(ensemble.call(tab, ephemeral('/tab')).ok).toBe(true);
    expect(ensemble.runUntil(() => created.ok !== null)).toBe(true);
    expect(created.ok).toBe(true);
    const observer = ensemble.client(leader.peerId);
    const present = (path: string): boolean => {
      const result = ensemble.call(observer, { op: 'exists', path, watch: false });
      return result.ok && result.op === 'exists' && result.stat !== null;
    };

    ensemble.network.isolate(follower);
    for (const id of ['a', 'b', 'c']) if (id !== follower) ensemble.peer(id).roomChanged(follower, false);
    const left = ensemble.clock.now();
    ensemble.run(DEPARTURE_CONFIRM_MS + SESSION_TICK_MS + 1000);
    expect(present('/tab')).toBe(false);
    expect(present('/movable')).toBe(true);
    // Nobody pings it (its client never moved it): it expires after its timeout.
    expect(ensemble.runUntil(() => !present('/movable'), 20_000, 100)).toBe(true);
    expect(ensemble.clock.now() - left).toBeGreaterThan(10_000 - SESSION_TICK_MS);
  });
});

describe('a leader back in the room before its departure is confirmed, unheard since it left (restarted)', () => {
  it('its first successor campaigns at once instead of after an election timeout', () => {
    const ensemble = new Ensemble({ seed: 41, voters: ['a', 'b', 'c'] });
    const leader = ensemble.elect();
    const id = leader.peerId;
    const term = leader.status().term;
    ensemble.crash(id);
    const others = ['a', 'b', 'c'].filter((other) => other !== id);
    for (const other of others) ensemble.peer(other).roomChanged(id, false);
    ensemble.run(50);
    ensemble.restart(id); // adopted by another tab / restarted process, within DEPARTURE_CONFIRM_MS
    for (const other of others) ensemble.peer(other).roomChanged(id, true);
    const at = ensemble.clock.now();
    expect(ensemble.runUntil(() => ensemble.leader() !== undefined && (ensemble.leader() as Peer).status().term > term, 10_000, 1)).toBe(true);
    expect(ensemble.clock.now() - at).toBeLessThan((ELECTION_TIMEOUT_TICKS_DEFAULT * RAFT_TICK_MS) / 5);
    expect(others.some((other) => ensemble.peer(other).status().counters.takeovers === 1)).toBe(true);
  });

  it('a leader that kept talking (a relay blip) is left in office', () => {
    const ensemble = new Ensemble({ seed: 42, voters: ['a', 'b', 'c'] });
    const leader = ensemble.elect();
    const term = leader.status().term;
    const others = ['a', 'b', 'c'].filter((other) => other !== leader.peerId);
    for (const other of others) ensemble.peer(other).roomChanged(leader.peerId, false);
    ensemble.run(RAFT_TICK_MS * 2);
    for (const other of others) ensemble.peer(other).roomChanged(leader.peerId, true);
    ensemble.run(1000);
    expect(ensemble.leader()?.peerId).toBe(leader.peerId);
    expect(leader.status().term).toBe(term);
  });
});
