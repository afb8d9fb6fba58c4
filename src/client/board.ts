/**
 * The cluster status board as a Keeper shows it (`keeper.board()`): every peer of the room, as that
 * peer last published itself (platform/status-board.ts: a y-protocols Awareness state replicated
 * over the room's mesh). For display and diagnosis only: values are sampled up to a publish
 * interval apart on different peers, and nothing safe reads them.
 */

import type { KeeperStatus } from './types.js';

/** 'tab': a browser tab running the app or a page's Keeper; 'edge': a Node process. */
export type PeerKind = 'tab' | 'edge';

/** One peer's row of the board. */
export interface BoardPeer {
  readonly peerId: string;
  readonly kind: PeerKind;
  readonly role: KeeperStatus['role'];
  readonly term: number;
  readonly leaderId: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** The last index of the peer's log (committed or not). */
  readonly lastIndex: number;
  /** Entries committed but not applied yet on that peer (commitIndex - appliedIndex). */
  readonly lag: number;
  /** Sessions the peer serves. */
  readonly sessions: number;
  /** The peer leads or hears from a leader. */
  readonly quorum: boolean;
  /** The voters of the configuration the peer knows. */
  readonly voters: readonly string[];
  /** How many observers (learners) that configuration has. */
  readonly observers: number;
  /** Ms since the peer last heard from its leader, as of now (0 for a leader; null: never). */
  readonly heartbeatAgeMs: number | null;
  /** Ms since this board received the peer's state (0 for this peer). */
  readonly updatedAgeMs: number;
  /** This process's own peer. */
  readonly self: boolean;
  /** How many times an operator ran the unsafe "recover from this peer" on it (0 or absent: never). */
  readonly unsafeRecoveries?: number;
}

/** A read-only view of the board. */
export interface StatusBoard {
  /** This process's peer id. */
  readonly self: string;
  /** Every peer with a state on the board, this one included, sorted by id. */
  peers(): BoardPeer[];
  /** Calls `listener` after the board changed (a state added, updated or removed); returns the
   *  unsubscribe function. States are republished every second, so expect about one call per
   *  peer per second. */
  onChange(listener: () => void): () => void;
}
