/**
 * What a Keeper needs of the peer that serves its session: the serving contract (ServingApi), the
 * peer's status for `keeper.status()`, and a release hook the Keeper calls once when its session
 * has ended (closed or expired), so a standalone ensemble stops when its last Keeper leaves.
 */

import type { UnsafeRecoverOptions } from '../peer/peer.js';
import type { ServingApi } from '../peer/serving-api.js';
import type { StatusBoard } from './board.js';
import type { KeeperStatus, UnsafeRecoverSummary } from './types.js';

export interface KeeperHost {
  readonly serving: ServingApi;
  status(): KeeperStatus;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: KeeperStatus) => void): () => void;
  /** The room's status board, when the peer publishes to one (networked peers). */
  readonly board?: StatusBoard;
  /** UNSAFE (Keeper.unsafeRecoverFromThisPeer): where the serving peer is a networked replica.
   *  Rejects with a KeeperError when the peer refuses. */
  unsafeRecover?(options?: UnsafeRecoverOptions): Promise<UnsafeRecoverSummary>;
  /** Called once, after the Keeper's session ended. */
  release(): Promise<void>;
}
