// The status board: two (or three) boards in one process over a memory network, each wrapping its
// transport as room-peer.ts does, with fake timers driving both the board's publish interval and
// y-protocols' outdated-state check. Checked: every board converges on every peer's state; status
// changes and index movements spread within their intervals; a peer that leaves, closes or goes
// silent is removed; the runtime's bytes pass through unchanged both ways; malformed input of each
// kind is counted and dropped without touching the board or reaching the runtime.
import * as encoding from 'lib0/encoding';
import { outdatedTimeout } from 'y-protocols/awareness';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryNetwork, type MemoryTransport } from '../adapters/transport-memory.js';
import type { PeerId } from '../core/consensus/index.js';
import { RealClock } from '../peer/clock-real.js';
import type { RoomTransport } from '../peer/networked.js';
import type { PeerStatus } from '../peer/peer.js';
import {
  attachStatusBoard,
  BOARD_MESSAGE_BYTES_MAX,
  CHANNEL_BOARD,
  CHANNEL_RUNTIME,
  PUBLISH_INTERVAL_MS,
  STATUS_DEBOUNCE_MS,
  stateProblem,
  type BoardState,
  type PeerStatusBoard,
} from './status-board.js';

type MutableStatus = { -readonly [K in keyof PeerStatus]: PeerStatus[K] };

function status(peerId: PeerId, fields: Partial<MutableStatus> = {}): MutableStatus {
  return {
    peerId,
    role: 'follower',
    term: 1,
    leaderId: 'a',
    commitIndex: 5,
    appliedIndex: 5,
    lastIndex: 5,
    voters: ['a', 'b'],
    observers: [],
    quorum: true,
    votersShareDomain: false,
    sessions: 1,
    removed: false,
    stopped: false,
    counters: {} as PeerStatus['counters'],
    ...fields,
  };
}

interface Node {
  readonly id: PeerId;
  readonly memory: MemoryTransport;
  readonly transport: RoomTransport;
  readonly board: PeerStatusBoard;
  readonly status: MutableStatus;
  readonly runtimeGot: { from: PeerId; bytes: number[] }[];
}

let network: MemoryNetwork;
const nodes: Node[] = [];

function node(id: PeerId, fields: Partial<MutableStatus> = {}, kind: 'tab' | 'edge' = 'tab'): Node {
  const memory = network.connect(id);
  const { transport, board } = attachStatusBoard(
    {
      self: id,
      send: (to, bytes) => memory.send(to, bytes),
      onMessage: (handler) => memory.onMessage(handler),
      whenListed: () => undefined,
      roomPeers: () => network.peers().filter((peer) => peer !== id),
      connectedPeers: () => network.peers().filter((peer) => peer !== id),
      close: () => memory.close(),
    },
    { kind, clock: new RealClock() },
  );
  const runtimeGot: Node['runtimeGot'] = [];
  transport.onMessage((from, bytes) => runtimeGot.push({ from, bytes: [...bytes] }));
  const current = status(id, fields);
  const made: Node = { id, memory, transport, board, status: current, runtimeGot };
  nodes.push(made);
  return made;
}

function start(each: Node): void {
  each.board.start(() => ({ ...each.status }));
}

function row(of: Node, peer: PeerId) {
  return of.board.peers().find((entry) => entry.peerId === peer);
}

function ids(of: Node): PeerId[] {
  return of.board.peers().map((entry) => entry.peerId);
}

/** A board message as a peer would send it: channel byte + one-state awareness update. */
function boardMessage(clientId: number, clock: number, state: unknown, count = 1): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeUint8(encoder, CHANNEL_BOARD);
  encoding.writeVarUint(encoder, count);
  encoding.writeVarUint(encoder, clientId);
  encoding.writeVarUint(encoder, clock);
  encoding.writeVarString(encoder, typeof state === 'string' ? state : JSON.stringify(state));
  return encoding.toUint8Array(encoder);
}

function validState(peerId: PeerId): BoardState {
  return {
    v: 1, peerId, kind: 'edge', role: 'observer', term: 1, leaderId: 'a', commitIndex: 1, appliedIndex: 1, lastIndex: 1,
    lag: 0, sessions: 0, quorum: true, voters: ['a'], observers: 1, heartbeatAgeMs: 10,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  network = new MemoryNetwork();
});

afterEach(() => {
  for (const each of nodes.splice(0)) each.board.close();
  vi.useRealTimers();
});

