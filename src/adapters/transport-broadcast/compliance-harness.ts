/**
 * The transport compliance suite's harness for BroadcastTransport (transport-compliance.ts): each
 * peer of a case is a transport on its own BroadcastChannel object of a fresh room, so every
 * message crosses a real BroadcastChannel (Node's in unit tests, Chromium's in
 * e2e/broadcast.spec.ts). No test runner and no Node module here.
 */

import type { PeerId } from '../../core/consensus/index.js';
import type { TransportCluster, TransportHarness } from '../transport-compliance.js';
import { BroadcastTransport, type BroadcastTransportOptions } from './transport.js';

/** How long a harness waits for the room to settle (hellos, byes): BroadcastChannel answers within
 *  milliseconds; the rest is slack for a loaded machine. */
const SETTLE_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 5;

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${SETTLE_TIMEOUT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

let rooms = 0;

/** `extra`: what every transport of the harness gets besides room and id (a fake channel, no
 *  locks, ...). */
export function broadcastHarness(extra: Omit<BroadcastTransportOptions, 'room' | 'self'> = {}): TransportHarness & { opened: BroadcastTransport[] } {
  const opened: BroadcastTransport[] = [];
  return {
    selfSend: 'delivers',
    deliveryTimeoutMs: 20_000,
    opened,
    async create(ids: readonly PeerId[]): Promise<TransportCluster> {
      rooms += 1;
      const room = `compliance-${rooms}-${Math.random().toString(36).slice(2, 10)}`;
      const open = async (id: PeerId) => {
        const transport = await BroadcastTransport.open({ ...extra, room, self: id });
        opened.push(transport);
        return transport;
      };
      const transports = new Map<PeerId, BroadcastTransport>();
      for (const id of ids) transports.set(id, await open(id));
      const get = (id: PeerId): BroadcastTransport => {
        const transport = transports.get(id);
        if (transport === undefined) throw new Error(`no transport ${id}`);
        return transport;
      };
      const seesAll = (id: PeerId) => {
        const peers = get(id).roomPeers();
        return ids.every((other) => other === id || peers.includes(other));
      };
      await until(() => ids.every(seesAll), 'every transport to see every other');
      return {
        transport: get,
        drops: (id) => get(id).drops(),
        async leave(id) {
          get(id).close();
          await until(() => ids.every((other) => other === id || !get(other).roomPeers().includes(id)), `the others to see ${id} leave`);
        },
        async rejoin(id) {
          transports.set(id, await open(id));
          await until(() => ids.every(seesAll), `${id} and the others to see each other again`);
          return get(id);
        },
        async teardown() {
          for (const transport of transports.values()) transport.close();
        },
      };
    },
  };
}
