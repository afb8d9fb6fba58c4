/**
 * A bounded, seeded fuzz of the WebRTC mesh's inputs (issue 5, "bad input"), on real data channels
 * (node-datachannel, loopback) meeting through MemorySignalingHub. A rogue peer that holds the room
 * secret (so it is admitted, and its bytes reach the data path) writes straight onto its channels
 * to two honest peers, bypassing its own framing: random frames, and valid messages' frames mutated
 * (dropped, duplicated, swapped, truncated, overrun, kinds flipped, lengths lied about, messages
 * interrupted, oversize frames, HELLO/PROOF after admission). It also sends the honest peers
 * garbage signals and forged relayed envelopes. All the while the honest peers exchange numbered
 * messages, small and multi-frame, both ways.
 *
 * The model is the framing's reference reassembler (framing.ts) run over exactly the frames the
 * rogue sent each peer: it says which rogue messages come out (bytes, in order) and how many
 * frames are malformed and messages abandoned; each honest mesh must deliver exactly those and
 * count exactly those drops, count every garbage signal and forged envelope, keep the other
 * honest peer admitted, and deliver the honest exchange complete and in order.
 *
 *   SEED=1234 npx vitest run src/adapters/transport-webrtc/fuzz.test.ts     replays one run
 */

import { afterAll, describe, expect, it } from 'vitest';
import type { Prng } from '../../core/prng.js';
import { Prng as SeededPrng } from '../../core/prng.js';
import type { PeerId } from '../../core/consensus/index.js';
import { testSeed } from '../../test-support/seed.js';
import { CONNECTION_ID_CHARS_MAX, FRAME_BYTES_MAX, INCARNATION_BYTES, MAC_BYTES, MESSAGE_BYTES_MAX_WIRE, NONCE_BYTES } from './constants.js';
import { decodeRelayed, encodeHello, encodeMessage, encodeProof, encodeRelayed, FrameKind, Reassembler } from './framing.js';
import { MemorySignalingHub, type MemorySignaling } from './memory-signaling.js';
import { DROP_REASONS, WebRtcMesh, type CreatePeer, type PeerLike } from './mesh.js';
import { cleanupNodeWebRtc, createNodePeerFactory } from './node.js';

/** Raw frames the rogue writes to each honest peer; garbage signals and forged envelopes to each. */
const ROGUE_FRAMES = 3000;
const ROGUE_SIGNALS = 150;
const ROGUE_RELAYED = 120;
/** The rogue writes in bursts of this many frames, yielding between them. */
const BURST = 50;
/** The honest peers each send the other one message this often. */
const HONEST_INTERVAL_MS = 4;
const WAIT_MS = 20_000;
const SECRET = 'room secret';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function randomBytes(prng: Prng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = prng.int(0, 255);
  return bytes;
}

/** A message payload: mostly small, now and then several frames long. */
function payload(prng: Prng): Uint8Array {
  const length = prng.chance(0.75) ? prng.int(0, 1500) : prng.int(FRAME_BYTES_MAX, 3 * FRAME_BYTES_MAX + 100);
  return randomBytes(prng, length);
}

/** One step of the rogue's stream: a few frames, each at least one byte. */
function rogueFrames(prng: Prng): Uint8Array[] {
  const roll = prng.float();
  if (roll < 0.2) {
    const frame = randomBytes(prng, prng.int(1, 2048));
    frame[0] = prng.pick([0, FrameKind.hello, FrameKind.proof, FrameKind.whole, FrameKind.first, FrameKind.next, 6, FrameKind.relayed, 255, prng.int(0, 255)]);
    return [frame];
  }
  if (roll < 0.27) {
    return [prng.chance(0.5)
      ? encodeHello({ version: 1, nonce: randomBytes(prng, NONCE_BYTES), incarnation: randomBytes(prng, INCARNATION_BYTES), peerId: 'rogue' })
      : encodeProof(randomBytes(prng, MAC_BYTES))];
  }
  if (roll < 0.31) {
    const frame = randomBytes(prng, prng.int(FRAME_BYTES_MAX + 1, FRAME_BYTES_MAX + 4096));
    frame[0] = prng.pick([FrameKind.whole, FrameKind.first, FrameKind.next]);
    return [frame];
  }
  const frames: Uint8Array[] = encodeMessage(payload(prng)).map((frame) => frame.slice());
  if (prng.chance(0.45)) return frames; // valid: must be delivered as sent
  const at = prng.int(0, frames.length - 1);
  const frame = frames[at] as Uint8Array;
  switch (prng.int(0, 7)) {
    case 0:
      frames.splice(at, 1);
      break;
    case 1:
      frames.splice(at, 0, frame.slice());
      break;
    case 2: {
      const other = prng.int(0, frames.length - 1);
      frames[at] = frames[other] as Uint8Array;
      frames[other] = frame;
      break;
    }
    case 3:
      frames[at] = frame.slice(0, prng.int(1, frame.length));
      break;
    case 4:
      frames[at] = new Uint8Array([...frame, ...randomBytes(prng, prng.int(1, 64))]);
      break;
    case 5:
      frame[0] = prng.pick([0, FrameKind.hello, FrameKind.proof, FrameKind.whole, FrameKind.first, FrameKind.next, 99]);
      break;
    case 6:
      if (frame[0] === FrameKind.first) {
        new DataView(frame.buffer).setUint32(1, prng.pick([0, 1, FRAME_BYTES_MAX - 5, MESSAGE_BYTES_MAX_WIRE + 1, 0xffffffff, prng.int(0, 200_000)]));
      } else {
        frames.splice(at, 0, encodeMessage(randomBytes(prng, prng.int(0, 100)))[0] as Uint8Array); // a message interrupting this one
      }
      break;
    default:
      frames.length = at; // the rest never comes (the next message abandons it)
  }
  return frames.filter((each) => each.length > 0);
}

