/**
 * The transport compliance suite (js-libp2p's habit: every transport runs one shared suite). What
 * the peer runtime relies on from a Transport (peer/interfaces.ts): best-effort delivery between
 * every pair, per-pair order while a connection lasts, messages up to WIRE_MESSAGE_BYTES_MAX
 * intact, larger ones refused and counted (never thrown), a defined self-send, sends to unknown
 * peers dropped without throwing, and a peer that leaves and comes back reachable again.
 *
 * Written once, run against the memory transport (transport-memory.compliance.test.ts) and the
 * WebRTC mesh (transport-webrtc/mesh.test.ts). Like client/api-suite.ts it imports no test runner
 * and no Node module: a runner passes its own `describe`/`it`, and a harness builds the cluster.
 *
 *   defineTransportSuite('memory', harness, { describe, it });
 */

import { assert } from '../core/assert.js';
import type { PeerId } from '../core/consensus/index.js';
import { WIRE_MESSAGE_BYTES_MAX } from '../peer/constants.js';
import type { Transport } from '../peer/interfaces.js';

/** Peers connected to each other, built by a harness for one case. */
export interface TransportCluster {
  /** One transport per peer id, every pair able to reach each other. */
  transport(id: PeerId): Transport;
  /** Drops counted by `id`'s transport (or by the network it belongs to). */
  drops(id: PeerId): number;
  /** `id` leaves (its transport closes); resolves once the others have noticed. */
  leave(id: PeerId): Promise<void>;
  /** `id` comes back with a fresh transport; resolves once it reaches every other peer again. */
  rejoin(id: PeerId): Promise<Transport>;
  /** Closes everything. */
  teardown(): Promise<void>;
}

export interface TransportHarness {
  /** A cluster of transports for `ids`, connected (resolves once every pair is up). */
  create(ids: readonly PeerId[]): Promise<TransportCluster>;
  /** What `send(self, bytes)` does: delivered once to the sender's own handler, or dropped. */
  readonly selfSend: 'delivers' | 'drops';
  /** How long a case may wait for deliveries (ms). */
  readonly deliveryTimeoutMs?: number;
}

interface Runner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
}

/** A wait's polling interval: short enough for loopback latencies, long enough to stay cheap. */
const POLL_INTERVAL_MS = 5;
/** The default wait for deliveries: WebRTC connects and drains within a second on loopback; the
 *  rest is slack for a loaded CI machine. */
const DELIVERY_TIMEOUT_MS_DEFAULT = 20_000;
/** Messages per pair in the order case: enough to cross the channel's buffering and the mesh's
 *  backpressure queue, few enough to run in a second. */
const ORDER_MESSAGES_PER_PAIR = 2000;
/** After a drop is expected, how long to make sure nothing arrives anyway. */
const QUIET_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Collects what every transport receives, by receiver. */
class Inbox {
  readonly received = new Map<PeerId, { from: PeerId; bytes: Uint8Array }[]>();

  attach(id: PeerId, transport: Transport): void {
    const list: { from: PeerId; bytes: Uint8Array }[] = [];
    this.received.set(id, list);
    transport.onMessage((from, bytes) => list.push({ from, bytes: bytes.slice() }));
  }

