/**
 * Client-only attachments over the in-memory ensemble (harness.ts): the serving side
 * (remote-clients.ts) on every peer, the client side (client/remote-serving.ts) on a separate
 * memory network carrying the client protocol, all on one ManualClock. It proves issue 6's
 * "client-only attachment": sessions are placed by rendezvous hashing; when their serving peer
 * leaves gracefully, crashes or stops answering, only its sessions move, each keeps its id,
 * ephemerals, auth and watches (ZooKeeper's reconnect + SetWatches), and the leader does not
 * close them for the departure (while it still closes a tab's own session at once).
 */

import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/consensus/index.js';
import { OPEN_ACL_UNSAFE, type WatchEvent } from '../core/tree/types.js';
import { MemoryNetwork, type MemoryTransport } from '../adapters/transport-memory.js';
import { RemoteServing } from '../client/remote-serving.js';
import { rendezvousPick } from '../client/rendezvous.js';
import { DEPARTURE_CONFIRM_MS, SESSION_TICK_MS } from './constants.js';
import { bytes, Ensemble } from './harness.js';
import { encodeClientMessage } from './client-wire.js';
import { RemoteClients } from './remote-clients.js';
import type { SessionRequest, SessionResult, SessionState } from './serving-api.js';

const VOTERS = ['a', 'b', 'c'];
const TIMEOUT_MS = 10_000;

interface Session {
  readonly sessionId: string;
  readonly events: WatchEvent[];
  readonly states: SessionState[];
  readonly log: string[];
}

class World {
  readonly ensemble: Ensemble;
  readonly clients: MemoryNetwork;
  readonly servers = new Map<PeerId, { remote: RemoteClients; transport: MemoryTransport }>();
  private connected: PeerId[] = [...VOTERS];
  readonly serving: RemoteServing;

  constructor(seed: number) {
    this.ensemble = new Ensemble({ seed, voters: VOTERS });
    this.ensemble.elect();
    this.clients = new MemoryNetwork({ delivery: (deliver) => void this.ensemble.clock.after(1, deliver) });
    for (const id of VOTERS) {
      const transport = this.clients.connect(id);
      const remote = new RemoteClients({ serving: this.ensemble.peer(id), send: (to, message) => transport.send(to, message), clock: this.ensemble.clock });
      transport.onMessage((from, message) => remote.receive(from, message));
      this.servers.set(id, { remote, transport });
    }
    const transport = this.clients.connect('client-x');
    this.serving = new RemoteServing(
      { self: 'client-x', send: (to, message) => transport.send(to, message), connectedPeers: () => this.connected, listedPeers: () => this.connected },
      this.ensemble.clock,
    );
    transport.onMessage((from, message) => this.serving.receive(from, message));
    this.serving.peersChanged(this.connected);
  }

  open(): Session {
    const events: WatchEvent[] = [];
    const states: SessionState[] = [];
    const log: string[] = [];
    let sessionId: string | null = null;
    let failed: string | null = null;
    this.serving.openSession(
      {
        timeoutMs: TIMEOUT_MS,
        listener: {
          event: (event) => {
            events.push(event);
            log.push(`event ${event.type} ${event.path}`);
          },
          state: (state) => {
            states.push(state);
            log.push(`state ${state}`);
          },
        },
      },
      (result) => {
        if (result.ok) sessionId = result.session.sessionId;
        else failed = result.code;
      },
    );
    expect(this.ensemble.runUntil(() => sessionId !== null || failed !== null, 30_000)).toBe(true);
    expect(failed).toBeNull();
    return { sessionId: sessionId as unknown as string, events, states, log };
  }

  call(session: Session, request: SessionRequest): SessionResult {
    let answer: SessionResult | null = null;
    this.serving.submit(session.sessionId, request, (result) => {
      answer = result;
      session.log.push(`result ${request.op} ${result.ok ? 'ok' : result.code}`);
    });
    expect(this.ensemble.runUntil(() => answer !== null, 30_000)).toBe(true);
    return answer as unknown as SessionResult;
  }

  servedBy(session: Session): PeerId | null {
    return this.serving.servingPeerOf(session.sessionId);
  }

  /** The client's channel to `id` closes (a crashed peer, or one gone from the room). */
  disconnect(id: PeerId): void {
    this.connected = this.connected.filter((other) => other !== id);
    this.serving.peersChanged(this.connected);
  }

