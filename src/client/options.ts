/**
 * Keeper.join's options (API.md, "Joining an ensemble"), checked in full before anything starts:
 * an unknown option, a wrong type or a value out of bounds is BADARGUMENTS naming the option; a
 * valid combination that a later piece of work brings is UNIMPLEMENTED naming that piece.
 *
 * Three kinds of join exist: over a relay (a networked peer in this process or tab, meeting the
 * room's other peers through the relay and talking to them over WebRTC); without a relay in a
 * browser, the tabs of this browser profile (a peer in this tab, meeting the profile's other tabs
 * over BroadcastChannel, no server at all); and the standalone ensemble — no relay, in Node,
 * storage 'memory' — one voter in this process. All run the same peer runtime.
 */

import { KeeperError } from '../core/errors.js';
import {
  REQUEST_TIMEOUT_MS_MAX,
  ROOM_NAME_CHARS_MAX,
  ROOM_SECRET_CHARS_MAX,
  SESSION_TIMEOUT_MS_DEFAULT,
  SESSION_TIMEOUT_MS_MAX,
  SESSION_TIMEOUT_MS_MIN,
  VOTERS_DEFAULT,
  VOTERS_MAX,
} from './limits.js';
import { badArgument, checkOptions } from './validate.js';

export type StorageOption = 'indexeddb' | 'memory' | `file:${string}`;

export interface JoinOptions {
  /** The signaling relay's URL (ws:// or wss://). Without it the ensemble is local. */
  relay?: string;
  /** The ensemble's name. Defaults to 'meshkeeper'. */
  room?: string;
  /** A shared room secret peers prove to each other. */
  secret?: string;
  /** Where the peer keeps its replica: 'indexeddb' (browser default), 'file:<dir>' (Node
   *  default) or 'memory'. */
  storage?: StorageOption;
  /** The target number of voting members: odd, 1 to 7, default 3. */
  voters?: number;
  /** The session timeout: ZooKeeper's bounds, 2 to 20 ticks of 2 s (4,000 to 40,000 ms). Default
   *  10,000. */
  sessionTimeoutMs?: number;
  /** A client-side bound on each call: a call not answered within it fails with OPERATIONTIMEOUT
   *  (outcome unknown). Off by default, as ZooKeeper's zookeeper.request.timeout. */
  requestTimeoutMs?: number;
  /** false: a client-only attachment — this process runs no replica and never joins the ensemble;
   *  its session is served by one of the room's serving peers, chosen by rendezvous hashing, and
   *  moves to another when that peer goes. Needs `relay`; `storage` and `voters` do not apply.
   *  Default true. */
  replica?: boolean;
}

const KNOWN_OPTIONS = ['relay', 'room', 'secret', 'storage', 'voters', 'sessionTimeoutMs', 'requestTimeoutMs', 'replica'] as const;

export const ROOM_DEFAULT = 'meshkeeper';

/** How to join, once the options are checked. */
export type JoinPlan = StandalonePlan | NetworkPlan | TabsPlan | ClientPlan;

/** Over a relay without a replica (`replica: false`): a client-only attachment of the room. */
export interface ClientPlan {
  kind: 'client';
  relay: string;
  room: string;
  secret: string | undefined;
  sessionTimeoutMs: number;
  /** 0 when off. */
  requestTimeoutMs: number;
}

/** Over a relay: this process (tab) runs a peer of the room's ensemble. */
export interface NetworkPlan {
  kind: 'network';
  relay: string;
  room: string;
  secret: string | undefined;
  storage: StorageOption;
  voters: number;
  sessionTimeoutMs: number;
  /** 0 when off. */
  requestTimeoutMs: number;
}

/** No relay, in a browser: this tab runs a peer of the ensemble of this profile's tabs, which
 *  meet over BroadcastChannel (API.md: "Without relay the ensemble is local"). */
export interface TabsPlan {
  kind: 'tabs';
  room: string;
  secret: string | undefined;
  storage: StorageOption;
  voters: number;
  sessionTimeoutMs: number;
  /** 0 when off. */
  requestTimeoutMs: number;
}

export interface StandalonePlan {
  kind: 'standalone';
  room: string;
  secret: string | undefined;
  voters: number;
  sessionTimeoutMs: number;
  /** 0 when off. */
  requestTimeoutMs: number;
}

export interface Platform {
  /** True in Node (the standalone ensemble and file storage are Node's). */
  node: boolean;
}

export function currentPlatform(): Platform {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return { node: typeof process?.versions?.node === 'string' };
}

/** The pieces of work that bring the other ways to join; named in UNIMPLEMENTED errors. */
export const NOT_YET = {
  tabsClient: "a client-only attachment (replica: false) without a relay would attach to this profile's tabs; only attachments over a relay exist today: pass a relay URL",
  standaloneStorage: "a standalone ensemble (no relay) keeps its replica in memory: pass storage: 'memory', or a relay URL to join a networked ensemble with durable storage",
} as const;

