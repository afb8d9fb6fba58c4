/**
 * A Signaling that remembers the room: it passes every room event (but those about peers it hides)
 * on to the one handler (the WebRTC mesh) and keeps the set of other peers in the room and whether
 * the first `list` came (and whether the relay flagged it as maybe incomplete: `settlingMs`). The
 * peer runtime reads it to decide how a fresh replica enters the ensemble (networked.ts) and whom
 * to ask to join through. Browser-safe.
 */

import type { PeerId } from '../core/consensus/index.js';
import type { RoomEvent, Signaling } from './signaling.js';

/** At most this many listeners wait for the first list (one per Keeper start; a leak beyond it is a bug). */
const LIST_LISTENERS_MAX = 64;

/** Called with the room's other peers once the first list came, and what is left then of the
 *  relay's settling grace (0: the relay called the list complete; signaling.ts `list`). */
export type ListedListener = (peers: readonly PeerId[], settlingMs: number) => void;

export class RoomView implements Signaling {
  readonly self: PeerId;
  readonly room: string;
  private readonly members = new Set<PeerId>();
  private listed = false;
  /** When the first list came (nowMs) and the settling grace it announced. */
  private listedAtMs = 0;
  private listedSettlingMs = 0;
  private handler: (event: RoomEvent) => void = () => undefined;
  private readonly listListeners: ListedListener[] = [];
  private changeListener: ((event: RoomEvent) => void) | null = null;

  /** `nowMs`: a monotonic clock, only to age the first list's settling grace for late listeners.
   *  `hidden`: peers this view leaves out entirely — their room events, signals and relayed
   *  messages never reach the mesh (a client-only attachment hides the room's other attachments). */
  constructor(
    private readonly inner: Signaling,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly hidden: (peer: PeerId) => boolean = () => false,
  ) {
    this.self = inner.self;
    this.room = inner.room;
    inner.onRoomEvent((event) => {
      if (event.type === 'list') this.onEvent({ ...event, peers: event.peers.filter((id) => !this.hidden(id)) });
      else if (!this.hidden(event.peer)) this.onEvent(event);
    });
  }

  private onEvent(event: RoomEvent): void {
    switch (event.type) {
      case 'list':
        this.members.clear();
        for (const peer of event.peers) if (peer !== this.self) this.members.add(peer);
        break;
      case 'joined':
        if (event.peer !== this.self) this.members.add(event.peer);
        break;
      case 'left':
        this.members.delete(event.peer);
        break;
    }
    this.handler(event);
    this.changeListener?.(event);
    if (event.type === 'list' && !this.listed) {
      this.listed = true;
      this.listedAtMs = this.nowMs();
      this.listedSettlingMs = event.settlingMs ?? 0;
      const peers = this.peers();
      for (const listener of this.listListeners.splice(0)) listener(peers, this.listedSettlingMs);
    }
  }

  /** The other peers in the room now, sorted. */
  peers(): PeerId[] {
    return [...this.members].sort();
  }

  /** Calls `listener` with the room's other peers once the first list has come (at once if it has,
   *  with the settling grace left now). */
  whenListed(listener: ListedListener): void {
    if (this.listed) return listener(this.peers(), Math.max(0, Math.ceil(this.listedAtMs + this.listedSettlingMs - this.nowMs())));
    if (this.listListeners.length >= LIST_LISTENERS_MAX) throw new Error(`RoomView: more than ${LIST_LISTENERS_MAX} waiting for the room list`);
    this.listListeners.push(listener);
  }

  onRoomEvent(handler: (event: RoomEvent) => void): void {
    this.handler = handler;
  }

  /** A second listener for room events, after the mesh's (the peer runtime: who left the room). */
  onRoomChange(listener: (event: RoomEvent) => void): void {
    this.changeListener = listener;
  }

  onSignal(handler: (from: PeerId, data: unknown) => void): void {
    this.inner.onSignal((from, data) => {
      if (!this.hidden(from)) handler(from, data);
    });
  }

  onRelayed(handler: (from: PeerId, bytes: Uint8Array) => void): void {
    this.inner.onRelayed((from, bytes) => {
      if (!this.hidden(from)) handler(from, bytes);
    });
  }

  start(): void {
    this.inner.start();
  }

  sendSignal(to: PeerId, data: unknown): void {
    this.inner.sendSignal(to, data);
  }

  sendRelayed(to: PeerId, bytes: Uint8Array): void {
    this.inner.sendRelayed(to, bytes);
  }

  close(): void {
    this.listListeners.length = 0;
    this.inner.close();
  }
}
