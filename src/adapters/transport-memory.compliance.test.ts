// Runs the transport compliance suite (transport-compliance.ts) against the in-process network
// (transport-memory.ts), with deferred delivery on real timers so that every case waits for
// deliveries the way it must for a real transport.
import { describe, it } from 'vitest';
import type { PeerId } from '../core/consensus/index.js';
import { defineTransportSuite, type TransportCluster, type TransportHarness } from './transport-compliance.js';
import { MemoryNetwork, type MemoryTransport } from './transport-memory.js';

const harness: TransportHarness = {
  selfSend: 'delivers',
  deliveryTimeoutMs: 5_000,
  async create(ids: readonly PeerId[]): Promise<TransportCluster> {
    const network = new MemoryNetwork({ delivery: (deliver) => void setTimeout(deliver, 0) });
    const transports = new Map<PeerId, MemoryTransport>(ids.map((id) => [id, network.connect(id)]));
    return {
      transport(id) {
        const transport = transports.get(id);
        if (transport === undefined) throw new Error(`no transport ${id}`);
        return transport;
      },
      drops: () => network.stats.dropped,
      async leave(id) {
        transports.get(id)?.close();
      },
      async rejoin(id) {
        const transport = network.connect(id);
        transports.set(id, transport);
        return transport;
      },
      async teardown() {
        for (const transport of transports.values()) transport.close();
      },
    };
  },
};

defineTransportSuite('memory', harness, { describe, it });