export function planJoin(options: unknown, platform: Platform = currentPlatform()): JoinPlan {
  const given = checkOptions<JoinOptions>(options, KNOWN_OPTIONS, 'join');
  const relay = optionalString(given.relay, 'relay');
  if (relay !== undefined) checkRelayUrl(relay);
  const room = optionalString(given.room, 'room') ?? ROOM_DEFAULT;
  checkRoom(room);
  const secret = optionalString(given.secret, 'secret');
  if (secret !== undefined && (secret.length === 0 || secret.length > ROOM_SECRET_CHARS_MAX)) {
    throw badArgument(`secret must be 1 to ${ROOM_SECRET_CHARS_MAX} characters`);
  }
  const storage = checkStorage(given.storage, platform);
  const voters = integerOption(given.voters, 'voters', { min: 1, max: VOTERS_MAX }) ?? VOTERS_DEFAULT;
  if (voters % 2 === 0) throw badArgument(`voters must be odd (a majority of an even count tolerates no more failures), got ${voters}`);
  const sessionTimeoutMs =
    integerOption(given.sessionTimeoutMs, 'sessionTimeoutMs', { min: SESSION_TIMEOUT_MS_MIN, max: SESSION_TIMEOUT_MS_MAX }) ?? SESSION_TIMEOUT_MS_DEFAULT;
  const requestTimeoutMs = integerOption(given.requestTimeoutMs, 'requestTimeoutMs', { min: 1, max: REQUEST_TIMEOUT_MS_MAX }) ?? 0;
  if (given.replica !== undefined && typeof given.replica !== 'boolean') throw badArgument(`replica must be a boolean, got ${typeof given.replica}`);
  if (given.replica === false) {
    if (given.storage !== undefined) throw badArgument('storage does not apply with replica: false (a client-only attachment keeps no replica)');
    if (given.voters !== undefined) throw badArgument('voters does not apply with replica: false (a client-only attachment never votes)');
    if (relay !== undefined) return { kind: 'client', relay, room, secret, sessionTimeoutMs, requestTimeoutMs };
    if (!platform.node) throw new KeeperError('UNIMPLEMENTED', NOT_YET.tabsClient);
    throw badArgument('replica: false needs a relay (a client-only attachment is served by the peers of a room)');
  }

  if (storage === 'indexeddb' && platform.node) throw badArgument("storage 'indexeddb' is for browsers; a Node peer keeps its replica in 'file:<dir>' or 'memory'");
  if (relay !== undefined) return { kind: 'network', relay, room, secret, storage, voters, sessionTimeoutMs, requestTimeoutMs };
  if (!platform.node) return { kind: 'tabs', room, secret, storage, voters, sessionTimeoutMs, requestTimeoutMs };
  if (storage !== 'memory') throw new KeeperError('UNIMPLEMENTED', NOT_YET.standaloneStorage);
  return { kind: 'standalone', room, secret, voters, sessionTimeoutMs, requestTimeoutMs };
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badArgument(`${name} must be a string, got ${typeof value}`);
  return value;
}

function integerOption(value: unknown, name: string, bounds: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badArgument(`${name} must be an integer, got ${String(value)}`);
  if (value < bounds.min || value > bounds.max) {
    throw badArgument(`${name} must be between ${bounds.min} and ${bounds.max}, got ${value}`);
  }
  return value;
}

function checkRelayUrl(relay: string): void {
  let url: URL;
  try {
    url = new URL(relay);
  } catch {
    throw badArgument(`relay must be a ws:// or wss:// URL, got ${JSON.stringify(relay)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw badArgument(`relay must be a ws:// or wss:// URL, got ${JSON.stringify(relay)}`);
}

function checkRoom(room: string): void {
  if (room.length === 0 || room.length > ROOM_NAME_CHARS_MAX) throw badArgument(`room must be 1 to ${ROOM_NAME_CHARS_MAX} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(room)) throw badArgument('room must not contain control characters');
}

function checkStorage(storage: unknown, platform: Platform): StorageOption {
  if (storage === undefined) return platform.node ? 'file:./meshkeeper-data' : 'indexeddb';
  if (storage === 'memory' || storage === 'indexeddb') return storage;
  if (typeof storage === 'string' && storage.startsWith('file:')) {
    if (storage.length === 'file:'.length) throw badArgument("storage 'file:<dir>' needs a directory after file:");
    if (!platform.node) throw badArgument("storage 'file:<dir>' is for Node peers; a browser keeps its replica in 'indexeddb'");
    return storage as StorageOption;
  }
  throw badArgument(`storage must be 'indexeddb', 'memory' or 'file:<dir>', got ${JSON.stringify(storage)}`);
}
