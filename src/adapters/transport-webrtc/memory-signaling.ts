/**
 * MemorySignalingHub: Signaling in-process, for tests of the WebRTC mesh (the relay's semantics
 * without sockets). Rooms, `list`/`joined`/`left` events, signal forwarding and relayed bytes.
 *
 * Every delivery goes through one FIFO drained on a later macrotask (setTimeout 0), so handlers
 * never run inside the caller, and everything sent is delivered in the order it was sent (across
 * all peers): given the same calls in the same order, a run delivers the same events in the same
 * order. Signals are copied through JSON (what a relay would do) and relayed bytes are copied.
 *
 * Fault controls for tests: `blockRelayed(true)` drops relayed bytes, `tapRelayed` sees them,
 * `injectRelayed` forges them (a hostile relay), `restartSocket(id)` acts out
 * a relay socket dying and coming back (others see `left` then `joined`, the peer a new `list`),
 * and `stats` counts what passed and what was dropped.
 */

import { assert } from '../../core/assert.js';
import type { PeerId } from '../../core/consensus/index.js';
import { MESSAGE_BYTES_MAX } from '../../core/limits.js';
import type { RoomEvent, Signaling } from '../signaling.js';

/** The largest signal, as JSON: an SDP offer with candidates is 2-10 KiB (relay/constants.ts). */
export const MEMORY_SIGNAL_BYTES_MAX = 64 * 1024;

/** The largest relayed message: one data-channel message, as the relay allows. */
export const MEMORY_RELAYED_BYTES_MAX = MESSAGE_BYTES_MAX;

/** The most deliveries waiting in the hub: far above a test's burst; beyond it a delivery is
 *  dropped and counted, as the relay drops over its caps. */
export const MEMORY_HUB_QUEUE_MAX = 100_000;

export interface MemorySignalingStats {
  signals: number;
  relayed: number;
  dropped: number;
}

type Delivery = () => void;

export class MemorySignalingHub {
  private readonly rooms = new Map<string, Map<PeerId, MemorySignaling>>();
  private readonly queue: Delivery[] = [];
  private scheduled = false;
  private relayedBlocked = false;
  private readonly relayedTaps = new Set<(from: PeerId, to: PeerId, bytes: Uint8Array) => void>();
  readonly stats: MemorySignalingStats = { signals: 0, relayed: 0, dropped: 0 };

  /** A Signaling for `self` in `room` (joins on `start`). */
  connect(self: PeerId, room = 'room'): MemorySignaling {
    return new MemorySignaling(this, self, room);
  }

  /** Drops every relayed message while `blocked` (a relay over its fallback caps). */
  blockRelayed(blocked: boolean): void {
    this.relayedBlocked = blocked;
  }

  /** Calls `listener` with every relayed message sent (before any drop decision). */
  tapRelayed(listener: (from: PeerId, to: PeerId, bytes: Uint8Array) => void): () => void {
    this.relayedTaps.add(listener);
    return () => this.relayedTaps.delete(listener);
  }

  /** Delivers `bytes` to `to` as relayed from `from`, whoever `from` is (a forging relay). */
  injectRelayed(from: PeerId, to: PeerId, bytes: Uint8Array, room = 'room'): void {
    const target = this.rooms.get(room)?.get(to);
    if (target === undefined) return;
    const copy = bytes.slice();
    this.post(() => target.relayed(from, copy));
  }

  /** The peers in `room` now. */
  members(room = 'room'): PeerId[] {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }

  /** Acts out `id`'s relay socket dying and reconnecting: the others see it leave and rejoin, and
   *  it gets a fresh `list`. */
  restartSocket(id: PeerId, room = 'room'): void {
    const member = this.rooms.get(room)?.get(id);
    if (member === undefined) return;
    this.leave(member);
    this.join(member);
  }

