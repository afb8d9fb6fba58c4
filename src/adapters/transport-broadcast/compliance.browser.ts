/**
 * The browser side of e2e/broadcast.spec.ts's transport compliance run: bundled by Vite into a
 * page, it runs named cases of the transport compliance suite (transport-compliance.ts) on
 * BroadcastTransport in Chromium — every peer of a case a transport on its own BroadcastChannel
 * object, with the page's real Web Locks for presence — and exposes it on `window`:
 *   runBroadcastCompliance(names) -> { name, status, error, durationMs }[]
 *   broadcastRoundTrip(count)     -> round-trip times (ms) of small messages between two transports
 */

import { runTransportCase, TRANSPORT_CASES } from '../transport-compliance.js';
import { broadcastHarness } from './compliance-harness.js';
import { BroadcastTransport } from './transport.js';

export interface BroadcastCaseResult {
  readonly name: string;
  readonly status: 'passed' | 'failed';
  readonly error: string | null;
  readonly durationMs: number;
  /** Drops, malformed envelopes and ignored envelopes the case's transports counted. */
  readonly counters: string;
}

declare global {
  interface Window {
    runBroadcastCompliance(names: readonly string[]): Promise<BroadcastCaseResult[]>;
    broadcastRoundTrip(count: number): Promise<number[]>;
  }
}

window.runBroadcastCompliance = async (names) => {
  const results: BroadcastCaseResult[] = [];
  for (const name of names) {
    const testCase = TRANSPORT_CASES.find((each) => each.name === name);
    if (testCase === undefined) {
      results.push({ name, status: 'failed', error: `no case named ${name}`, durationMs: 0, counters: '' });
      continue;
    }
    const harness = broadcastHarness();
    const started = performance.now();
    let error: string | null = null;
    try {
      await runTransportCase(testCase, harness);
    } catch (caught) {
      error = caught instanceof Error ? `${caught.message}\n${caught.stack ?? ''}` : String(caught);
    }
    const counters = harness.opened.map((transport) => `${transport.self}: ${JSON.stringify(transport.stats().dropped)} ignored ${transport.stats().ignored}`).join('; ');
    for (const transport of harness.opened) transport.close();
    results.push({ name, status: error === null ? 'passed' : 'failed', error, durationMs: performance.now() - started, counters });
  }
  return results;
};

window.broadcastRoundTrip = async (count) => {
  const room = `rtt-${Math.random().toString(36).slice(2, 10)}`;
  const a = await BroadcastTransport.open({ room, self: 'a' });
  const b = await BroadcastTransport.open({ room, self: 'b' });
  try {
    await new Promise<void>((resolve) => a.whenListed(() => resolve()));
    b.onMessage((from, bytes) => b.send(from, bytes));
    const times: number[] = [];
    let pending: (() => void) | null = null;
    a.onMessage(() => pending?.());
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await new Promise<void>((resolve) => {
        pending = resolve;
        a.send('b', new Uint8Array(64));
      });
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    a.close();
    b.close();
  }
};
