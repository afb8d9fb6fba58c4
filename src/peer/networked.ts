/**
 * A peer of a networked ensemble (API.md, Keeper.join with a relay), the same on every platform:
 * the platform entry (src/node.ts, src/browser.ts) brings the room transport (WebRTC mesh over the
 * relay), the storage (files or IndexedDB) and real time; this module decides how the peer enters
 * the ensemble and runs it.
 *
 * Entering (API.md: "a lone first peer becomes leader of a one-voter ensemble; later peers join as
 * observers and are promoted"):
 * - storage holds a replica: the peer resumes it (its configuration is in the log);
 * - else the room's first list names peers: it joins as a learner through them (any member answers
 *   with a leader hint), and the leader promotes it while voters are missing (membership.ts);
 * - else the list is empty and complete: it bootstraps a one-voter ensemble and leads it;
 * - else the list is empty but the relay is settling (it started lately, `settlingMs`: members of
 *   a room that outlived a relay restart may still be in their reconnect backoff). The peer waits
 *   (decideEntry): every ENTRY_PROBE_INTERVAL_MS it sends JOIN to the peers now in the room; a
 *   member answers (a leader hint with a term, or the leader's own traffic) and the peer joins
 *   through them. Fresh peers answer too (term 0, no leader) and are no reason to join: they came
 *   after this one, found it listed and wait for it. Once the grace is over (capped at
 *   ENTRY_SETTLING_WAIT_MAX_MS) and every room peer has answered (or ENTRY_ANSWER_WAIT_MS more
 *   passed), it bootstraps.
 * The relay orders joins, so of fresh peers arriving together exactly one finds the room empty.
 * What remains by design: if every member of an ensemble is gone for good (no replica in the room)
 * and a fresh peer arrives after the relay's grace, it bootstraps a new ensemble; an old member
 * returning later keeps its old configuration and cannot join it (browser slots keep identities
 * and their replicas around, so this needs every tab of every profile and every edge peer gone).
 */

import { EMPTY_CONFIG, makeConfig, type PeerId } from '../core/consensus/index.js';
import type { PeerTiming } from './constants.js';
import type { Cancel, Clock, ReplicaStorage, Transport } from './interfaces.js';
import { Peer } from './peer.js';
import { decodeWire, encodeWire } from './wire.js';

/** How long a fresh peer waits for the relay's first room list before giving up (a relay that
 *  accepts the socket answers a join within a round trip; 10 s covers a slow first connection). */
export const ROOM_LIST_WAIT_MS = 10_000;

/** The longest a fresh peer waits on a relay's settling grace: the relay's own is 5.5 s
 *  (RELAY_SETTLING_MS); a misconfigured or hostile relay cannot hold a peer back longer. */
export const ENTRY_SETTLING_WAIT_MAX_MS = 30_000;

/** How often a fresh peer waiting on a settling relay looks at the room and asks its peers (JOIN)
 *  whether they are members: a data channel takes a few hundred ms to come up, and a peer not
 *  reachable yet is asked again. At most 64 peers x 4/s for the bounded wait. */
export const ENTRY_PROBE_INTERVAL_MS = 250;

/** After the grace, how much longer a fresh peer waits for room peers that have not answered yet:
 *  a member that rejoined the relay at the end of the grace still needs its data channel and the
 *  admission handshake (about a second); a peer that never answers (a wrong secret) costs this. */
export const ENTRY_ANSWER_WAIT_MS = 5_000;

/** What a fresh peer has seen of its room since the first list came (decideEntry's input). */
export interface EntryView {
  /** The peers named by the room's first list. */
  readonly firstListed: readonly PeerId[];
  /** The settling grace announced with the first list (0: the list is complete). */
  readonly settlingMs: number;
  /** Time since the first list came. */
  readonly elapsedMs: number;
  /** Peers that answered as members of an ensemble (a term or a leader). */
  readonly members: number;
  /** Peers in the room now that have not answered yet. */
  readonly unanswered: number;
}

export type EntryDecision = 'bootstrap' | 'join' | 'wait';

