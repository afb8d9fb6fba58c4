/**
 * The public vocabulary of the client (API.md, "Data calls"): what a `Keeper` takes and returns.
 * The data model's own types (Stat, ACL, Id, CreateMode, OpResult) are the tree's, re-exported
 * unchanged, so a result the peer computes reaches the user without translation.
 */

import type { ACL, CreateMode, Stat, WatchEventType } from '../core/tree/types.js';

export type { ACL, CreateMode, Id, OpResult, Stat, WatchEventType } from '../core/tree/types.js';
export { CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, Perms, READ_ACL_UNSAFE } from '../core/tree/types.js';

/** A znode's value as the caller gives it: bytes, or a string stored as UTF-8. */
export type Data = Uint8Array | string;

/** What a watcher is told (API.md): the kind of change and the znode it happened to. */
export interface WatchedEvent {
  type: WatchEventType;
  path: string;
}

/** A watch callback. The same function registered twice for one path and kind is called once per
 *  event (ZooKeeper's ZKWatchManager keeps Sets of watchers). */
export type Watcher = (event: WatchedEvent) => void;

/** addWatch's modes (ZooKeeper's AddWatchMode). */
export type AddWatchMode = 'persistent' | 'persistent_recursive';

export interface CreateOptions {
  /** Defaults to 'persistent'. */
  mode?: CreateMode;
  /** Required for the TTL modes (0 < ttlMs <= TTL_MS_MAX), refused for every other mode. */
  ttlMs?: number;
  /** Defaults to OPEN_ACL_UNSAFE. An empty list is INVALIDACL. */
  acl?: readonly ACL[];
}

export interface WatchOptions {
  watch?: Watcher;
}

/** One operation of a multi (ZooKeeper's Op.create / delete / setData / check). */
export type Op =
  | { op: 'create'; path: string; data?: Data; mode?: CreateMode; ttlMs?: number; acl?: readonly ACL[] }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Data; version?: number }
  | { op: 'check'; path: string; version: number };

/** getData's answer. */
export interface DataAndStat {
  data: Uint8Array;
  stat: Stat;
}

/** getACL's answer: the list, and the node's Stat (ZooKeeper fills a Stat argument). */
export interface AclAndStat {
  acl: ACL[];
  stat: Stat;
}

/** The states a session goes through (API.md). `expired` and `closed` are final. */
export type KeeperState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export type PeerRole = 'leader' | 'follower' | 'candidate' | 'observer';

/** The serving peer's view of the ensemble (API.md `keeper.status()`); for display and
 *  diagnosis only. */
export interface KeeperStatus {
  peerId: string;
  role: PeerRole;
  term: number;
  leaderId: string | null;
  commitIndex: number;
  appliedIndex: number;
  voters: string[];
  observers: string[];
  quorum: boolean;
  /** Two or more voters share one failure domain (a browser profile's tabs: one machine, one
   *  disk), so that domain going down takes them all; the leader spreads voters over domains when
   *  peers of other domains (other devices, edge peers) are there to take a vote. */
  votersShareDomain: boolean;
  /** A client-only attachment (`replica: false`) only: the serving peer its session is on now
   *  (null while the session moves). Such a Keeper runs no replica: `peerId` is its own id, `role`
   *  'observer', the indexes 0 and the lists empty; `quorum` says whether a serving peer holds it. */
  servingPeerId?: string | null;
  /** Unsafe recoveries run on the serving peer (keeper.unsafeRecoverFromThisPeer); absent where
   *  there is no replica. */
  unsafeRecoveries?: number;
}

/** What keeper.unsafeRecoverFromThisPeer did: the index the peer kept (its applied state), how
 *  many entries of its log beyond it were dropped, and the term it campaigns in. */
export interface UnsafeRecoverSummary {
  appliedIndex: number;
  droppedEntries: number;
  term: number;
}

/** Events a Keeper emits through `on`. */
export interface KeeperEvents {
  state: KeeperState;
  status: KeeperStatus;
}