  of(id: PeerId, from?: PeerId): Uint8Array[] {
    const list = this.received.get(id) ?? [];
    return list.filter((each) => from === undefined || each.from === from).map((each) => each.bytes);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (value: string) => encoder.encode(value);
const readText = (bytes: Uint8Array) => decoder.decode(bytes);

/** Deterministic pseudo-random bytes (xorshift32), so a corrupted byte shows up as a mismatch. */
function patterned(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed | 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface TransportCase {
  readonly name: string;
  readonly peers: readonly PeerId[];
  run(cluster: TransportCluster, inbox: Inbox, timeoutMs: number, harness: TransportHarness): Promise<void>;
}

export const TRANSPORT_CASES: readonly TransportCase[] = [
  {
    name: 'delivers between every pair, both ways',
    peers: ['a', 'b', 'c'],
    async run(cluster, inbox, timeoutMs) {
      const ids = ['a', 'b', 'c'];
      for (const from of ids) for (const to of ids) if (from !== to) cluster.transport(from).send(to, text(`${from}>${to}`));
      for (const to of ids) {
        await waitFor(() => inbox.of(to).length >= 2, timeoutMs, `two messages at ${to}`);
        const got = inbox.received.get(to)?.map((each) => `${each.from}:${readText(each.bytes)}`).sort();
        const want = ids.filter((from) => from !== to).map((from) => `${from}:${from}>${to}`);
        assert(JSON.stringify(got) === JSON.stringify(want), `at ${to}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    },
  },
  {
    name: 'keeps per-pair order over many messages (two senders to one receiver, and back)',
    peers: ['a', 'b', 'c'],
    async run(cluster, inbox, timeoutMs) {
      const count = ORDER_MESSAGES_PER_PAIR;
      for (let i = 0; i < count; i++) {
        cluster.transport('a').send('c', text(`a${i}`));
        cluster.transport('b').send('c', text(`b${i}`));
        cluster.transport('c').send('a', text(`c${i}`));
      }
      const complete = () => inbox.of('c', 'a').length >= count && inbox.of('c', 'b').length >= count && inbox.of('a', 'c').length >= count;
      await waitFor(complete, timeoutMs, `${count} messages on each pair`);
      for (const [to, from] of [['c', 'a'], ['c', 'b'], ['a', 'c']] as const) {
        const got = inbox.of(to, from).map(readText);
        assert(got.length === count, `${from}->${to}: ${got.length} messages, want ${count}`);
        got.forEach((value, i) => assert(value === `${from}${i}`, `${from}->${to}: message ${i} is ${value}`));
      }
    },
  },
  {
    name: 'carries large messages intact, up to WIRE_MESSAGE_BYTES_MAX',
    peers: ['a', 'b'],
    async run(cluster, inbox, timeoutMs) {
      const sizes = [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000, 1024 * 1024, WIRE_MESSAGE_BYTES_MAX];
      const sent = sizes.map((size, i) => patterned(size, i + 1));
      for (const bytes of sent) cluster.transport('a').send('b', bytes);
      await waitFor(() => inbox.of('b').length >= sent.length, timeoutMs, `${sent.length} large messages`);
      const got = inbox.of('b');
      sent.forEach((bytes, i) => {
        const received = got[i];
        assert(received !== undefined && equalBytes(received, bytes), `message ${i} (${bytes.length} bytes) arrives intact`);
      });
    },
  },
  {
    name: 'refuses a message over WIRE_MESSAGE_BYTES_MAX without throwing, and counts it',
    peers: ['a', 'b'],
    async run(cluster, inbox, timeoutMs) {
      const before = cluster.drops('a');
      cluster.transport('a').send('b', new Uint8Array(WIRE_MESSAGE_BYTES_MAX + 1));
      cluster.transport('a').send('b', text('after'));
      await waitFor(() => inbox.of('b').length >= 1, timeoutMs, 'the message after the oversize one');
      await sleep(QUIET_MS);
      const got = inbox.of('b').map(readText);
      assert(got.length === 1 && got[0] === 'after', `only the small message arrives: ${got.length} arrived`);
      assert(cluster.drops('a') > before, 'the oversize message is counted as dropped');
    },
  },
  {
    name: 'defines sending to oneself',
    peers: ['a', 'b'],
    async run(cluster, inbox, timeoutMs, harness) {
      cluster.transport('a').send('a', text('me'));
      cluster.transport('a').send('b', text('marker'));
      await waitFor(() => inbox.of('b').length >= 1, timeoutMs, 'the marker');
      await sleep(QUIET_MS);
      const own = inbox.of('a', 'a').map(readText);
      if (harness.selfSend === 'delivers') assert(own.length === 1 && own[0] === 'me', `self-send delivered once: ${own.length}`);
      else assert(own.length === 0, 'self-send dropped');
      assert(inbox.of('b', 'a').map(readText).join() === 'marker', 'a self-send reaches no one else');
    },
  },
  {
    name: 'drops messages to unknown peers without throwing, and counts them',
    peers: ['a', 'b'],
    async run(cluster, inbox, timeoutMs) {
      const before = cluster.drops('a');
      cluster.transport('a').send('nobody', text('lost'));
      cluster.transport('a').send('', text('lost'));
      cluster.transport('a').send('b', text('found'));
      await waitFor(() => inbox.of('b').length >= 1, timeoutMs, 'the message to a known peer');
      assert(cluster.drops('a') >= before + 2, 'both sends to unknown peers are counted');
    },
  },
  {
    name: 'reconnects a peer that leaves and rejoins',
    peers: ['a', 'b', 'c'],
    async run(cluster, inbox, timeoutMs) {
      await cluster.leave('c');
      cluster.transport('a').send('c', text('while away')); // must not throw
      const c = await cluster.rejoin('c');
      inbox.attach('c', c);
      for (const other of ['a', 'b']) {
        c.send(other, text(`c>${other}`));
        cluster.transport(other).send('c', text(`${other}>c`));
      }
      await waitFor(() => inbox.of('c').length >= 2, timeoutMs, 'messages to the rejoined peer');
      await waitFor(() => inbox.of('a', 'c').length >= 1 && inbox.of('b', 'c').length >= 1, timeoutMs, 'messages from the rejoined peer');
      const atC = inbox.of('c').map(readText).sort();
      assert(JSON.stringify(atC) === JSON.stringify(['a>c', 'b>c']), `at c: ${JSON.stringify(atC)}`);
    },
  },
];

/** Registers every case with the runner; each case gets a fresh cluster. */
export function defineTransportSuite(name: string, harness: TransportHarness, runner: Runner): void {
  const timeoutMs = harness.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS_DEFAULT;
  runner.describe(`transport compliance: ${name}`, () => {
    for (const testCase of TRANSPORT_CASES) {
      runner.it(testCase.name, () => runTransportCase(testCase, harness), 3 * timeoutMs);
    }
  });
}

/** Runs one case on a fresh cluster (for runners other than vitest). */
export async function runTransportCase(testCase: TransportCase, harness: TransportHarness): Promise<void> {
  const timeoutMs = harness.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS_DEFAULT;
  const cluster = await harness.create(testCase.peers);
  try {
    const inbox = new Inbox();
    for (const id of testCase.peers) inbox.attach(id, cluster.transport(id));
    await testCase.run(cluster, inbox, timeoutMs, harness);
  } finally {
    await cluster.teardown();
  }
}

export type { Inbox };
