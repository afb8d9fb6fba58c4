// Proves the WebRTC mesh (mesh.ts) on real data channels in Node (node-datachannel through
// simple-peer, loopback only) meeting through MemorySignalingHub: it passes the transport
// compliance suite, refuses a peer with the wrong secret before any message, bounds its queue
// under backpressure without reordering, drops and counts garbage frames without throwing,
// reconnects after a channel is destroyed, and falls back to HMAC-tagged relayed messages whose
// forgeries, tamperings and replays are refused.
import { afterAll, describe, expect, it } from 'vitest';
import type { PeerId } from '../../core/consensus/index.js';
import { WIRE_MESSAGE_BYTES_MAX } from '../../peer/constants.js';
import { defineTransportSuite, type TransportCluster, type TransportHarness } from '../transport-compliance.js';
import { BUFFERED_AMOUNT_HIGH_BYTES, SEND_QUEUE_MESSAGES_MAX } from './constants.js';
import { FrameKind } from './framing.js';
import { MemorySignalingHub } from './memory-signaling.js';
import { WebRtcMesh, type CreatePeer, type CreatePeerOptions, type PeerLike } from './mesh.js';
import { cleanupNodeWebRtc, createNodePeerFactory } from './node.js';

const nodeFactory = createNodePeerFactory({ bindAddress: '127.0.0.1' });
const WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Recorded {
  readonly options: CreatePeerOptions;
  readonly peer: PeerLike;
  /** The largest bufferedAmount seen just before a send. */
  bufferedBeforeSendMax: number;
}

/** A CreatePeer that records every peer it makes (per mesh) and can be told to fail. */
function recordingFactory(base: CreatePeer = nodeFactory) {
  const made: Recorded[] = [];
  let failing = false;
  const createPeer: CreatePeer = (options) => {
    if (failing) throw new Error('factory told to fail');
    const peer = base(options);
    const record: Recorded = { options, peer, bufferedBeforeSendMax: 0 };
    const send = peer.send.bind(peer);
    peer.send = (data: Uint8Array) => {
      record.bufferedBeforeSendMax = Math.max(record.bufferedBeforeSendMax, peer.bufferSize);
      send(data);
    };
    made.push(record);
    return peer;
  };
  return {
    createPeer,
    made,
    latest: (remote: PeerId) => [...made].reverse().find((each) => each.options.remote === remote),
    fail: (value: boolean) => {
      failing = value;
    },
  };
}

/** Meshes on one hub; closes them all at the end and waits for their channels to wind down. */
class Room {
  readonly hub = new MemorySignalingHub();
  readonly meshes = new Map<PeerId, WebRtcMesh>();

  add(id: PeerId, options: { secret?: string; createPeer?: CreatePeer } = {}): WebRtcMesh {
    const mesh = new WebRtcMesh({
      signaling: this.hub.connect(id),
      createPeer: options.createPeer ?? nodeFactory,
      secret: 'secret' in options ? options.secret : 'room secret',
    });
    this.meshes.set(id, mesh);
    return mesh;
  }

  mesh(id: PeerId): WebRtcMesh {
    const mesh = this.meshes.get(id);
    if (mesh === undefined) throw new Error(`no mesh ${id}`);
    return mesh;
  }

  async connected(): Promise<void> {
    const live = [...this.meshes.entries()].filter(([, mesh]) => !mesh.isClosed);
    const ids = live.map(([id]) => id).sort();
    await waitFor(
      () => live.every(([id, mesh]) => mesh.peers().join() === ids.filter((other) => other !== id).join()),
      `full mesh of ${ids.join(',')}`,
    );
  }

  async close(): Promise<void> {
    for (const mesh of this.meshes.values()) mesh.close();
    await sleep(50); // simple-peer destroys on a microtask, node-datachannel closes on setImmediate
  }
}

afterAll(async () => {
  await sleep(100);
  cleanupNodeWebRtc();
});