/** How a fresh peer enters: pure, so that every branch is tested with a manual clock. */
export function decideEntry(view: EntryView): EntryDecision {
  if (view.firstListed.length > 0) return 'join';
  const graceMs = Math.min(view.settlingMs, ENTRY_SETTLING_WAIT_MAX_MS);
  if (graceMs <= 0) return 'bootstrap';
  if (view.members > 0) return 'join';
  if (view.elapsedMs < graceMs) return 'wait';
  if (view.unanswered > 0 && view.elapsedMs < graceMs + ENTRY_ANSWER_WAIT_MS) return 'wait';
  return 'bootstrap';
}

/** What the runtime needs of the room's transport beyond sending and receiving. */
export interface RoomTransport extends Transport {
  /** Calls `listener` with the room's other peers once the first room list arrives (at once if it
   *  already has), and the relay's settling grace left then (absent or 0: the list is complete;
   *  more: peers that outlived a relay restart may still be on their way back). */
  whenListed(listener: (peers: readonly PeerId[], settlingMs?: number) => void): void;
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
    transport.whenListed((peers, settlingMs = 0) => {
      timer();
      if (settled) return;
      enter(options, peers, settlingMs, (bootstrap) => start(options, bootstrap, settle));
    });
  });
}

/**
 * Decides how a fresh replica enters (decideEntry) and calls `decided` once: at once unless the
 * first list is empty and the relay settling; then it probes the room until the decision is made.
 * The probe's handler is the transport's until Peer.start installs the runtime's.
 */
function enter(options: NetworkedPeerOptions, firstListed: readonly PeerId[], settlingMs: number, decided: (bootstrap: boolean) => void): void {
  const { transport, clock } = options;
  const listedAt = clock.now();
  const members = new Set<PeerId>();
  const answered = new Set<PeerId>();
  let timer: Cancel | null = null;
  let done = false;
  const view = (): EntryView => {
    const room = transport.roomPeers().filter((id) => id !== transport.self);
    return { firstListed, settlingMs, elapsedMs: clock.now() - listedAt, members: members.size, unanswered: room.filter((id) => !answered.has(id)).length };
  };
  const step = (): void => {
    if (done) return;
    const decision = decideEntry(view());
    if (decision === 'wait') {
      const ask = encodeWire({ kind: 'join' });
      for (const id of transport.roomPeers()) if (id !== transport.self && !answered.has(id)) transport.send(id, ask);
      timer = clock.after(ENTRY_PROBE_INTERVAL_MS, step);
      return;
    }
    done = true;
    timer?.();
    decided(decision === 'bootstrap');
  };
  if (decideEntry(view()) !== 'wait') return step();
  transport.onMessage((from, bytes) => {
    if (done) return;
    const decoded = decodeWire(bytes);
    if (!decoded.ok) return;
    const message = decoded.message;
    if (message.kind === 'leader-hint') {
      answered.add(from);
      if (message.term > 0 || message.leader !== null) members.add(from);
    } else if (message.kind === 'raft' || message.kind === 'removed') {
      // A leader's traffic (it took our JOIN and added us) or its word that we are not a member:
      // either way an ensemble lives in this room.
      answered.add(from);
      members.add(from);
    } else {
      return;
    }
    if (members.size > 0) step();
  });
  step();
}

/** `bootstrap`: a fresh replica founds a one-voter ensemble (true) or joins (false); null when
 *  storage holds a replica. */
function start(options: NetworkedPeerOptions, bootstrap: boolean | null, done: (result: { ok: true; peer: Peer } | { ok: false; error: Error }) => void): void {
  const self = options.transport.self;
  const config = bootstrap === true ? makeConfig([self]) : EMPTY_CONFIG;
  Peer.start(
    {
      transport: options.transport,
      storage: options.storage,
      clock: options.clock,
      seed: options.seed,
      bootstrap: config,
      contacts: () => options.transport.roomPeers(),
      ...(options.targetVoters === undefined ? {} : { targetVoters: options.targetVoters }),
      ...(options.timing === undefined ? {} : { timing: options.timing }),
    },
    done,
  );
}
