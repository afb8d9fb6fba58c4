/**
 * A peer of a networked ensemble (API.md, Keeper.join with a relay), the same on every platform:
 * the platform entry (src/node.ts, src/browser.ts) brings the room transport (WebRTC mesh over the
 * relay), the storage (files or IndexedDB) and real time; this module decides how the peer enters
 * the ensemble and runs it.
 *
 * Entering (API.md: "a lone first peer becomes leader of a one-voter ensemble; later peers join as
 * observers and are promoted"):
 * - storage holds a replica: the peer resumes it (its configuration is in the log);
 * - else the room is empty when it arrives: it bootstraps a one-voter ensemble and leads it;
 * - else it joins as a learner through the peers in the room (any member answers with a leader
 *   hint), and the leader promotes it while voters are missing (membership.ts).
 * The relay orders joins, so of two fresh peers arriving together exactly one finds the room empty.
 * Known gap: if every member of an ensemble is gone and a fresh peer arrives, it bootstraps a new
 * ensemble; a returning old member keeps its old configuration and cannot join it (issue 6 gives
 * browser peers identities that outlive tabs, which keeps members around).
 */

import { EMPTY_CONFIG, makeConfig, type PeerId } from '../core/consensus/index.js';
import type { PeerTiming } from './constants.js';
import type { Clock, ReplicaStorage, Transport } from './interfaces.js';
import { Peer } from './peer.js';

/** How long a fresh peer waits for the relay's first room list before giving up (a relay that
 *  accepts the socket answers a join within a round trip; 10 s covers a slow first connection). */
export const ROOM_LIST_WAIT_MS = 10_000;

/** What the runtime needs of the room's transport beyond sending and receiving. */
export interface RoomTransport extends Transport {
  /** Calls `listener` with the room's other peers once the first room list arrives (at once if it
   *  already has). */
  whenListed(listener: (peers: readonly PeerId[]) => void): void;
  /** The other peers in the room now (as signaling last reported; connected or not). */
  roomPeers(): readonly PeerId[];
  /** Closes every connection and leaves the room. */
  close(): void;
}

export interface NetworkedPeerOptions {
  readonly transport: RoomTransport;
  readonly storage: ReplicaStorage;
  readonly clock: Clock;
  readonly seed: number;
  readonly targetVoters?: number;
  readonly timing?: Partial<PeerTiming>;
}

/** Starts the peer; `done` gets it once its replica runs (it may still be joining). */
export function startNetworkedPeer(options: NetworkedPeerOptions, done: (result: { ok: true; peer: Peer } | { ok: false; error: Error }) => void): void {
  const { transport, storage, clock } = options;
  let settled = false;
  const settle = (result: { ok: true; peer: Peer } | { ok: false; error: Error }): void => {
    if (settled) return;
    settled = true;
    done(result);
  };
  storage.load((loaded) => {
    if (!loaded.ok) return settle({ ok: false, error: loaded.error });
    if (loaded.state !== null) return start(options, null, settle);
    const timer = clock.after(ROOM_LIST_WAIT_MS, () => settle({ ok: false, error: new Error(`no room list from the relay within ${ROOM_LIST_WAIT_MS} ms`) }));
    transport.whenListed((peers) => {
      timer();
      if (settled) return;
      start(options, peers, settle);
    });
  });
}

/** `listed`: the room's peers when a fresh replica arrived; null when storage holds one. */
function start(options: NetworkedPeerOptions, listed: readonly PeerId[] | null, done: (result: { ok: true; peer: Peer } | { ok: false; error: Error }) => void): void {
  const self = options.transport.self;
  const bootstrap = listed !== null && listed.length === 0 ? makeConfig([self]) : EMPTY_CONFIG;
  Peer.start(
    {
      transport: options.transport,
      storage: options.storage,
      clock: options.clock,
      seed: options.seed,
      bootstrap,
      contacts: () => options.transport.roomPeers(),
      ...(options.targetVoters === undefined ? {} : { targetVoters: options.targetVoters }),
      ...(options.timing === undefined ? {} : { timing: options.timing }),
    },
    done,
  );
}