  /** @internal */
  join(member: MemorySignaling): void {
    let room = this.rooms.get(member.room);
    if (room === undefined) {
      room = new Map();
      this.rooms.set(member.room, room);
    }
    const replaced = room.get(member.self);
    if (replaced !== undefined && replaced !== member) this.leave(replaced);
    const others = [...room.keys()].filter((id) => id !== member.self);
    room.set(member.self, member);
    for (const id of others) {
      const other = room.get(id);
      if (other !== undefined) this.post(() => other.roomEvent({ type: 'joined', peer: member.self }));
    }
    this.post(() => member.roomEvent({ type: 'list', peers: others }));
  }

  /** @internal */
  leave(member: MemorySignaling): void {
    const room = this.rooms.get(member.room);
    if (room === undefined || room.get(member.self) !== member) return;
    room.delete(member.self);
    if (room.size === 0) this.rooms.delete(member.room);
    for (const other of room.values()) this.post(() => other.roomEvent({ type: 'left', peer: member.self }));
  }

  /** @internal */
  signal(from: MemorySignaling, to: PeerId, data: unknown): void {
    const target = this.rooms.get(from.room)?.get(to);
    const json = JSON.stringify(data);
    if (target === undefined || json === undefined || json.length > MEMORY_SIGNAL_BYTES_MAX) {
      this.stats.dropped += 1;
      return;
    }
    this.stats.signals += 1;
    this.post(() => target.signal(from.self, JSON.parse(json) as unknown));
  }

  /** @internal */
  relayed(from: MemorySignaling, to: PeerId, bytes: Uint8Array): void {
    for (const tap of this.relayedTaps) tap(from.self, to, bytes);
    const target = this.rooms.get(from.room)?.get(to);
    if (target === undefined || this.relayedBlocked || bytes.length > MEMORY_RELAYED_BYTES_MAX) {
      this.stats.dropped += 1;
      return;
    }
    this.stats.relayed += 1;
    const copy = bytes.slice();
    this.post(() => target.relayed(from.self, copy));
  }

  private post(delivery: Delivery): void {
    if (this.queue.length >= MEMORY_HUB_QUEUE_MAX) {
      this.stats.dropped += 1;
      return;
    }
    this.queue.push(delivery);
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    this.scheduled = false;
    // Only what was queued before this flush: deliveries posted by handlers wait for the next.
    const batch = this.queue.splice(0, this.queue.length);
    for (const delivery of batch) delivery();
  }
}

/** One peer's Signaling on a MemorySignalingHub. */
export class MemorySignaling implements Signaling {
  private roomHandler: ((event: RoomEvent) => void) | null = null;
  private signalHandler: ((from: PeerId, data: unknown) => void) | null = null;
  private relayedHandler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  private state: 'new' | 'joined' | 'closed' = 'new';

  constructor(
    private readonly hub: MemorySignalingHub,
    readonly self: PeerId,
    readonly room: string,
  ) {}

  onRoomEvent(handler: (event: RoomEvent) => void): void {
    this.roomHandler = handler;
  }

  onSignal(handler: (from: PeerId, data: unknown) => void): void {
    this.signalHandler = handler;
  }

  onRelayed(handler: (from: PeerId, bytes: Uint8Array) => void): void {
    this.relayedHandler = handler;
  }

  start(): void {
    assert(this.state === 'new', 'MemorySignaling.start: once');
    this.state = 'joined';
    this.hub.join(this);
  }

  sendSignal(to: PeerId, data: unknown): void {
    if (this.state === 'joined') this.hub.signal(this, to, data);
  }

  sendRelayed(to: PeerId, bytes: Uint8Array): void {
    if (this.state === 'joined') this.hub.relayed(this, to, bytes);
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasJoined = this.state === 'joined';
    this.state = 'closed';
    if (wasJoined) this.hub.leave(this);
  }

  /** @internal */
  roomEvent(event: RoomEvent): void {
    if (this.state === 'joined') this.roomHandler?.(event);
  }

  /** @internal */
  signal(from: PeerId, data: unknown): void {
    if (this.state === 'joined') this.signalHandler?.(from, data);
  }

  /** @internal */
  relayed(from: PeerId, bytes: Uint8Array): void {
    if (this.state === 'joined') this.relayedHandler?.(from, bytes);
  }
}
