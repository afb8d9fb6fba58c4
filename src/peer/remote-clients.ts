/**
 * The serving side of client-only attachments (`Keeper.join({ replica: false })`): a serving peer
 * answers the client protocol (client-wire.ts) for the room's clients, calling its own
 * RemoteServingApi on their behalf — ZooKeeper's server end of a client connection.
 *
 * - Sessions opened here are movable (OpenSessionOptions.movable): the leader never closes them
 *   because this peer departs; their clients move them to another serving peer (RESUME) and
 *   the new peer pings them from then on.
 * - ORDER: every reply, event and state leaves from the peer's own callbacks, which run in the
 *   order the serving contract gives (an event before any later result reflecting its change), on
 *   one ordered channel per client. Each reply carries the replica's applied index (zxid), the
 *   client's lastZxidSeen for a later RESUME.
 * - A session is answered only for the client that opened or resumed it here; anything else about
 *   it is refused with CONNECTIONLOSS (the client then resumes properly).
 * - Liveness: a client pings every third of its session timeout; one silent for half of its
 *   shortest session timeout (or whose channel closed, or that left the room) loses its sessions
 *   here — detached, not closed — so they expire unless the client resumes them elsewhere.
 * - Leaving gracefully (`leaving()`): every client hears LEAVING and moves at once; this peer
 *   then refuses opens and resumes, and Peer.leave lets its movable sessions go without closing them.
 * Malformed or oversize messages are dropped and counted by reason; nothing here throws on input.
 */

import type { PeerId } from '../core/consensus/index.js';
import type { SessionId } from '../core/tree/types.js';
import { decodeClientMessage, encodePeerMessage, type ClientMessage, type PeerMessage } from './client-wire.js';
import type { Cancel, Clock } from './interfaces.js';
import type { RemoteServingApi, SessionListener, SessionResult } from './serving-api.js';

/** The most clients one peer answers at once (the relay's room cap is 64 participants; this is
 *  far above it, and bounds the table if a room's cap grows). */
export const REMOTE_CLIENTS_MAX = 1024;
/** The most sessions one client holds on one peer (a process of many Keepers shares one client);
 *  the peer's own LOCAL_SESSIONS_MAX bounds the total. */
export const REMOTE_SESSIONS_PER_CLIENT_MAX = 1024;
/** How often silent clients are looked for: a quarter of the shortest session timeout (4 s). */
export const REMOTE_CLIENTS_CHECK_MS = 1_000;
/** A client silent for this fraction of its shortest session timeout loses its sessions here:
 *  it pings every third of the timeout, so this is one and a half missed pings. */
export const REMOTE_CLIENT_SILENCE_FRACTION = 0.5;

/** A client holding no session here is forgotten after this long without a message (it says
 *  hello again when it needs this peer): keeps the table to the clients that matter. */
export const REMOTE_CLIENT_IDLE_FORGET_MS = 60_000;

export type RemoteClientsDropReason = 'oversize' | 'malformed' | 'not-a-client-message' | 'full';

export interface RemoteClientsStats {
  received: number;
  sent: number;
  opened: number;
  resumed: number;
  detached: number;
  dropped: Record<RemoteClientsDropReason, number>;
}

interface RemoteClient {
  readonly id: PeerId;
  lastHeardAt: number;
  /** Sessions served here for it, with their timeouts. */
  readonly sessions: Map<SessionId, number>;
}

export interface RemoteClientsOptions {
  readonly serving: RemoteServingApi;
  /** Sends one client-wire message to a client (the platform adds the channel byte). */
  readonly send: (to: PeerId, bytes: Uint8Array) => void;
  readonly clock: Clock;
}

export class RemoteClients {
  private readonly clients = new Map<PeerId, RemoteClient>();
  private readonly owners = new Map<SessionId, PeerId>();
  private leavingNow = false;
  private closed = false;
  private timer: Cancel | null = null;
  private readonly counters: RemoteClientsStats = {
    received: 0,
    sent: 0,
    opened: 0,
    resumed: 0,
    detached: 0,
    dropped: { oversize: 0, malformed: 0, 'not-a-client-message': 0, full: 0 },
  };

  constructor(private readonly options: RemoteClientsOptions) {
    this.schedule();
  }

