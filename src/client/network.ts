/**
 * Joining over a relay (API.md): this process — a Node edge peer or a browser tab — runs one peer
 * of the room's ensemble, and each Keeper that joins the room opens its session on that peer (as
 * the standalone ensemble shares its peer). The peer leaves the room gracefully once the last
 * Keeper of the room has closed.
 *
 * The platform pieces (WebSocket, WebRTC, storage) differ between Node and browsers and must not
 * be bundled into the other, so each platform's entry module (src/node.ts, src/browser.ts)
 * registers a NetworkRuntime; this module only shares peers between Keepers.
 */

import { KeeperError } from '../core/errors.js';
import type { PeerStatus } from '../peer/peer.js';
import type { ServingApi } from '../peer/serving-api.js';
import type { KeeperHost } from './host.js';
import type { NetworkPlan } from './options.js';
import { keeperStatus } from './standalone.js';

/** A running peer of a networked ensemble, as the Keepers of this process share it. */
export interface NetworkedPeer {
  readonly serving: ServingApi;
  status(): PeerStatus;
  onStatus(listener: (status: PeerStatus) => void): () => void;
  /** Leaves gracefully (sessions closed, leadership handed off), then closes transport and storage. */
  leave(): Promise<void>;
}

export interface NetworkRuntime {
  /** Starts this process's peer of `plan.room`, met through `plan.relay`. */
  startPeer(plan: NetworkPlan): Promise<NetworkedPeer>;
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
    release: async () => undefined,
  };
}

interface Room {
  readonly secret: string | undefined;
  readonly storage: string;
  readonly peer: Promise<NetworkedPeer>;
  keepers: number;
}

const rooms = new Map<string, Room>();

export async function joinNetwork(plan: NetworkPlan): Promise<KeeperHost> {
  const started = runtime;
  if (started === null) {
    throw new KeeperError('UNIMPLEMENTED', "joining over a relay needs meshkeeper's platform entry: import from 'meshkeeper' (it resolves to the Node or browser entry), not from its source files");
  }
  const key = `${plan.relay}\n${plan.room}`;
  let room = rooms.get(key);
  if (room !== undefined && room.secret !== plan.secret) {
    throw new KeeperError('AUTHFAILED', `join: room ${JSON.stringify(plan.room)} is joined by this process with a different secret`);
  }
  if (room !== undefined && room.storage !== plan.storage) {
    throw new KeeperError('BADARGUMENTS', `join: room ${JSON.stringify(plan.room)} is joined by this process with storage ${room.storage}`);
  }
  if (room === undefined) {
    const peer = started.startPeer(plan);
    const fresh: Room = { secret: plan.secret, storage: plan.storage, peer, keepers: 0 };
    rooms.set(key, fresh);
    peer.catch(() => {
      if (rooms.get(key) === fresh) rooms.delete(key);
    });
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
  let released = false;
  return {
    serving: peer.serving,
    status: () => keeperStatus(peer.status()),
    onStatus: (listener) => peer.onStatus((status) => listener(keeperStatus(status))),
    release: async () => {
      if (released) return;
      released = true;
      joined.keepers -= 1;
      if (joined.keepers > 0) return;
      if (rooms.get(key) === joined) rooms.delete(key);
      await peer.leave();
    },
  };
}
