/**
 * An in-process network of Transports, for tests and the simulator: peers connect to one
 * MemoryNetwork and exchange bytes.
 *
 * Delivery is ordered per (sender, receiver) pair while a connection lasts, and either
 *   - 'sync' (the default): delivered inside `send`. A send made while a message is being delivered
 *     queues behind it and the outermost `send` drains the queue (a trampoline), so no handler is
 *     re-entered and every pair stays in order; or
 *   - deferred: each message is handed to an injected scheduler (e.g. `run => clock.after(1, run)`)
 *     that calls it back later; whatever order the scheduler runs callbacks in, each callback
 *     delivers the oldest undelivered message of its pair, so per-pair order holds.
 *
 * Fault controls: `partition(groups)` (peers in different groups cannot reach each other),
 * `block(from, to)` (one direction), `disconnect(id)` (the peer's connections drop: messages in
 * flight to and from it are lost, as they are when a data channel closes), and `heal()`. A message
 * is checked when sent and again when delivered. `inject` delivers raw bytes as if a peer had
 * sent them (for malformed-input tests). Bytes are copied on send, so nobody shares buffers.
 * A message over `messageBytesMax` (default WIRE_MESSAGE_BYTES_MAX, as the WebRTC mesh) is
 * refused and counted as dropped, so the runtime meets the same limit on every transport.
 */

import { assert } from '../core/assert.js';
import type { PeerId } from '../core/consensus/index.js';
import { WIRE_MESSAGE_BYTES_MAX } from '../peer/constants.js';
import type { Transport } from '../peer/interfaces.js';

export type MemoryDelivery = 'sync' | ((deliver: () => void) => void);

export interface MemoryNetworkOptions {
  readonly delivery?: MemoryDelivery;
  /** The largest message sent (default WIRE_MESSAGE_BYTES_MAX); larger ones are dropped. */
  readonly messageBytesMax?: number;
}

interface InFlight {
  readonly from: PeerId;
  readonly to: PeerId;
  readonly bytes: Uint8Array;
  /** The connection epochs of both ends when sent: a reconnect in between loses the message. */
  readonly fromEpoch: number;
  readonly toEpoch: number;
  /** Injected by a test: delivered whatever the sender's state. */
  readonly forged: boolean;
}

export interface MemoryNetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
}

/** One peer's end of the network. */
export class MemoryTransport implements Transport {
  private handler: ((from: PeerId, bytes: Uint8Array) => void) | null = null;
  /** Bumped on every disconnect: in-flight messages of the old connection are lost. */
  epoch = 0;
  connected = true;

  constructor(
    private readonly network: MemoryNetwork,
    readonly self: PeerId,
  ) {}

  send(to: PeerId, bytes: Uint8Array): void {
    this.network.send(this.self, to, bytes);
  }

