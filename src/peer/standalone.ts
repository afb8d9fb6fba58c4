/**
 * A one-voter ensemble in this process: memory storage, a memory network with no other peer, and
 * real time (clock-real.ts) unless a clock is given. What `Keeper.join({ room, storage: 'memory' })`
 * without a relay runs. The peer campaigns at once (it is the only voter), so with memory storage
 * it leads before this function returns, and sessions open without waiting for an election.
 *
 * Returns the Peer itself: it implements ServingApi, and has status(), onStatus() and stop()
 * (stop ends its timers, so a Node process may exit).
 */

import { assert } from '../core/assert.js';
import { makeConfig } from '../core/consensus/index.js';
import type { TreeLimits } from '../core/tree/index.js';
import { MemoryStorage } from '../adapters/storage-memory.js';
import { MemoryNetwork } from '../adapters/transport-memory.js';
import { RealClock, realSeed } from './clock-real.js';
import type { PeerTiming } from './constants.js';
import type { Clock } from './interfaces.js';
import { Peer } from './peer.js';

export interface StandalonePeerOptions {
  /** The ensemble's name (informational: a standalone ensemble has no relay to meet others at). */
  readonly room?: string;
  /** Only 'memory' (the default) is supported standalone. */
  readonly storage?: 'memory';
  /** The voter target (odd, 1..TARGET_VOTERS_MAX). A lone peer stays the only voter whatever it is. */
  readonly voters?: number;
  /** Default: `standalone-<8 hex>` from the seed. */
  readonly peerId?: string;
  /** Default: a fresh seed from the platform's CSPRNG. */
  readonly seed?: number;
  /** Default: real time (setTimeout / Date.now). */
  readonly clock?: Clock;
  readonly timing?: Partial<PeerTiming>;
  readonly treeLimits?: Partial<TreeLimits>;
}

/** The standalone peer: the Peer itself (ServingApi + status() + onStatus() + stop()). */
export type StandalonePeer = Peer;

export function createStandalonePeer(options: StandalonePeerOptions = {}): StandalonePeer {
  assert(options.storage === undefined || options.storage === 'memory', 'standalone peer: memory storage only');
  const seed = options.seed ?? realSeed();
  const peerId = options.peerId ?? `standalone-${(seed >>> 0).toString(16).padStart(8, '0')}`;
  const network = new MemoryNetwork();
  let started: Peer | null = null;
  let failure: Error | null = null;
  Peer.start(
    {
      transport: network.connect(peerId),
      storage: new MemoryStorage(),
      clock: options.clock ?? new RealClock(),
      seed,
      bootstrap: makeConfig([peerId]),
      ...(options.voters === undefined ? {} : { targetVoters: options.voters }),
      ...(options.timing === undefined ? {} : { timing: options.timing }),
      ...(options.treeLimits === undefined ? {} : { treeLimits: options.treeLimits }),
    },
    (result) => {
      if (result.ok) started = result.peer;
      else failure = result.error;
    },
  );
  if (failure !== null) throw failure;
  // Memory storage calls back synchronously, so the peer exists by now.
  assert(started !== null, 'standalone peer: started synchronously over memory storage');
  return started;
}
