/**
 * The data types of the Raft core: log entries, hard state, configurations, snapshots and the
 * results of the node's calls. Messages are in messages.ts. Everything here is plain data (no
 * classes), so the codec, storage adapters and the simulator can build and compare it freely.
 *
 * zxid = log index: every entry's `index` is its position in the one total order.
 */

/** A peer's identity: an opaque string of at most PEER_ID_BYTES_MAX UTF-8 bytes. */
export type PeerId = string;

/**
 * `normal`: an application command (a ZooKeeper txn). `noop`: the empty entry a new leader appends
 * at the start of its term (§6.4, and the config-change fix of Ongaro's 2015 raft-dev post).
 * `config`: a single-server membership change; its data is a ConfigEntry (see config.ts).
 */
export type EntryKind = 'normal' | 'config' | 'noop';

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** What must be durable before any message of the same Ready leaves the node (§3.8, Figure 3.1:
 *  "Persistent state on all servers: currentTerm, votedFor, log[]", plus the commit index so that
 *  a restart re-applies no less than it had). */
export interface HardState {
  readonly term: number;
  readonly vote: PeerId | null;
  readonly commit: number;
}

/** A membership configuration. Ids are sorted and disjoint; voters count toward quorums, learners
 *  (ZooKeeper's observers) only replicate. */
export interface Config {
  readonly voters: readonly PeerId[];
  readonly learners: readonly PeerId[];
}

export type ConfigChangeType = 'add-learner' | 'promote' | 'demote' | 'remove';

/** One single-server change (§4.1): add a learner, promote a learner to voter, demote a voter to
 *  learner, remove a member. A new voter is added as a learner first and promoted once caught up
 *  (§4.2.1), so that it never counts toward quorum while it has an empty log. */
export interface ConfigChange {
  readonly type: ConfigChangeType;
  readonly peer: PeerId;
}

/** The payload of a `config` entry: the change, and the whole configuration it produces (so that
 *  the configuration at any index is the latest entry's, even after truncation). */
export interface ConfigEntry {
  readonly change: ConfigChange;
  readonly config: Config;
}

/** What a snapshot stands for: the state after applying entries 1..index, of which entry `index`
 *  had term `term`, with `config` the configuration in force at `index`. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: Config;
}

/** A snapshot: meta plus the application's state-machine bytes (the serialized tree + sessions). */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state worth reporting when it changes (not persisted). */
export interface SoftState {
  readonly leader: PeerId | null;
  readonly role: Role;
}

/** A confirmed ReadIndex (§6.4): once the application has applied through `index`, a read issued
 *  with `requestId` may be served from the local state machine and is linearizable. */
export interface ReadState {
  readonly requestId: string;
  readonly index: number;
}

/** What a node loads from storage to restart (or to bootstrap, see RawNode.bootstrapState). */
export interface PersistedState {
  readonly hardState: HardState;
  /** The latest snapshot; at index 0 (with the bootstrap config, empty data) before any. */
  readonly snapshot: Snapshot;
  /** The log after the snapshot, in order. Entries at or below snapshot.meta.index are ignored. */
  readonly entries: readonly Entry[];
}

/** Why a call on the node was refused. Nothing changed when a call returns one of these. */
export type RefusalReason =
  | 'not-leader' // only the leader proposes; followers forward at the peer layer
  | 'no-leader' // a follower was asked to forward, but knows no leader in its term
  | 'transfer-in-progress' // §3.10: proposals stop while leadership moves
  | 'leader-not-voter' // a leader removed or demoted by the pending change steps down soon
  | 'entry-too-large' // data above ENTRY_DATA_BYTES_MAX
  | 'uncommitted-limit' // UNCOMMITTED_BYTES_MAX of this term's proposals wait for commit
  | 'config-change-pending' // §4.1: one change at a time
  | 'no-commit-in-term' // the 2015 fix: no change before the new leader's no-op commits
  | 'invalid-config-change' // the change does not apply to the current config
  | 'too-many-reads' // READ_REQUESTS_PENDING_MAX
  | 'not-a-voter' // transfer target is not a voter
  | 'already-compacted' // compact at or below the current snapshot
  | 'not-applied' // compact beyond the applied index
  | 'snapshot-too-large'; // SNAPSHOT_BYTES_MAX

export type Outcome = { readonly ok: true } | { readonly ok: false; readonly reason: RefusalReason };

export type ProposeOutcome =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: RefusalReason };