  stats(): RemoteClientsStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** The clients with a session here, and their sessions (tests, diagnosis). */
  sessionsByClient(): Map<PeerId, SessionId[]> {
    const out = new Map<PeerId, SessionId[]>();
    for (const client of this.clients.values()) if (client.sessions.size > 0) out.set(client.id, [...client.sessions.keys()]);
    return out;
  }

  /** One message on the client channel. */
  receive(from: PeerId, bytes: Uint8Array): void {
    if (this.closed) return;
    const decoded = decodeClientMessage(bytes);
    if (!decoded.ok) {
      this.counters.dropped[decoded.reason] += 1;
      return;
    }
    this.counters.received += 1;
    const client = this.client(from);
    if (client === null) return;
    client.lastHeardAt = this.options.clock.now();
    this.dispatch(client, decoded.message);
  }

  /** The client left the room or its channel closed: its sessions here are let go (not closed). */
  clientGone(id: PeerId): void {
    const client = this.clients.get(id);
    if (client === undefined) return;
    this.clients.delete(id);
    for (const sessionId of client.sessions.keys()) this.detach(sessionId);
  }

  /** The mesh's open channels changed: clients whose channel closed lose their sessions here. */
  channelsChanged(connected: readonly PeerId[]): void {
    const open = new Set(connected);
    for (const id of [...this.clients.keys()]) if (!open.has(id)) this.clientGone(id);
  }

  /** This peer leaves: every client moves at once; opens and resumes are refused from now on. */
  leaving(): void {
    if (this.leavingNow) return;
    this.leavingNow = true;
    for (const client of this.clients.values()) this.send(client.id, { kind: 'leaving' });
  }

  close(): void {
    this.closed = true;
    this.timer?.();
    this.timer = null;
  }

  private client(id: PeerId): RemoteClient | null {
    const known = this.clients.get(id);
    if (known !== undefined) return known;
    if (this.clients.size >= REMOTE_CLIENTS_MAX) {
      this.counters.dropped.full += 1;
      return null;
    }
    const client: RemoteClient = { id, lastHeardAt: this.options.clock.now(), sessions: new Map() };
    this.clients.set(id, client);
    return client;
  }

  private dispatch(client: RemoteClient, message: ClientMessage): void {
    switch (message.kind) {
      case 'hello':
        if (!this.leavingNow) this.send(client.id, { kind: 'serving' });
        return;
      case 'ping':
        return this.send(client.id, { kind: 'pong' });
      case 'open':
        return this.open(client, message.tag, message.timeoutMs);
      case 'resume':
        return this.resume(client, message);
      case 'auth':
        if (this.owners.get(message.sessionId) === client.id) this.options.serving.addAuth(message.sessionId, message.id);
        return;
      case 'request':
        return this.request(client, message.sessionId, message.xid, message);
      case 'close':
        return this.request(client, message.sessionId, message.xid, null);
    }
  }

  private listener(client: RemoteClient, sessionId: () => SessionId | null): SessionListener {
    return {
      event: (event) => {
        const id = sessionId();
        if (id !== null && this.owners.get(id) === client.id) this.send(client.id, { kind: 'event', sessionId: id, type: event.type, path: event.path, zxid: event.zxid });
      },
      state: (state) => {
        const id = sessionId();
        if (id === null || this.owners.get(id) !== client.id) return;
        this.send(client.id, { kind: 'state', sessionId: id, state });
        if (state === 'closed' || state === 'expired') this.forget(id);
      },
    };
  }

  private refuseFull(client: RemoteClient, tag: number): boolean {
    if (this.leavingNow) {
      this.send(client.id, { kind: 'refused', tag, code: 'CONNECTIONLOSS', reason: 'this peer is leaving' });
      return true;
    }
    if (client.sessions.size >= REMOTE_SESSIONS_PER_CLIENT_MAX) {
      this.send(client.id, { kind: 'refused', tag, code: 'QUOTAEXCEEDED', reason: `a client holds at most ${REMOTE_SESSIONS_PER_CLIENT_MAX} sessions on one peer` });
      return true;
    }
    return false;
  }

  private open(client: RemoteClient, tag: number, timeoutMs: number): void {
    if (this.refuseFull(client, tag)) return;
    let opened: SessionId | null = null;
    this.options.serving.openSession({ timeoutMs, listener: this.listener(client, () => opened), movable: true }, (result) => {
      if (!result.ok) return this.send(client.id, { kind: 'refused', tag, code: result.code, reason: null });
      const { sessionId } = result.session;
      if (this.clients.get(client.id) !== client) return this.options.serving.detachSession(sessionId); // it went meanwhile
      opened = sessionId;
      this.own(client, sessionId, result.session.timeoutMs);
      this.counters.opened += 1;
      this.send(client.id, { kind: 'opened', tag, sessionId, timeoutMs: result.session.timeoutMs, zxid: this.options.serving.appliedIndex() });
    });
  }