/** What the framing says an honest peer must make of the rogue's frames. */
interface Prediction {
  messages: Uint8Array[];
  malformed: number;
  reassembler: Reassembler;
}

function predict(prediction: Prediction, frame: Uint8Array): void {
  const result = prediction.reassembler.push(frame);
  if (result.type === 'malformed') prediction.malformed += 1;
  if (result.type === 'message') prediction.messages.push(result.bytes.slice());
}

/** A signal that is not a well-formed envelope ({ c: 1-64 chars, s: object }), or a well-formed
 *  one for a connection that does not exist and no offer (stale: ignored, as after a reconnect). */
function rogueSignal(prng: Prng): { data: unknown; bad: boolean } {
  const options: Array<() => { data: unknown; bad: boolean }> = [
    () => ({ data: prng.pick<unknown>([1, 'offer', true, [], [1, 2], 'x'.repeat(100)]), bad: true }),
    () => ({ data: { s: { type: 'offer', sdp: 'v=0' } }, bad: true }),
    () => ({ data: { c: '', s: { type: 'answer' } }, bad: true }),
    () => ({ data: { c: 'x'.repeat(CONNECTION_ID_CHARS_MAX + 1), s: { type: 'offer' } }, bad: true }),
    () => ({ data: { c: prng.int(0, 1000), s: { type: 'offer' } }, bad: true }),
    () => ({ data: { c: `rogue-${prng.u32()}`, s: prng.pick<unknown>([null, 'offer', 5]) }, bad: true }),
    // `s: []` is an object: a well-formed envelope whose signal is not an offer, so stale.
    () => ({ data: { c: `rogue-${prng.u32()}`, s: [] }, bad: false }),
    () => ({ data: { c: `stale-${prng.u32()}`, s: { type: prng.pick(['answer', 'candidate', 'renegotiate', 'transceiverRequest', '']), sdp: 'garbage', candidate: { candidate: 'x' } } }, bad: false }),
  ];
  return prng.pick(options)();
}

/** A relayed envelope from the rogue: random bytes, or well-formed with wrong incarnations or a
 *  wrong tag. None can be authentic; the framing tells malformed from unauthenticated. */
function rogueRelayed(prng: Prng, rogue: WebRtcMesh, target: WebRtcMesh): Uint8Array {
  if (prng.chance(0.3)) {
    const bytes = randomBytes(prng, prng.int(1, 300));
    if (prng.chance(0.5)) bytes[0] = FrameKind.relayed;
    return bytes;
  }
  const right = prng.chance(0.6);
  return encodeRelayed({
    senderIncarnation: right ? rogue.incarnation : randomBytes(prng, INCARNATION_BYTES),
    receiverIncarnation: right ? target.incarnation : randomBytes(prng, INCARNATION_BYTES),
    seq: prng.int(1, 1_000_000),
    mac: randomBytes(prng, MAC_BYTES),
    payload: randomBytes(prng, prng.int(0, 512)),
  });
}

afterAll(async () => {
  await sleep(100);
  cleanupNodeWebRtc();
});

