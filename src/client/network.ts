/**
 * Joining over a relay (API.md): this process — a Node edge peer or a browser tab — runs one peer
 * of the room's ensemble, and each Keeper that joins the room opens its session on that peer (as
 * the standalone ensemble shares its peer). The peer leaves the room gracefully once the last
 * Keeper of the room has closed. Joining without a relay in a browser (a TabsPlan: the ensemble of
 * this profile's tabs over BroadcastChannel) works the same way through the runtime's
 * `startTabsPeer`; a room joined both ways is two peers, one per way.
 *
 * The platform pieces (WebSocket, WebRTC, storage) differ between Node and browsers and must not
 * be bundled into the other, so each platform's entry module (src/node.ts, src/browser.ts)
 * registers a NetworkRuntime; this module only shares peers between Keepers.
 */

import { KeeperError } from '../core/errors.js';
import type { PeerStatus, UnsafeRecoverOptions, UnsafeRecoverResult } from '../peer/peer.js';
import type { ServingApi } from '../peer/serving-api.js';
import type { StatusBoard } from './board.js';
import type { KeeperHost } from './host.js';
import type { ClientPlan, NetworkPlan, TabsPlan } from './options.js';
import type { RemoteServing } from './remote-serving.js';
import type { KeeperStatus } from './types.js';
import { keeperStatus } from './standalone.js';

/** A running peer of a networked ensemble, as the Keepers of this process share it. */
export interface NetworkedPeer {
  readonly serving: ServingApi;
  status(): PeerStatus;
  onStatus(listener: (status: PeerStatus) => void): () => void;
  /** The room's status board (platform/status-board.ts), where the platform runs one. */
  readonly board?: StatusBoard;
  /** Leaves gracefully (sessions closed, leadership handed off), then closes transport and storage. */
  leave(): Promise<void>;
  /** Leaves at once, synchronously (Peer.leaveNow: a closing page), then closes transport and
   *  storage without waiting. Platforms without it get leave() from leaveAllNow. */
  leaveNow?(avoid?: readonly string[]): void;
  /** As leave / leaveNow, but the identity stays a member: another tab of this browser profile
   *  resumes it from storage (platform/slots.ts). Where the platform has identities that return.
   *  `avoid`: peers never to hand leadership to (the others this page hosts, going with it). */
  suspend?(avoid?: readonly string[]): Promise<void>;
  suspendNow?(avoid?: readonly string[]): void;
  /** UNSAFE: this peer becomes the sole voter, keeping what it applied (Peer.unsafeRecover). */
  unsafeRecover?(options?: UnsafeRecoverOptions): Promise<UnsafeRecoverResult>;
}

/** A client-only attachment of a room (platform/client-attachment.ts): no replica, its sessions
 *  served by the room's serving peers (remote-serving.ts). */
export interface ClientAttachment {
  readonly serving: RemoteServing;
  /** Messages on the runtime's or the board's channel, dropped (they are not for an attachment). */
  droppedOtherChannels(): number;
  close(): void;
}

export interface NetworkRuntime {
  /** Starts this process's client-only attachment to `plan.room` (no replica). */
  startClient?(plan: ClientPlan): ClientAttachment;
  /** Starts this process's peer of `plan.room`, met through `plan.relay`. */
  startPeer(plan: NetworkPlan): Promise<NetworkedPeer>;
  /** Starts this tab's peer of the ensemble of this profile's tabs (browsers only). */
  startTabsPeer?(plan: TabsPlan): Promise<NetworkedPeer>;
}

let runtime: NetworkRuntime | null = null;

/** Called by a platform entry module (src/node.ts, src/browser.ts) when it loads. */
export function registerNetworkRuntime(value: NetworkRuntime): void {
  runtime = value;
}

/** A host over `peer` for one Keeper, without sharing: tests that run several peers in one
 *  process open Keepers on each (Keeper.open). Releasing it leaves the peer running. */
export function hostOnPeer(peer: NetworkedPeer): KeeperHost {
  return {
    serving: peer.serving,
    status: () => keeperStatus(peer.status()),
    onStatus: (listener) => peer.onStatus((status) => listener(keeperStatus(status))),
    ...(peer.board === undefined ? {} : { board: peer.board }),
    ...recoverOf(peer),
    release: async () => undefined,
  };
}

/** The host's unsafe recovery, where the peer has one (KeeperHost.unsafeRecover). */
function recoverOf(peer: NetworkedPeer): Pick<KeeperHost, 'unsafeRecover'> {
  const recover = peer.unsafeRecover;
  if (recover === undefined) return {};
  return {
    unsafeRecover: async (options) => {
      const result = await recover(options);
      if (!result.ok) throw new KeeperError(result.code, `unsafeRecoverFromThisPeer: ${result.reason}`);
      return { appliedIndex: result.appliedIndex, droppedEntries: result.droppedEntries, term: result.term };
    },
  };
}

/** Starts the peer the plan asks for (throws at once when the platform has no such peer). */
function startFor(runtime: NetworkRuntime, plan: NetworkPlan | TabsPlan): Promise<NetworkedPeer> {
  if (plan.kind === 'network') return runtime.startPeer(plan);
  if (runtime.startTabsPeer === undefined) {
    throw new KeeperError('UNIMPLEMENTED', "joining without a relay runs the ensemble of a browser profile's tabs, and this platform has none (in Node, pass a relay URL, or storage: 'memory' for the standalone ensemble)");
  }
  return runtime.startTabsPeer(plan);
}

interface Room {
  readonly secret: string | undefined;
  readonly storage: string;
  readonly peer: Promise<NetworkedPeer>;
  /** The peer once started (leaveAllNow must reach it synchronously). */
  started: NetworkedPeer | null;
  keepers: number;
}