  onMessage(handler: (from: PeerId, bytes: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** Stops receiving (the handler is dropped); the id may connect again with a new transport. */
  close(): void {
    this.handler = null;
    this.network.detach(this);
  }

  /** @internal */
  receive(from: PeerId, bytes: Uint8Array): boolean {
    if (this.handler === null) return false;
    this.handler(from, bytes);
    return true;
  }
}

function pairKey(from: PeerId, to: PeerId): string {
  return `${from}\u0000${to}`;
}

export class MemoryNetwork {
  private readonly endpoints = new Map<PeerId, MemoryTransport>();
  private readonly blocked = new Set<string>();
  private groupOf: Map<PeerId, number> | null = null;
  private readonly delivery: MemoryDelivery;
  private readonly messageBytesMax: number;
  /** 'sync' mode: one FIFO drained by the outermost send. */
  private readonly syncQueue: InFlight[] = [];
  private draining = false;
  /** Deferred mode: per-pair FIFOs; each scheduled callback delivers its pair's oldest message. */
  private readonly pairs = new Map<string, InFlight[]>();
  private readonly taps = new Set<(from: PeerId, to: PeerId, bytes: Uint8Array) => void>();
  readonly stats: MemoryNetworkStats = { sent: 0, delivered: 0, dropped: 0 };

  constructor(options: MemoryNetworkOptions = {}) {
    this.delivery = options.delivery ?? 'sync';
    this.messageBytesMax = options.messageBytesMax ?? WIRE_MESSAGE_BYTES_MAX;
  }

  /** A transport for `id` (replacing any earlier one: a restarted peer). */
  connect(id: PeerId): MemoryTransport {
    const previous = this.endpoints.get(id);
    const transport = new MemoryTransport(this, id);
    if (previous !== undefined) transport.epoch = previous.epoch + 1;
    this.endpoints.set(id, transport);
    return transport;
  }

  /** @internal */
  detach(transport: MemoryTransport): void {
    if (this.endpoints.get(transport.self) === transport) transport.epoch += 1;
  }

  peers(): PeerId[] {
    return [...this.endpoints.keys()];
  }

  /** Calls `listener` for every message sent (before any drop decision). */
  tap(listener: (from: PeerId, to: PeerId, bytes: Uint8Array) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** The peer's connections drop: messages in flight to or from it are lost, and nothing reaches
   *  it or leaves it until `reconnect`. */
  disconnect(id: PeerId): void {
    const endpoint = this.endpoints.get(id);
    if (endpoint === undefined) return;
    endpoint.connected = false;
    endpoint.epoch += 1;
  }

  reconnect(id: PeerId): void {
    const endpoint = this.endpoints.get(id);
    if (endpoint !== undefined) endpoint.connected = true;
  }

  /** Peers in different groups cannot reach each other; peers in no group form one more group. */
  partition(...groups: readonly (readonly PeerId[])[]): void {
    const groupOf = new Map<PeerId, number>();
    groups.forEach((group, index) => {
      for (const id of group) {
        assert(!groupOf.has(id), `partition: ${id} is in one group only`);
        groupOf.set(id, index);
      }
    });
    this.groupOf = groupOf;
  }

  /** Cuts one peer off from every other. */
  isolate(id: PeerId): void {
    this.partition([id]);
  }

  /** Messages from `from` to `to` are dropped (one direction). */
  block(from: PeerId, to: PeerId): void {
    this.blocked.add(pairKey(from, to));
  }

  unblock(from: PeerId, to: PeerId): void {
    this.blocked.delete(pairKey(from, to));
  }

  /** Ends every partition and block, and reconnects every peer. */
  heal(): void {
    this.groupOf = null;
    this.blocked.clear();
    for (const endpoint of this.endpoints.values()) endpoint.connected = true;
  }

  /** True if a message from `from` to `to` would be delivered now. */
  canReach(from: PeerId, to: PeerId): boolean {
    const source = this.endpoints.get(from);
    const target = this.endpoints.get(to);
    if (source === undefined || target === undefined || !source.connected || !target.connected) return false;
    if (this.blocked.has(pairKey(from, to))) return false;
    if (this.groupOf === null) return true;
    return (this.groupOf.get(from) ?? -1) === (this.groupOf.get(to) ?? -1);
  }

  /** @internal Called by MemoryTransport.send. */
  send(from: PeerId, to: PeerId, bytes: Uint8Array): void {
    this.stats.sent += 1;
    for (const tap of this.taps) tap(from, to, bytes);
    if (bytes.length > this.messageBytesMax) {
      this.stats.dropped += 1;
      return;
    }
    this.enqueue(from, to, bytes.slice());
  }

  /** Delivers `bytes` to `to` as if `from` had sent them (bypassing `from`'s transport). */
  inject(from: PeerId, to: PeerId, bytes: Uint8Array): void {
    this.enqueue(from, to, bytes.slice(), true);
  }

  private enqueue(from: PeerId, to: PeerId, bytes: Uint8Array, forged = false): void {
    if (!forged && !this.canReach(from, to)) {
      this.stats.dropped += 1;
      return;
    }
    const message: InFlight = {
      from,
      to,
      bytes,
      fromEpoch: this.endpoints.get(from)?.epoch ?? 0,
      toEpoch: this.endpoints.get(to)?.epoch ?? 0,
      forged,
    };
    const delivery = this.delivery;
    if (delivery === 'sync') {
      this.syncQueue.push(message);
      if (this.draining) return;
      this.draining = true;
      try {
        for (let next = this.syncQueue.shift(); next !== undefined; next = this.syncQueue.shift()) this.deliver(next);
      } finally {
        this.draining = false;
      }
      return;
    }
    const key = pairKey(from, to);
    let queue = this.pairs.get(key);
    if (queue === undefined) {
      queue = [];
      this.pairs.set(key, queue);
    }
    queue.push(message);
    delivery(() => {
      const pending = this.pairs.get(key);
      const next = pending?.shift();
      if (pending !== undefined && pending.length === 0) this.pairs.delete(key);
      if (next !== undefined) this.deliver(next);
    });
  }

  private deliver(message: InFlight): void {
    const forged = message.forged;
    const source = this.endpoints.get(message.from);
    const target = this.endpoints.get(message.to);
    const stale = target === undefined || target.epoch !== message.toEpoch || (!forged && (source === undefined || source.epoch !== message.fromEpoch));
    if (stale || (!forged && !this.canReach(message.from, message.to))) {
      this.stats.dropped += 1;
      return;
    }
    if (target.receive(message.from, message.bytes)) this.stats.delivered += 1;
    else this.stats.dropped += 1;
  }
}