describe('status board', () => {
  it('two boards converge on both peers, with kinds, self marks and every published field', () => {
    const a = node('a', { role: 'leader', leaderId: 'a', commitIndex: 7, appliedIndex: 6, lastIndex: 8, sessions: 3 });
    const b = node('b', { role: 'follower', leaderId: 'a' }, 'edge');
    start(a);
    start(b);
    expect(ids(a)).toEqual(['a', 'b']);
    expect(ids(b)).toEqual(['a', 'b']);
    expect(row(a, 'a')?.self).toBe(true);
    expect(row(a, 'b')?.self).toBe(false);
    const seen = row(b, 'a');
    expect(seen).toMatchObject({ kind: 'tab', role: 'leader', term: 1, commitIndex: 7, appliedIndex: 6, lastIndex: 8, lag: 1, sessions: 3, quorum: true, voters: ['a', 'b'], observers: 0, heartbeatAgeMs: 0, self: false });
    expect(row(a, 'b')?.kind).toBe('edge');
  });

  it('a status change spreads after the debounce; index movement within one publish interval', () => {
    const a = node('a', { role: 'leader', leaderId: 'a' });
    const b = node('b');
    start(a);
    start(b);
    const changes: number[] = [];
    b.board.onChange(() => changes.push(Date.now()));
    a.status.role = 'follower';
    a.status.term = 2;
    a.status.leaderId = 'b';
    a.board.statusChanged();
    a.board.statusChanged(); // coalesced
    expect(row(b, 'a')?.role).toBe('leader');
    vi.advanceTimersByTime(STATUS_DEBOUNCE_MS);
    expect(row(b, 'a')).toMatchObject({ role: 'follower', term: 2, leaderId: 'b' });
    expect(changes.length).toBe(1);
    a.status.commitIndex = 42;
    a.status.appliedIndex = 40;
    vi.advanceTimersByTime(PUBLISH_INTERVAL_MS);
    expect(row(b, 'a')).toMatchObject({ commitIndex: 42, appliedIndex: 40, lag: 2 });
  });

  it('heartbeat age: the time since the last runtime message from the leader, aged by the receiver', () => {
    const a = node('a', { role: 'leader', leaderId: 'a' });
    const b = node('b', { leaderId: 'a' });
    start(a);
    expect(row(a, 'a')?.heartbeatAgeMs).toBe(0);
    start(b);
    expect(row(b, 'b')?.heartbeatAgeMs).toBeNull(); // never heard from a's runtime
    a.transport.send('b', new Uint8Array([1, 2, 3]));
    vi.advanceTimersByTime(300);
    expect(row(b, 'b')?.heartbeatAgeMs).toBe(300);
    vi.advanceTimersByTime(PUBLISH_INTERVAL_MS - 300); // b publishes at 1000 ms: age 1000
    vi.advanceTimersByTime(200);
    expect(row(a, 'b')?.heartbeatAgeMs).toBe(1200);
    expect(row(a, 'b')?.updatedAgeMs).toBe(200);
  });

  it("the runtime's bytes pass unchanged both ways, each message with one channel byte", () => {
    const a = node('a');
    const b = node('b');
    const wire: number[][] = [];
    network.tap((_from, _to, bytes) => wire.push([...bytes]));
    a.transport.send('b', new Uint8Array([9, 8, 7]));
    b.transport.send('a', new Uint8Array([]));
    expect(b.runtimeGot).toEqual([{ from: 'a', bytes: [9, 8, 7] }]);
    expect(a.runtimeGot).toEqual([{ from: 'b', bytes: [] }]);
    expect(wire).toEqual([[CHANNEL_RUNTIME, 9, 8, 7], [CHANNEL_RUNTIME]]);
    // Board traffic never reaches the runtime.
    start(a);
    start(b);
    vi.advanceTimersByTime(3 * PUBLISH_INTERVAL_MS);
    expect(b.runtimeGot).toHaveLength(1);
    expect(a.runtimeGot).toHaveLength(1);
    expect(a.board.stats().boardReceived).toBeGreaterThanOrEqual(3);
  });

  it('a peer the room reports gone, or that closes, is removed at once', () => {
    const a = node('a');
    const b = node('b');
    const c = node('c');
    for (const each of [a, b, c]) start(each);
    expect(ids(a)).toEqual(['a', 'b', 'c']);
    a.board.peerLeft('b');
    expect(ids(a)).toEqual(['a', 'c']);
    c.board.close();
    expect(ids(a)).toEqual(['a']);
    expect(ids(b)).toEqual(['a', 'b']);
    // b is still in the room and publishing: it comes back on a's board with its next publish.
    vi.advanceTimersByTime(PUBLISH_INTERVAL_MS);
    expect(ids(a)).toEqual(['a', 'b']);
  });

  it("a silent peer's state times out after y-protocols' outdatedTimeout", () => {
    const a = node('a');
    const b = node('b');
    start(a);
    start(b);
    network.block('b', 'a');
    vi.advanceTimersByTime(outdatedTimeout / 2);
    expect(ids(a)).toEqual(['a', 'b']);
    expect(row(a, 'b')?.updatedAgeMs).toBeGreaterThanOrEqual(outdatedTimeout / 2 - PUBLISH_INTERVAL_MS);
    vi.advanceTimersByTime(outdatedTimeout / 2 + outdatedTimeout / 10);
    expect(ids(a)).toEqual(['a']);
    network.unblock('b', 'a');
    vi.advanceTimersByTime(PUBLISH_INTERVAL_MS);
    expect(ids(a)).toEqual(['a', 'b']);
  });

  it('a peer that restarts with a new document replaces its old state', () => {
    const a = node('a');
    const b1 = node('b');
    start(a);
    start(b1);
    b1.board.close(); // closes without being heard (its null is sent, then a new b arrives)
    const b2 = node('b', { term: 9 });
    start(b2);
    expect(ids(a)).toEqual(['a', 'b']);
    expect(row(a, 'b')?.term).toBe(9);
  });

  it('malformed input of every kind is counted and dropped; the board and the runtime never see it', () => {
    const a = node('a');
    const b = node('b');
    start(a);
    start(b);
    const before = a.board.peers();
    const aClient = (a.board as unknown as { awareness: { clientID: number } }).awareness.clientID;
    const bClient = (b.board as unknown as { awareness: { clientID: number } }).awareness.clientID;
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array([])],
      ['unknown-channel', new Uint8Array([7, 1, 2])],
      ['oversize', boardMessage(5, 1, 'x'.repeat(BOARD_MESSAGE_BYTES_MAX))],
      ['undecodable', new Uint8Array([CHANNEL_BOARD, 0xff])],
      ['undecodable', boardMessage(5, 1, validState('b'), 2)],
      ['undecodable', boardMessage(5, 1, '{not json')],
      ['undecodable', new Uint8Array([...boardMessage(5, 1, validState('b')), 0])],
      ['bad-state', boardMessage(5, 1, { ...validState('b'), role: 'king' })],
      ['bad-state', boardMessage(5, 1, { ...validState('b'), term: -1 })],
      ['bad-state', boardMessage(5, 1, { ...validState('b'), v: 2 })],
      ['bad-state', boardMessage(5, 1, { ...validState('b'), voters: ['x'.repeat(65)] })],
      ['bad-state', boardMessage(5, 1, [1, 2])],
      ['not-sender', boardMessage(5, 1, validState('c'))],
      ['client-id', boardMessage(aClient, 99, validState('b'))],
    ];
    for (const [, bytes] of cases) network.inject('b', 'a', bytes);
    // Another peer claiming b's clientID.
    network.inject('c', 'a', boardMessage(bClient, 99, validState('c')));
    const dropped = a.board.stats().dropped;
    const expected: Record<string, number> = {};
    for (const [reason] of cases) expected[reason] = (expected[reason] ?? 0) + 1;
    expected['client-id'] = (expected['client-id'] ?? 0) + 1;
    for (const [reason, count] of Object.entries(dropped)) expect(count, reason).toBe(expected[reason] ?? 0);
    expect(a.board.peers()).toEqual(before);
    expect(a.runtimeGot).toEqual([]);
    expect(stateProblem(validState('b'))).toBeNull();
  });

  it('no more than BOARD_PEERS_MAX remote peers are kept', async () => {
    const { BOARD_PEERS_MAX } = await import('./status-board.js');
    const a = node('a');
    start(a);
    for (let i = 0; i <= BOARD_PEERS_MAX; i++) network.inject(`p${i}`, 'a', boardMessage(1000 + i, 1, validState(`p${i}`)));
    expect(a.board.peers()).toHaveLength(1 + BOARD_PEERS_MAX);
    expect(a.board.stats().dropped.full).toBe(1);
  });
});
