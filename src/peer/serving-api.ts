/**
 * The contract between the client (`Keeper`, src/client) and the peer that serves its session
 * (src/peer). In ZooKeeper terms: what a client connection asks of the server it is connected to.
 * Callback style (the runtime stays free of promises so the simulator replays it exactly); the
 * client wraps it in the promise API of API.md.
 *
 * Guarantees the serving peer gives (ZooKeeper's, API.md):
 * - one session's requests complete (`done` is called) in the order they were submitted, and take
 *   effect in that order;
 * - a watch event for a session is delivered (listener.event) before the `done` of any later
 *   request whose result reflects the change, and events arrive in zxid order;
 * - a write's `done` carries CONNECTIONLOSS when its outcome is unknown (it may or may not have
 *   been committed), SESSIONEXPIRED once the session is gone; any other failure had no effect.
 */

import type { FailureName } from '../core/errors.js';
import type { Id, PersistentWatchMode, ReadResult, Request, RemoveWatchKind, WatchEvent, WriteResult } from '../core/tree/types.js';

export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface SessionListener {
  /** Watch events for this session (server-side watcher id = the session id), in zxid order. */
  event(event: WatchEvent): void;
  state(state: SessionState): void;
}

export interface LocalSession {
  readonly sessionId: string;
  /** Negotiated within ZooKeeper's bounds: 2 to 20 session ticks. */
  readonly timeoutMs: number;
}

/** Requests that live only at the serving peer (ZooKeeper's addWatch / removeWatches). */
export interface AddWatchRequest {
  op: 'addWatch';
  path: string;
  mode: PersistentWatchMode;
}
export interface RemoveWatchesRequest {
  op: 'removeWatches';
  path: string;
  kind: RemoveWatchKind;
}

export type SessionRequest = Request | AddWatchRequest | RemoveWatchesRequest;

export type SessionResult =
  | WriteResult
  | ReadResult
  | { ok: true; op: 'addWatch' | 'removeWatches' }
  /** `reason` says why in words when the peer knows more than the code (e.g. CONNECTIONLOSS
   *  because the ensemble has no quorum); for the client's error message, never for decisions. */
  | { ok: false; code: FailureName; path?: string; reason?: string };

export type Done<T> = (result: T) => void;

export interface OpenSessionOptions {
  timeoutMs: number;
  listener: SessionListener;
  /** A session of a client-only attachment (remote-clients.ts): it may move to another serving
   *  peer, so the leader never closes it when this peer departs; it only expires when silent past
   *  its timeout. Marked in its createSession record (record.ts MOVABLE_REQUEST_MARK). */
  movable?: boolean;
}

/** A watch a moving client held on its previous serving peer (ZooKeeper's SetWatches): `data` a
 *  getData (or exists on an existing node) one-shot, `exist` an exists one-shot on a missing node,
 *  `child` a getChildren one-shot, `persistent` / `recursive` addWatch registrations. */
export interface ResumeWatch {
  path: string;
  data: boolean;
  exist: boolean;
  child: boolean;
  persistent: boolean;
  recursive: boolean;
}

export interface ResumeOptions {
  listener: SessionListener;
  /** The last zxid the client has seen (ZooKeeper's lastZxidSeen): a peer behind it refuses
   *  (CONNECTIONLOSS), and watches fire at once for changes after it. */
  lastZxid: number;
  watches: readonly ResumeWatch[];
}

export interface ServingApi {
  readonly peerId: string;
  /** Opens a session: a createSession txn through the leader; `done` once applied here. */
  openSession(options: OpenSessionOptions, done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName }>): void;
  /** Closes a session: a closeSession txn (its ephemerals go at once, on every replica). */
  closeSession(sessionId: string, done: Done<{ ok: true } | { ok: false; code: FailureName }>): void;
  /** Adds an authenticated identity to the session (ZooKeeper's addAuthInfo, digest computed by the client). */
  addAuth(sessionId: string, id: Id): void;
  /** One request of a session (see the guarantees above). Reads with `watch: true` register the
   *  watch server-side exactly when ZooKeeper would. */
  submit(sessionId: string, request: SessionRequest, done: Done<SessionResult>): void;
}

/** What a serving peer offers remote clients (client-only attachments, remote-clients.ts) beyond
 *  the ServingApi: taking over a movable session another peer served, and letting one go. */
export interface RemoteServingApi extends ServingApi {
  /** Serves an existing session here (a client moving in): SESSIONEXPIRED if the ensemble no
   *  longer has it, CONNECTIONLOSS if this replica is behind `lastZxid`. Watches are set again,
   *  their events for changes after `lastZxid` delivered before `done`; the leader is pinged at once. */
  resumeSession(sessionId: string, options: ResumeOptions, done: Done<{ ok: true; session: LocalSession } | { ok: false; code: FailureName; reason?: string }>): void;
  /** Stops serving a session WITHOUT closing it (its client moves away, or went silent): its
   *  requests still queued fail with CONNECTIONLOSS, its watches here go, no more pings. */
  detachSession(sessionId: string): void;
  /** Sessions served here for remote clients. */
  movableSessionIds(): string[];
  /** The local replica's applied index (the zxid a reply reflects: ZooKeeper's ReplyHeader.zxid). */
  appliedIndex(): number;
}