  /** `id` crashes: it stops, its connections drop; the others' rooms report it gone. */
  crash(id: PeerId): void {
    this.servers.get(id)?.remote.close();
    this.servers.get(id)?.transport.close();
    this.ensemble.crash(id);
    for (const other of this.ensemble.peers.keys()) this.ensemble.peer(other).roomChanged(id, false);
  }
}

const ephemeral = (path: string): SessionRequest => ({ op: 'create', path, data: bytes(path), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral' });
const persistent = (path: string): SessionRequest => ({ op: 'create', path, data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' });
const exists = (path: string): SessionRequest => ({ op: 'exists', path, watch: false });

function present(world: World, session: Session, path: string): boolean {
  const result = world.call(session, exists(path));
  return result.ok && result.op === 'exists' && result.stat !== null;
}

describe('a client-only attachment', () => {
  it('opens its session on the rendezvous pick of its client key and gets results and watch events in order', () => {
    const world = new World(61);
    const session = world.open();
    expect(world.servedBy(session)).toBe(rendezvousPick('client-x/1', VOTERS));
    expect(world.call(session, persistent('/w')).ok).toBe(true);
    expect(world.call(session, { op: 'getData', path: '/w', watch: true })).toMatchObject({ ok: true, op: 'getData' });
    world.serving.submit(session.sessionId, { op: 'setData', path: '/w', data: bytes('1'), version: -1 }, (result) => session.log.push(`result setData ${result.ok ? 'ok' : result.code}`));
    expect(world.ensemble.runUntil(() => session.log.includes('result setData ok'))).toBe(true);
    // ZooKeeper's order: the event before the result of the write that caused it.
    expect(session.log.indexOf('event NodeDataChanged /w')).toBeGreaterThanOrEqual(0);
    expect(session.log.indexOf('event NodeDataChanged /w')).toBeLessThan(session.log.indexOf('result setData ok'));
    const owner = world.ensemble.peer(VOTERS[0] as string).tree.stat('/w');
    expect(owner).toBeDefined();
  });

  it('moves only the sessions of a peer that leaves gracefully, each keeping its id, ephemeral, auth and watches', () => {
    const world = new World(62);
    const sessions = Array.from({ length: 9 }, () => world.open());
    const before = new Map(sessions.map((session) => [session.sessionId, world.servedBy(session)]));
    for (const [index, session] of sessions.entries()) {
      expect(world.call(session, ephemeral(`/e${index}`)).ok).toBe(true);
      expect(world.call(session, { op: 'exists', path: `/w${index}`, watch: true })).toMatchObject({ ok: true, stat: null });
    }
    const counts = new Map<PeerId, number>();
    for (const peer of before.values()) counts.set(peer as PeerId, (counts.get(peer as PeerId) ?? 0) + 1);
    const leaving = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] as PeerId;
    expect(counts.get(leaving)).toBeGreaterThan(0);

    let left = false;
    world.servers.get(leaving)?.remote.leaving();
    world.ensemble.peer(leaving).leave(() => {
      left = true;
    });
    expect(world.ensemble.runUntil(() => left, 30_000)).toBe(true);
    world.crash(leaving);
    world.disconnect(leaving);
    world.ensemble.run(DEPARTURE_CONFIRM_MS + 2 * SESSION_TICK_MS);

    const remaining = VOTERS.filter((id) => id !== leaving);
    for (const session of sessions) {
      expect(world.ensemble.runUntil(() => world.servedBy(session) !== null, 30_000)).toBe(true);
      const was = before.get(session.sessionId) as PeerId;
      if (was === leaving) expect(world.servedBy(session)).toBe(rendezvousPick(session.sessionId, remaining));
      else expect(world.servedBy(session)).toBe(was);
    }
    for (const [index, session] of sessions.entries()) {
      expect(present(world, session, `/e${index}`)).toBe(true);
      const stat = world.ensemble.peer(remaining[0] as string).tree.stat(`/e${index}`);
      expect(stat?.ephemeralOwner).toBe(session.sessionId);
      expect(session.states).not.toContain('expired');
    }
    // The watches set before the move fire after it; a write works on the new peer.
    const writer = sessions[0] as Session;
    for (const index of sessions.keys()) expect(world.call(writer, persistent(`/w${index}`)).ok).toBe(true);
    for (const [index, session] of sessions.entries()) {
      expect(world.ensemble.runUntil(() => session.events.some((event) => event.path === `/w${index}` && event.type === 'NodeCreated'))).toBe(true);
    }
    const moved = sessions.filter((session) => before.get(session.sessionId) === leaving);
    for (const session of moved) expect(session.states).toEqual(['disconnected', 'connected']);
    expect(world.serving.stats().moves).toBe(moved.length);
  });

  it('survives a crashed serving peer: the leader keeps the movable session, closes a tab session at once, and a change made while moving fires', () => {
    const world = new World(63);
    const sessions = Array.from({ length: 6 }, () => world.open());
    const leader = world.ensemble.leader()?.peerId as PeerId;
    const victim = sessions.find((session) => world.servedBy(session) !== leader) as Session;
    expect(victim).toBeDefined();
    const served = world.servedBy(victim) as PeerId;
    expect(world.call(victim, ephemeral('/held')).ok).toBe(true);
    expect(world.call(victim, persistent('/data')).ok).toBe(true);
    expect(world.call(victim, { op: 'getData', path: '/data', watch: true }).ok).toBe(true);
    // A tab's own session on the same peer (not movable).
    const tab = world.ensemble.client(served, TIMEOUT_MS);
    expect(world.ensemble.call(tab, ephemeral('/tab')).ok).toBe(true);
    const observer = sessions.find((session) => world.servedBy(session) === leader) ?? world.open();

    world.crash(served);
    // While the client does not know yet, another session changes the watched node.
    const other = sessions.find((session) => world.servedBy(session) !== served && session !== victim) as Session;
    expect(world.call(other, { op: 'setData', path: '/data', data: bytes('x'), version: -1 }).ok).toBe(true);
    world.ensemble.run(DEPARTURE_CONFIRM_MS + 2 * SESSION_TICK_MS);
    expect(present(world, observer, '/tab')).toBe(false); // the tab's session closed at once
    expect(present(world, observer, '/held')).toBe(true); // the movable one did not

    world.disconnect(served);
    expect(world.ensemble.runUntil(() => world.servedBy(victim) !== null, 30_000)).toBe(true);
    expect(world.servedBy(victim)).toBe(rendezvousPick(victim.sessionId, VOTERS.filter((id) => id !== served)));
    expect(victim.events).toContainEqual(expect.objectContaining({ type: 'NodeDataChanged', path: '/data' }));
    expect(world.call(victim, { op: 'setData', path: '/held', data: bytes('moved'), version: -1 }).ok).toBe(true);
    world.ensemble.run(3 * TIMEOUT_MS);
    expect(present(world, observer, '/held')).toBe(true); // pinged by its new peer: alive
  });

  it('expires the session of a client that went silent, after its timeout', () => {
    const world = new World(64);
    const session = world.open();
    const observerWorld = world.ensemble.client(world.ensemble.leader()?.peerId as PeerId, TIMEOUT_MS);
    expect(world.call(session, ephemeral('/gone')).ok).toBe(true);
    world.serving.close(); // stops pinging, as a frozen process
    const stoppedAt = world.ensemble.clock.now();
    const gone = (): boolean => {
      const result = world.ensemble.call(observerWorld, exists('/gone'));
      return result.ok && result.op === 'exists' && result.stat === null;
    };
    expect(world.ensemble.runUntil(gone, 60_000, 100)).toBe(true);
    const elapsed = world.ensemble.clock.now() - stoppedAt;
    expect(elapsed).toBeGreaterThan(TIMEOUT_MS);
    expect(elapsed).toBeLessThan(2 * TIMEOUT_MS + 2 * SESSION_TICK_MS);
  });

  it('refuses a session it does not serve for that client, and counts malformed client messages', () => {
    const world = new World(65);
    const session = world.open();
    const served = world.servedBy(session) as PeerId;
    const other = VOTERS.find((id) => id !== served) as PeerId;
    const server = world.servers.get(other)?.remote as RemoteClients;
    const unknownBefore = world.serving.stats().dropped.unknown;
    server.receive('client-x', encodeClientMessage({ kind: 'request', sessionId: session.sessionId, xid: 7, request: exists('/') }));
    world.ensemble.run(100);
    // Answered CONNECTIONLOSS, which the client ignores: it is not its serving peer.
    expect(server.stats().sent).toBeGreaterThan(0);
    expect(world.serving.stats().dropped.unknown).toBe(unknownBefore + 1);
    expect(world.servedBy(session)).toBe(served);
    server.receive('client-y', new Uint8Array([1, 99]));
    server.receive('client-y', new Uint8Array([]));
    expect(server.stats().dropped.malformed).toBe(2);
    expect(server.stats().dropped.oversize).toBe(0);
  });
});
