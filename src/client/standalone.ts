/**
 * The standalone ensemble (API.md: without a relay, in Node, "this process alone"): one voter in
 * this process, run by the peer runtime every ensemble uses (createStandalonePeer), with memory
 * storage. Keepers of one process that join the same room share its peer, each with its own
 * session — as the tabs of a browser profile share theirs — so tests can have several clients
 * on one ensemble. The peer stops when the last Keeper of its room has closed; with memory storage
 * its data goes with it.
 */

import { KeeperError } from '../core/errors.js';
import { createStandalonePeer, type PeerStatus, type StandalonePeer } from '../peer/index.js';
import type { KeeperHost } from './host.js';
import type { StandalonePlan } from './options.js';
import type { KeeperStatus } from './types.js';

interface Room {
  readonly secret: string | undefined;
  /** Settles once the peer runs (a second joiner may arrive while it starts). */
  readonly peer: Promise<StandalonePeer>;
  keepers: number;
}

const rooms = new Map<string, Room>();

/** Joins this process's ensemble for `plan.room`, starting it if no Keeper holds it. */
export async function joinStandalone(plan: StandalonePlan): Promise<KeeperHost> {
  let room = rooms.get(plan.room);
  if (room !== undefined && room.secret !== plan.secret) {
    throw new KeeperError('AUTHFAILED', `join: room ${JSON.stringify(plan.room)} runs in this process with a different secret`);
  }
  if (room === undefined) {
    const started = startPeer(plan);
    room = { secret: plan.secret, peer: started, keepers: 0 };
    rooms.set(plan.room, room);
    const joined = room;
    started.catch(() => {
      if (rooms.get(plan.room) === joined) rooms.delete(plan.room);
    });
  }
  room.keepers += 1;
  let peer: StandalonePeer;
  try {
    peer = await room.peer;
  } catch (error) {
    room.keepers -= 1;
    throw error;
  }
  return hostFor(plan.room, room, peer);
}

/** A one-voter peer with memory storage (it leads at once: sessions open without an election). */
async function startPeer(plan: StandalonePlan): Promise<StandalonePeer> {
  return createStandalonePeer({ room: plan.room, storage: 'memory', voters: plan.voters });
}

function hostFor(name: string, room: Room, peer: StandalonePeer): KeeperHost {
  let released = false;
  return {
    serving: peer,
    status: () => keeperStatus(peer.status()),
    onStatus: (listener) => peer.onStatus((status) => listener(keeperStatus(status))),
    release: async () => {
      if (released) return;
      released = true;
      room.keepers -= 1;
      if (room.keepers > 0) return;
      if (rooms.get(name) === room) rooms.delete(name);
      // Every Keeper of the room has closed its session by now, so nothing is left to hand off.
      peer.stop();
    },
  };
}

/** API.md's status fields (the runtime's counters stay with the runtime). */
export function keeperStatus(status: PeerStatus): KeeperStatus {
  return {
    peerId: status.peerId,
    role: status.role,
    term: status.term,
    leaderId: status.leaderId,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    voters: [...status.voters],
    observers: [...status.observers],
    quorum: status.quorum,
    votersShareDomain: status.votersShareDomain,
    unsafeRecoveries: status.counters.unsafeRecoveries,
  };
}

/** Rooms with a running standalone peer in this process (for tests and diagnostics). */
export function standaloneRooms(): string[] {
  return [...rooms.keys()].sort();
}