const rooms = new Map<string, Room>();

/** A Keeper's release of a shared room or attachment (counted in `keepers`): once per Keeper; the
 *  last one out forgets it (if it is still the one under `key`) and closes it. */
function releaseOnce<T extends { keepers: number }>(shared: Map<string, T>, key: string, joined: T, close: () => void | Promise<void>): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    joined.keepers -= 1;
    if (joined.keepers > 0) return;
    if (shared.get(key) === joined) shared.delete(key);
    await close();
  };
}

/**
 * Every started peer of this process leaves at once, before this returns (a page's `pagehide`:
 * platform/leave-on-pagehide.ts). Each peer's leaveNow sends its leaving notice and, on a leader,
 * TimeoutNow to its successor, so the page's sessions close and leadership moves without waiting
 * for anything this page would have to run later. The rooms are forgotten: a later join (a page
 * restored from the back/forward cache) starts a new peer. Keepers of these peers see their
 * requests fail with CONNECTIONLOSS. A peer still starting holds no session yet and is left be.
 */
export function leaveAllNow(): void {
  for (const [key, room] of [...rooms]) {
    const peer = room.started;
    if (peer === null) continue;
    rooms.delete(key);
    if (peer.leaveNow !== undefined) peer.leaveNow();
    else void peer.leave();
  }
}

interface Attachment {
  readonly secret: string | undefined;
  readonly attachment: ClientAttachment;
  keepers: number;
}

const attachments = new Map<string, Attachment>();

/** What a Keeper of a client-only attachment reports as its status: it runs no replica, so
 *  everything but its own id and the peer serving its session now is empty. */
function attachmentStatus(attachment: ClientAttachment, sessionId: string | null): KeeperStatus {
  const serving = sessionId === null ? null : attachment.serving.servingPeerOf(sessionId);
  return { peerId: attachment.serving.peerId, role: 'observer', term: 0, leaderId: null, commitIndex: 0, appliedIndex: 0, voters: [], observers: [], quorum: serving !== null, votersShareDomain: false, servingPeerId: serving };
}

/** A client-only attachment's host: one attachment per (relay, room) in this process, shared by
 *  its Keepers (each with its own session, placed on its own serving peer); closed with the last. */
function joinAttachment(started: NetworkRuntime, plan: ClientPlan): KeeperHost {
  if (started.startClient === undefined) throw new KeeperError('UNIMPLEMENTED', 'this platform has no client-only attachment (replica: false) yet');
  const key = `client\n${plan.relay}\n${plan.room}`;
  let entry = attachments.get(key);
  if (entry !== undefined && entry.secret !== plan.secret) {
    throw new KeeperError('AUTHFAILED', `join: room ${JSON.stringify(plan.room)} is attached by this process with a different secret`);
  }
  if (entry === undefined) {
    entry = { secret: plan.secret, attachment: started.startClient(plan), keepers: 0 };
    attachments.set(key, entry);
  }
  entry.keepers += 1;
  const joined = entry;
  let sessionId: string | null = null;
  const serving = joined.attachment.serving;
  return {
    serving: {
      peerId: serving.peerId,
      openSession: (options, done) =>
        serving.openSession(options, (result) => {
          if (result.ok) sessionId = result.session.sessionId;
          done(result);
        }),
      closeSession: (id, done) => serving.closeSession(id, done),
      addAuth: (id, auth) => serving.addAuth(id, auth),
      submit: (id, request, done) => serving.submit(id, request, done),
    },
    status: () => attachmentStatus(joined.attachment, sessionId),
    onStatus: () => () => undefined,
    release: releaseOnce(attachments, key, joined, () => joined.attachment.close()),
  };
}

export async function joinNetwork(plan: NetworkPlan | TabsPlan | ClientPlan): Promise<KeeperHost> {
  const started = runtime;
  if (started === null) {
    throw new KeeperError('UNIMPLEMENTED', "joining over a relay needs meshkeeper's platform entry: import from 'meshkeeper' (it resolves to the Node or browser entry), not from its source files");
  }
  if (plan.kind === 'client') return joinAttachment(started, plan);
  // Relay URLs are ws:// or wss:// URLs, so no relay's key can equal the tabs' key of a room.
  const key = plan.kind === 'tabs' ? `tabs\n${plan.room}` : `${plan.relay}\n${plan.room}`;
  let room = rooms.get(key);
  if (room !== undefined && room.secret !== plan.secret) {
    throw new KeeperError('AUTHFAILED', `join: room ${JSON.stringify(plan.room)} is joined by this process with a different secret`);
  }
  if (room !== undefined && room.storage !== plan.storage) {
    throw new KeeperError('BADARGUMENTS', `join: room ${JSON.stringify(plan.room)} is joined by this process with storage ${room.storage}`);
  }
  if (room === undefined) {
    const peer = startFor(started, plan);
    const fresh: Room = { secret: plan.secret, storage: plan.storage, peer, started: null, keepers: 0 };
    rooms.set(key, fresh);
    peer.then(
      (value) => {
        fresh.started = value;
      },
      () => {
        if (rooms.get(key) === fresh) rooms.delete(key);
      },
    );
    room = fresh;
  }
  room.keepers += 1;
  let peer: NetworkedPeer;
  try {
    peer = await room.peer;
  } catch (error) {
    room.keepers -= 1;
    throw error;
  }
  const joined = room;
  return {
    serving: peer.serving,
    status: () => keeperStatus(peer.status()),
    onStatus: (listener) => peer.onStatus((status) => listener(keeperStatus(status))),
    ...(peer.board === undefined ? {} : { board: peer.board }),
    ...recoverOf(peer),
    release: releaseOnce(rooms, key, joined, () => peer.leave()),
  };
}
