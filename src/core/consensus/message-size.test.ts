// Proves that every consensus message fits the data channel's safe size (MESSAGE_BYTES_MAX,
// 16 KiB; DESIGN.md "chunked at 16 KiB"): an append carries as many entries as fit, an entry
// larger than the budget travels alone (the transport fragments it), snapshot chunks with the
// largest config fit, and APPEND_HEADER_BYTES_MAX really bounds an append's header. Entry sizes
// are drawn from a seeded PRNG (the seed is printed on failure).

import { describe, expect, it } from 'vitest';
import { testSeed, withSeed } from '../../test-support/seed.js';
import { APPEND_HEADER_BYTES_MAX, appendEntryBytes, encodeMessage } from '../codec/raft.js';
import {
  APPEND_ENTRIES_PER_MESSAGE_MAX,
  CONFIG_PEERS_MAX,
  MESSAGE_BYTES_MAX,
  PEER_ID_BYTES_MAX,
  SNAPSHOT_BYTES_MAX,
  SNAPSHOT_CHUNK_BYTES_MAX,
} from '../limits.js';
import { makeConfig } from './config.js';
import { Cluster } from './harness/cluster.js';
import type { Message } from './messages.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

describe('message sizes', () => {
  it('APPEND_HEADER_BYTES_MAX bounds an append header at its largest values', () => {
    const id = 'x'.repeat(PEER_ID_BYTES_MAX);
    const entries = Array.from({ length: APPEND_ENTRIES_PER_MESSAGE_MAX }, (_, i) => ({
      index: MAX_SAFE - APPEND_ENTRIES_PER_MESSAGE_MAX + i + 1,
      term: MAX_SAFE,
      kind: 'noop' as const,
      data: new Uint8Array(0),
    }));
    const header: Message = { type: 'append', from: id, to: `${id.slice(1)}y`, term: MAX_SAFE, prevLogIndex: MAX_SAFE - APPEND_ENTRIES_PER_MESSAGE_MAX, prevLogTerm: MAX_SAFE, commit: MAX_SAFE, entries };
    const encoded = encodeMessage(header).length;
    const entryBytes = entries.reduce((sum, entry) => sum + appendEntryBytes(entry), 0);
    expect(encoded - entryBytes).toBeLessThanOrEqual(APPEND_HEADER_BYTES_MAX);
  });

  it('a snapshot chunk with the largest config and a full chunk fits', () => {
    const ids = Array.from({ length: CONFIG_PEERS_MAX }, (_, i) => `${i}`.padStart(PEER_ID_BYTES_MAX, 'p'));
    const config = makeConfig(ids.slice(0, 7), ids.slice(7));
    const chunk: Message = {
      type: 'snapshot',
      from: ids[0] as string,
      to: ids[1] as string,
      term: MAX_SAFE,
      meta: { index: MAX_SAFE, term: MAX_SAFE, config },
      size: SNAPSHOT_BYTES_MAX,
      offset: SNAPSHOT_BYTES_MAX - SNAPSHOT_CHUNK_BYTES_MAX,
      data: new Uint8Array(SNAPSHOT_CHUNK_BYTES_MAX),
      done: true,
    };
    expect(encodeMessage(chunk).length).toBeLessThanOrEqual(MESSAGE_BYTES_MAX);
  });

  it('every append batch fits 16 KiB; only a lone oversize entry exceeds it', () => {
    withSeed('every append batch fits 16 KiB', testSeed(), (prng) => {
      const cluster = new Cluster(prng.u32() | 0);
      const config = makeConfig(['1', '2', '3']);
      for (const id of ['1', '2', '3']) cluster.addNode(id, config, { preVote: false });
      cluster.node('1').campaign();
      cluster.stabilize();
      let batches = 0;
      let alone = 0;
      for (let round = 0; round < 40; round++) {
        const count = prng.int(1, 60);
        for (let i = 0; i < count; i++) {
          const size = prng.chance(0.05) ? prng.int(MESSAGE_BYTES_MAX, 3 * MESSAGE_BYTES_MAX) : prng.int(0, 2000);
          expect(cluster.node('1').propose(new Uint8Array(size)).ok).toBe(true);
        }
        for (let step = 0; step < 200; step++) {
          for (const id of ['1', '2', '3']) cluster.processReady(id);
          for (const m of cluster.queue) {
            if (m.type !== 'append') continue;
            const bytes = encodeMessage(m).length;
            if (m.entries.length > 1) {
              batches += 1;
              expect(bytes).toBeLessThanOrEqual(MESSAGE_BYTES_MAX);
            } else if (bytes > MESSAGE_BYTES_MAX) {
              alone += 1;
            }
          }
          if (cluster.queue.length === 0) break;
          cluster.deliver(null);
        }
      }
      expect(batches).toBeGreaterThan(0);
      expect(alone).toBeGreaterThan(0);
      expect(cluster.violations).toEqual([]);
    });
  });
});