describe('WebRTC mesh fuzz: a rogue admitted peer beside two honest peers', () => {
  it('drops and counts every bad frame, signal and relayed envelope; the honest exchange is complete and in order', async () => {
    const seed = testSeed();
    const replay = `SEED=${seed} npx vitest run src/adapters/transport-webrtc/fuzz.test.ts`;
    console.log(`mesh fuzz: seed ${seed} (replay: ${replay})`);
    try {
      await runFuzz(new SeededPrng(seed));
    } catch (error) {
      if (error instanceof Error) error.message = `[mesh fuzz] seed=${seed} (replay: ${replay})\n${error.message}`;
      throw error;
    }
  }, 60_000);
});

async function runFuzz(prng: Prng): Promise<void> {
  const started = Date.now();
  const hub = new MemorySignalingHub();
  const nodeFactory = createNodePeerFactory({ bindAddress: '127.0.0.1' });
  const rawToward = new Map<PeerId, PeerLike>();
  const rogueFactory: CreatePeer = (options) => {
    const peer = nodeFactory(options);
    rawToward.set(options.remote, peer);
    return peer;
  };
  const rogueSignaling: MemorySignaling = hub.connect('rogue');
  const rogue = new WebRtcMesh({ signaling: rogueSignaling, createPeer: rogueFactory, secret: SECRET });
  const honest = new Map<PeerId, WebRtcMesh>([
    ['b', new WebRtcMesh({ signaling: hub.connect('b'), createPeer: nodeFactory, secret: SECRET })],
    ['c', new WebRtcMesh({ signaling: hub.connect('c'), createPeer: nodeFactory, secret: SECRET })],
  ]);
  const all = [rogue, ...honest.values()];
  try {
    await waitFor(() => rogue.peers().join() === 'b,c' && honest.get('b')?.peers().join() === 'c,rogue' && honest.get('c')?.peers().join() === 'b,rogue', 'a full mesh of rogue, b, c');

    // What each honest peer receives, by sender.
    const got = new Map<PeerId, Map<PeerId, Uint8Array[]>>();
    for (const [id, mesh] of honest) {
      const bySender = new Map<PeerId, Uint8Array[]>();
      got.set(id, bySender);
      mesh.onMessage((from, bytes) => {
        const list = bySender.get(from) ?? [];
        list.push(bytes.slice());
        bySender.set(from, list);
      });
    }

    // The honest exchange, both ways, for the whole fuzz: numbered messages, some multi-frame.
    const honestPrng = prng.fork();
    const honestSent = new Map<PeerId, Uint8Array[]>([['b', []], ['c', []]]);
    let seq = 0;
    const exchange = setInterval(() => {
      for (const [from, to] of [['b', 'c'], ['c', 'b']] as const) {
        const body = honestPrng.chance(0.9) ? randomBytes(honestPrng, honestPrng.int(4, 600)) : randomBytes(honestPrng, honestPrng.int(FRAME_BYTES_MAX, 2 * FRAME_BYTES_MAX));
        new DataView(body.buffer).setUint32(0, seq);
        honestSent.get(from)?.push(body);
        honest.get(from)?.send(to, body);
      }
      seq += 1;
    }, HONEST_INTERVAL_MS);

    // The rogue's streams, one per honest peer, interleaved with its signals and envelopes.
    const predictions = new Map<PeerId, Prediction>();
    const badSignals = new Map<PeerId, number>([['b', 0], ['c', 0]]);
    const relayedMalformed = new Map<PeerId, number>([['b', 0], ['c', 0]]);
    const framesSent = new Map<PeerId, number>([['b', 0], ['c', 0]]);
    for (const id of honest.keys()) predictions.set(id, { messages: [], malformed: 0, reassembler: new Reassembler() });
    const streams = new Map([...honest.keys()].map((id) => [id, prng.fork()]));
    const sideChannel = prng.fork();
    const steps = Math.ceil(ROGUE_FRAMES / BURST);
    for (let step = 0; step < steps; step++) {
      for (const [id, mesh] of honest) {
        const raw = rawToward.get(id) as PeerLike;
        const stream = streams.get(id) as Prng;
        const prediction = predictions.get(id) as Prediction;
        for (let n = 0; n < BURST; ) {
          for (const frame of rogueFrames(stream)) {
            raw.send(frame);
            predict(prediction, frame);
            n += 1;
            framesSent.set(id, (framesSent.get(id) ?? 0) + 1);
          }
        }
        for (let n = 0; n < Math.ceil(ROGUE_SIGNALS / steps) && step * Math.ceil(ROGUE_SIGNALS / steps) + n < ROGUE_SIGNALS; n++) {
          const signal = rogueSignal(sideChannel);
          rogueSignaling.sendSignal(id, signal.data);
          if (signal.bad) badSignals.set(id, (badSignals.get(id) ?? 0) + 1);
        }
        for (let n = 0; n < Math.ceil(ROGUE_RELAYED / steps) && step * Math.ceil(ROGUE_RELAYED / steps) + n < ROGUE_RELAYED; n++) {
          const bytes = rogueRelayed(sideChannel, rogue, mesh);
          hub.injectRelayed('rogue', id, bytes);
          if (!decodeRelayed(bytes).ok) relayedMalformed.set(id, (relayedMalformed.get(id) ?? 0) + 1);
        }
      }
      await sleep(prng.int(10, 30)); // the fuzz lasts ~1-2 s, the honest exchange runs throughout
    }
    // A last valid message on each stream: once it is delivered, every earlier frame was handled.
    for (const id of honest.keys()) {
      const marker = new TextEncoder().encode(`end of the rogue's stream to ${id}`);
      for (const frame of encodeMessage(marker)) {
        rawToward.get(id)?.send(frame);
        predict(predictions.get(id) as Prediction, frame);
      }
    }
    clearInterval(exchange);

    for (const [id, mesh] of honest) {
      const prediction = predictions.get(id) as Prediction;
      const other = id === 'b' ? 'c' : 'b';
      const expectedFromOther = honestSent.get(other) as Uint8Array[];
      await waitFor(() => (got.get(id)?.get('rogue')?.length ?? 0) >= prediction.messages.length, `${id}: the rogue's ${prediction.messages.length} well-formed messages`);
      await waitFor(() => (got.get(id)?.get(other)?.length ?? 0) >= expectedFromOther.length, `${id}: all ${expectedFromOther.length} messages of ${other}`);
      await waitFor(() => mesh.dropped('relay-unauthenticated') + mesh.dropped('relay-malformed') + mesh.dropped('relay-replayed') + mesh.dropped('relay-pending-full') === ROGUE_RELAYED, `${id}: every forged envelope judged`);
      await waitFor(() => mesh.dropped('bad-signal') >= (badSignals.get(id) ?? 0), `${id}: every bad signal counted`);

      // The rogue's messages: exactly what the framing makes of its frames, in order.
      const fromRogue = got.get(id)?.get('rogue') ?? [];
      expect(fromRogue.length, `${id}: messages from the rogue`).toBe(prediction.messages.length);
      fromRogue.forEach((bytes, i) => expect(Buffer.compare(bytes, prediction.messages[i] as Uint8Array), `${id}: rogue message ${i}`).toBe(0));
      // The honest exchange: complete, in order, byte for byte.
      const fromOther = got.get(id)?.get(other) ?? [];
      expect(fromOther.length).toBe(expectedFromOther.length);
      fromOther.forEach((bytes, i) => expect(Buffer.compare(bytes, expectedFromOther[i] as Uint8Array), `${id}: message ${i} of ${other}`).toBe(0));
      expect([...(got.get(id)?.keys() ?? [])].sort()).toEqual([other, 'rogue'].sort());

      // Every drop counted, by reason, and nothing else dropped.
      const expectedDrops = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0]));
      expectedDrops['malformed-frame'] = prediction.malformed;
      expectedDrops['incomplete-message'] = prediction.reassembler.abandoned;
      expectedDrops['bad-signal'] = badSignals.get(id) ?? 0;
      expectedDrops['relay-malformed'] = relayedMalformed.get(id) ?? 0;
      expectedDrops['relay-unauthenticated'] = ROGUE_RELAYED - (relayedMalformed.get(id) ?? 0);
      expect(mesh.stats().dropped, `${id}: drops by reason`).toEqual(expectedDrops);
      expect(mesh.stats().relayedDelivered).toBe(0);
      // Both honest peers still have each other (and the rogue: garbage after admission is not fatal).
      expect(mesh.peers()).toEqual([other, 'rogue'].sort());
      expect(mesh.stats().admissionFailures).toBe(0);
      console.log(`mesh fuzz → ${id}: ${framesSent.get(id)} rogue frames: ${prediction.messages.length} messages delivered, ${prediction.malformed} malformed, ${prediction.reassembler.abandoned} abandoned; ${badSignals.get(id)} bad signals; ${ROGUE_RELAYED} forged envelopes (${relayedMalformed.get(id)} malformed); ${fromOther.length} honest messages from ${other}`);
    }
    console.log(`mesh fuzz: ${Date.now() - started} ms`);
  } finally {
    for (const mesh of all) mesh.close();
    await sleep(50);
  }
}
