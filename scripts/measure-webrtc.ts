/**
 * Measures the WebRTC mesh between two Node peers over loopback (node-datachannel through
 * simple-peer, MemorySignalingHub, admission on): round-trip time of small messages (p50, p99)
 * and one-way throughput of small messages with a bounded window (as the runtime's pipelining
 * bounds what is in flight). Run: `npx tsx scripts/measure-webrtc.ts` (add `unshare -n` for a
 * loopback-only namespace). Prints a table and one JSON line.
 */

import { MemorySignalingHub } from '../src/adapters/transport-webrtc/memory-signaling.js';
import { WebRtcMesh } from '../src/adapters/transport-webrtc/mesh.js';
import { cleanupNodeWebRtc, createNodePeerFactory } from '../src/adapters/transport-webrtc/node.js';

/** Round trips measured after a warm-up of the same size. */
const RTT_SAMPLES = 2000;
const RTT_WARMUP = 200;
/** Messages in the throughput run, their size, and the most in flight at once (acknowledged in
 *  batches by the receiver, so the sender never outruns the mesh's queue bound). */
const THROUGHPUT_MESSAGES = 200_000;
const THROUGHPUT_MESSAGE_BYTES = 64;
const THROUGHPUT_WINDOW = 2000;
const ACK_EVERY = 500;
const CONNECT_TIMEOUT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const hub = new MemorySignalingHub();
  const createPeer = createNodePeerFactory({ bindAddress: '127.0.0.1' });
  const a = new WebRtcMesh({ signaling: hub.connect('a'), createPeer, secret: 'measure' });
  const b = new WebRtcMesh({ signaling: hub.connect('b'), createPeer, secret: 'measure' });
  const connectStart = performance.now();
  for (const deadline = Date.now() + CONNECT_TIMEOUT_MS; a.peers().length === 0 || b.peers().length === 0; ) {
    if (Date.now() > deadline) throw new Error('no connection');
    await sleep(1);
  }
  const connectMs = performance.now() - connectStart;

  // RTT: a sends, b echoes, one at a time.
  b.onMessage((from, bytes) => b.send(from, bytes));
  const rtts: number[] = [];
  for (let i = 0; i < RTT_WARMUP + RTT_SAMPLES; i++) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      a.onMessage(() => resolve());
      a.send('b', new Uint8Array(THROUGHPUT_MESSAGE_BYTES));
    });
    if (i >= RTT_WARMUP) rtts.push(performance.now() - start);
  }
  rtts.sort((x, y) => x - y);
  const percentile = (p: number) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))] as number;

  // Throughput: a streams, b acknowledges every ACK_EVERY messages; a keeps THROUGHPUT_WINDOW in flight.
  let received = 0;
  let acknowledged = 0;
  b.onMessage((from) => {
    received += 1;
    if (received % ACK_EVERY === 0 || received === THROUGHPUT_MESSAGES) b.send(from, new Uint8Array(new Uint32Array([received]).buffer));
  });
  let sent = 0;
  const payload = new Uint8Array(THROUGHPUT_MESSAGE_BYTES);
  const done = new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < THROUGHPUT_MESSAGES && sent - acknowledged < THROUGHPUT_WINDOW) {
        a.send('b', payload);
        sent += 1;
      }
    };
    a.onMessage((_from, bytes) => {
      acknowledged = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
      if (acknowledged >= THROUGHPUT_MESSAGES) resolve();
      else pump();
    });
    pump();
  });
  const start = performance.now();
  await done;
  const seconds = (performance.now() - start) / 1000;
  const result = {
    connectMs: Math.round(connectMs),
    rttP50Ms: Number(percentile(0.5).toFixed(3)),
    rttP99Ms: Number(percentile(0.99).toFixed(3)),
    messagesPerSecond: Math.round(THROUGHPUT_MESSAGES / seconds),
    messageBytes: THROUGHPUT_MESSAGE_BYTES,
    dropped: a.dropped() + b.dropped(),
  };
  console.log(`connect+admit      ${result.connectMs} ms`);
  console.log(`RTT p50 / p99      ${result.rttP50Ms} / ${result.rttP99Ms} ms (${RTT_SAMPLES} samples, ${THROUGHPUT_MESSAGE_BYTES} B)`);
  console.log(`throughput         ${result.messagesPerSecond} msgs/s (${THROUGHPUT_MESSAGES} x ${THROUGHPUT_MESSAGE_BYTES} B, window ${THROUGHPUT_WINDOW})`);
  console.log(`drops              ${result.dropped}`);
  console.log(JSON.stringify(result));
  a.close();
  b.close();
  await sleep(100);
  cleanupNodeWebRtc();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  cleanupNodeWebRtc();
  process.exit(1);
});