  private resume(client: RemoteClient, message: Extract<ClientMessage, { kind: 'resume' }>): void {
    if (this.refuseFull(client, message.tag)) return;
    const previous = this.owners.get(message.sessionId);
    if (previous !== undefined && previous !== client.id) this.clients.get(previous)?.sessions.delete(message.sessionId);
    this.owners.delete(message.sessionId);
    // Owned from the start, so the events resumeSession fires before `done` reach the client.
    this.own(client, message.sessionId, 0);
    const sessionId = message.sessionId;
    this.options.serving.resumeSession(sessionId, { listener: this.listener(client, () => sessionId), lastZxid: message.lastZxid, watches: message.watches }, (result) => {
      if (!result.ok) {
        this.forget(sessionId);
        return this.send(client.id, { kind: 'refused', tag: message.tag, code: result.code, reason: result.reason ?? null });
      }
      if (this.clients.get(client.id) !== client) return this.options.serving.detachSession(sessionId);
      for (const id of message.auth) this.options.serving.addAuth(sessionId, id);
      client.sessions.set(sessionId, result.session.timeoutMs);
      this.counters.resumed += 1;
      this.send(client.id, { kind: 'resumed', tag: message.tag, sessionId, timeoutMs: result.session.timeoutMs, zxid: this.options.serving.appliedIndex() });
    });
  }

  /** A request (or, with `request` null, a close) of a session this client holds here. */
  private request(client: RemoteClient, sessionId: SessionId, xid: number, request: Extract<ClientMessage, { kind: 'request' }> | null): void {
    const reply = (result: SessionResult): void => {
      this.send(client.id, { kind: 'result', sessionId, xid, zxid: this.options.serving.appliedIndex(), result });
    };
    if (this.owners.get(sessionId) !== client.id) {
      reply({ ok: false, code: 'CONNECTIONLOSS', reason: 'this peer does not serve the session for this client' });
      return;
    }
    if (request !== null) return this.options.serving.submit(sessionId, request.request, reply);
    this.options.serving.closeSession(sessionId, (result) => reply(result.ok ? { ok: true, op: 'closeSession' } : { ok: false, code: result.code }));
  }

  private own(client: RemoteClient, sessionId: SessionId, timeoutMs: number): void {
    this.owners.set(sessionId, client.id);
    client.sessions.set(sessionId, timeoutMs);
  }

  private forget(sessionId: SessionId): void {
    const owner = this.owners.get(sessionId);
    if (owner === undefined) return;
    this.owners.delete(sessionId);
    this.clients.get(owner)?.sessions.delete(sessionId);
  }

  private detach(sessionId: SessionId): void {
    this.owners.delete(sessionId);
    this.counters.detached += 1;
    this.options.serving.detachSession(sessionId);
  }

  private send(to: PeerId, message: PeerMessage): void {
    if (this.closed) return;
    this.counters.sent += 1;
    this.options.send(to, encodePeerMessage(message));
  }

  private schedule(): void {
    this.timer = this.options.clock.after(REMOTE_CLIENTS_CHECK_MS, () => {
      if (this.closed) return;
      this.checkSilence();
      this.schedule();
    });
  }

  /** Clients silent past their limit lose their sessions here (detached: they expire unless resumed). */
  private checkSilence(): void {
    const now = this.options.clock.now();
    for (const client of [...this.clients.values()]) {
      let shortest = Number.POSITIVE_INFINITY;
      for (const timeoutMs of client.sessions.values()) if (timeoutMs > 0) shortest = Math.min(shortest, timeoutMs);
      if (client.sessions.size === 0) {
        // Nothing held here: forget it after a while (bounded table), it says hello again.
        if (now - client.lastHeardAt > REMOTE_CLIENT_IDLE_FORGET_MS) this.clients.delete(client.id);
        continue;
      }
      if (shortest === Number.POSITIVE_INFINITY || now - client.lastHeardAt <= shortest * REMOTE_CLIENT_SILENCE_FRACTION) continue;
      this.clientGone(client.id);
    }
  }
}