const meshHarness: TransportHarness = {
  selfSend: 'delivers',
  deliveryTimeoutMs: WAIT_MS,
  async create(ids: readonly PeerId[]): Promise<TransportCluster> {
    const room = new Room();
    for (const id of ids) room.add(id);
    await room.connected();
    return {
      transport: (id) => room.mesh(id),
      drops: (id) => room.mesh(id).dropped(),
      async leave(id) {
        room.mesh(id).close();
        await waitFor(() => [...room.meshes.values()].every((mesh) => mesh.isClosed || !mesh.peers().includes(id)), `${id} gone`);
      },
      async rejoin(id) {
        const mesh = room.add(id);
        await room.connected();
        return mesh;
      },
      teardown: () => room.close(),
    };
  },
};

defineTransportSuite('WebRTC mesh (node-datachannel, loopback)', meshHarness, { describe, it });

describe('WebRtcMesh', () => {
  it('admits peers without a secret (the empty secret on both sides)', async () => {
    const room = new Room();
    const a = room.add('a', { secret: undefined });
    const b = room.add('b', { secret: undefined });
    try {
      await room.connected();
      const got: string[] = [];
      b.onMessage((from, bytes) => got.push(`${from}:${bytes.length}`));
      a.send('b', new Uint8Array(3));
      await waitFor(() => got.length === 1, 'delivery');
      expect(got).toEqual(['a:3']);
      expect(a.stats().admissionFailures).toBe(0);
    } finally {
      await room.close();
    }
  });

  it('refuses a peer with the wrong secret: no message delivered, failures counted, no retry storm', async () => {
    const room = new Room();
    const a = room.add('a', { secret: 'right' });
    const b = room.add('b', { secret: 'wrong' });
    const c = room.add('c', { secret: 'right' });
    try {
      const got: string[] = [];
      for (const [id, mesh] of [['a', a], ['b', b], ['c', c]] as const) mesh.onMessage((from) => got.push(`${from}>${id}`));
      await waitFor(() => a.peers().join() === 'c' && c.peers().join() === 'a', 'a and c admitted');
      await waitFor(() => b.stats().admissionFailures >= 2, 'b refused by a and c');
      for (const [from, to] of [['a', 'b'], ['b', 'a'], ['b', 'c'], ['c', 'b'], ['a', 'c']] as const) room.mesh(from).send(to, new Uint8Array([1]));
      await sleep(300);
      expect(got).toEqual(['a>c']);
      expect(b.peers()).toEqual([]);
      expect(a.peers()).toEqual(['c']);
      expect(a.stats().admissionFailures).toBeGreaterThanOrEqual(1);
      // The refusing side answers no further offers while the refused peer stays in the room; the
      // refused side's retries are paced by backoff and the connect timeout.
      const openedByA = a.stats().connectionsOpened;
      const openedByB = b.stats().connectionsOpened;
      await sleep(1000);
      expect(a.stats().connectionsOpened).toBe(openedByA);
      expect(b.stats().connectionsOpened).toBeLessThanOrEqual(openedByB + 2);
    } finally {
      await room.close();
    }
  });

  it('bounds its queue under backpressure, drops only the tail, keeps order, and never overfills the channel', async () => {
    const room = new Room();
    const recorder = recordingFactory();
    const a = room.add('a', { createPeer: recorder.createPeer });
    const b = room.add('b');
    try {
      await room.connected();
      const got: number[] = [];
      b.onMessage((_from, bytes) => got.push(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)));
      const total = 12_000;
      const message = new Uint8Array(1024);
      for (let i = 0; i < total; i++) {
        new DataView(message.buffer).setUint32(0, i);
        a.send('b', message);
      }
      const queueFull = a.dropped('queue-full');
      expect(queueFull).toBeGreaterThan(0);
      await waitFor(() => got.length === total - queueFull, 'every accepted message');
      got.forEach((value, i) => expect(value).toBe(i)); // the accepted ones are a prefix, in order
      expect(got.length).toBeGreaterThanOrEqual(SEND_QUEUE_MESSAGES_MAX);
      const record = recorder.latest('b');
      expect(record).toBeDefined();
      expect(record?.bufferedBeforeSendMax).toBeLessThanOrEqual(BUFFERED_AMOUNT_HIGH_BYTES);
      // Once drained, sending works again.
      a.send('b', new Uint8Array(4).fill(0xff));
      await waitFor(() => got.length === total - queueFull + 1, 'a message after the backlog');
    } finally {
      await room.close();
    }
  });

  it('packs the small messages sent in one task into BATCH frames, in order around a large message', async () => {
    const room = new Room();
    const a = room.add('a');
    const b = room.add('b');
    try {
      await room.connected();
      const got: number[] = [];
      b.onMessage((_from, bytes) => got.push(bytes.length === 40_000 ? -1 : new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)));
      const small = (i: number): Uint8Array => {
        const bytes = new Uint8Array(4 + (i % 7) * 100);
        new DataView(bytes.buffer).setUint32(0, i);
        return bytes;
      };
      const before = a.stats();
      for (let i = 0; i < 50; i++) a.send('b', small(i));
      a.send('b', new Uint8Array(40_000)); // three frames of its own, after the 50 and before the rest
      for (let i = 50; i < 100; i++) a.send('b', small(i));
      await waitFor(() => got.length === 101, 'every message');
      expect(got).toEqual([...Array.from({ length: 50 }, (_, i) => i), -1, ...Array.from({ length: 50 }, (_, i) => 50 + i)]);
      const after = a.stats();
      expect(after.messagesBatched - before.messagesBatched).toBe(100);
      expect(after.batchesSent - before.batchesSent).toBeGreaterThanOrEqual(2);
      // 100 small messages and one of 3 frames: far fewer sends than messages.
      expect(after.framesSent - before.framesSent).toBeLessThan(20);
      // A message sent alone in its task still goes as a WHOLE frame.
      a.send('b', small(100));
      await waitFor(() => got.length === 102, 'the lone message');
      expect(a.stats().batchesSent).toBe(after.batchesSent);
    } finally {
      await room.close();
    }
  });

  it('drops and counts garbage frames without throwing, and delivers the next real message', async () => {
    const room = new Room();
    const recorder = recordingFactory();
    const a = room.add('a', { createPeer: recorder.createPeer });
    const b = room.add('b');
    try {
      await room.connected();
      const got: Uint8Array[] = [];
      b.onMessage((_from, bytes) => got.push(bytes));
      const raw = recorder.latest('b')?.peer;
      expect(raw).toBeDefined();
      let seed = 12345;
      const random = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      const garbage = 500;
      for (let i = 0; i < garbage; i++) {
        const length = 1 + Math.floor(random() * 20_000);
        const frame = new Uint8Array(length);
        for (let j = 0; j < Math.min(length, 64); j++) frame[j] = Math.floor(random() * 256);
        // Every frame is malformed exactly once: a kind that is no data frame, a NEXT with no
        // message in progress, or a FIRST whose length is impossible.
        const shape = i % 3;
        if (shape === 0) frame[0] = [0, FrameKind.hello, FrameKind.proof, 7, 99, 255][i % 6] as number;
        if (shape === 1) frame[0] = FrameKind.next;
        if (shape === 2) {
          if (frame.length < 6) frame[0] = 0; // too short to carry a length: an unknown kind
          else {
            frame[0] = FrameKind.first;
            new DataView(frame.buffer).setUint32(1, i % 2 === 0 ? WIRE_MESSAGE_BYTES_MAX + 1 : 0);
          }
        }
        raw?.send(frame);
      }
      a.send('b', new Uint8Array([7, 7, 7]));
      await waitFor(() => got.length === 1, 'the real message');
      expect(Array.from(got[0] ?? [])).toEqual([7, 7, 7]);
      const malformed = b.dropped('malformed-frame');
      expect(malformed).toBe(garbage);
      expect(b.peers()).toEqual(['a']); // garbage after admission is dropped, not fatal
    } finally {
      await room.close();
    }
  });

  it('reconnects after a channel is destroyed', async () => {
    const room = new Room();
    const recorder = recordingFactory();
    const a = room.add('a', { createPeer: recorder.createPeer });
    const b = room.add('b');
    try {
      await room.connected();
      const first = recorder.latest('b');
      first?.peer.destroy();
      await waitFor(() => recorder.made.length >= 2 || b.stats().connectionsOpened >= 2, 'a new connection');
      await room.connected();
      expect(a.stats().reconnects + b.stats().reconnects).toBeGreaterThanOrEqual(1);
      const got: string[] = [];
      b.onMessage((from) => got.push(from));
      a.onMessage((from) => got.push(from));
      a.send('b', new Uint8Array([1]));
      b.send('a', new Uint8Array([2]));
      await waitFor(() => got.length === 2, 'messages on the new channel');
      expect(got.sort()).toEqual(['a', 'b']);
    } finally {
      await room.close();
    }
  });

  it('falls back to authenticated relayed messages while no channel is up; refuses forged, tampered and replayed ones', async () => {
    const room = new Room();
    const recorderA = recordingFactory();
    const recorderB = recordingFactory();
    const a = room.add('a', { createPeer: recorderA.createPeer });
    const b = room.add('b', { createPeer: recorderB.createPeer });
    const relayed: { from: PeerId; to: PeerId; bytes: Uint8Array }[] = [];
    room.hub.tapRelayed((from, to, bytes) => relayed.push({ from, to, bytes: bytes.slice() }));
    try {
      await room.connected();
      recorderA.fail(true);
      recorderB.fail(true);
      recorderA.latest('b')?.peer.destroy();
      await waitFor(() => a.peers().length === 0 && b.peers().length === 0, 'the channel gone');
      const got: number[] = [];
      b.onMessage((from, bytes) => {
        expect(from).toBe('a');
        got.push(bytes[0] as number);
      });
      for (let i = 0; i < 5; i++) a.send('b', new Uint8Array([i]));
      await waitFor(() => got.length === 5, 'relayed messages');
      expect(got).toEqual([0, 1, 2, 3, 4]);
      expect(a.stats().relayedSent).toBe(5);
      expect(b.stats().relayedDelivered).toBe(5);

      const valid = relayed.find((each) => each.from === 'a' && each.to === 'b');
      expect(valid).toBeDefined();
      const bytes = valid?.bytes ?? new Uint8Array();
      room.hub.injectRelayed('a', 'b', bytes); // replay
      const tampered = bytes.slice();
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
      room.hub.injectRelayed('a', 'b', tampered);
      room.hub.injectRelayed('a', 'b', new Uint8Array([1, 2, 3])); // garbage
      room.hub.injectRelayed('c', 'b', bytes); // from a peer never admitted
      await waitFor(
        () => b.dropped('relay-replayed') === 1 && b.dropped('relay-unauthenticated') === 2 && b.dropped('relay-malformed') === 1,
        'forgeries counted',
        2_000,
      );
      expect(got).toEqual([0, 1, 2, 3, 4]);
      // Too large for the relay: dropped and counted, not thrown.
      a.send('b', new Uint8Array(64 * 1024));
      expect(a.dropped('relay-oversize')).toBe(1);
    } finally {
      await room.close();
    }
  });

  it('drops messages to a peer it never connected to, and after close, without throwing', async () => {
    const room = new Room();
    const a = room.add('a');
    try {
      a.send('b', new Uint8Array([1]));
      expect(a.dropped('unknown-peer')).toBe(1);
      a.close();
      a.send('b', new Uint8Array([1]));
      expect(a.dropped('closed')).toBe(1);
    } finally {
      await room.close();
    }
  });
});
