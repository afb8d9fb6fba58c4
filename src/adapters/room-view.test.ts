/**
 * RoomView (room-view.ts) hands the first list's settling grace (signaling.ts `list.settlingMs`) to
 * whoever waits for the list, aged by the time since it came for a late listener, and 0 for a
 * complete list: what networked.ts reads to decide whether an empty room may only look empty.
 * Hidden peers (a client-only attachment hides the other attachments) never reach the mesh.
 */

import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/consensus/index.js';
import { RoomView } from './room-view.js';
import type { RoomEvent, Signaling } from './signaling.js';

function fakeSignaling(): { signaling: Signaling; emit: (event: RoomEvent) => void; signal: (from: PeerId) => void; relay: (from: PeerId) => void } {
  let handler: (event: RoomEvent) => void = () => undefined;
  let onSignal: (from: PeerId, data: unknown) => void = () => undefined;
  let onRelayed: (from: PeerId, bytes: Uint8Array) => void = () => undefined;
  const signaling: Signaling = {
    self: 'self',
    room: 'demo',
    onRoomEvent: (next) => {
      handler = next;
    },
    onSignal: (next) => {
      onSignal = next;
    },
    onRelayed: (next) => {
      onRelayed = next;
    },
    start: () => undefined,
    sendSignal: () => undefined,
    sendRelayed: () => undefined,
    close: () => undefined,
  };
  return { signaling, emit: (event) => handler(event), signal: (from) => onSignal(from, {}), relay: (from) => onRelayed(from, new Uint8Array(1)) };
}

describe('RoomView and the relay settling grace', () => {
  it('passes the grace with the first list, and ages it for a listener that comes later', () => {
    let now = 1_000;
    const { signaling, emit } = fakeSignaling();
    const view = new RoomView(signaling, () => now);
    const early: Array<[readonly PeerId[], number]> = [];
    view.whenListed((peers, settlingMs) => early.push([peers, settlingMs]));
    emit({ type: 'list', peers: [], settlingMs: 12_000 });
    expect(early).toEqual([[[], 12_000]]);
    now += 5_000;
    const late: number[] = [];
    view.whenListed((_peers, settlingMs) => late.push(settlingMs));
    now += 10_000;
    view.whenListed((_peers, settlingMs) => late.push(settlingMs));
    expect(late).toEqual([7_000, 0]);
  });

  it('a complete list (no settlingMs) is 0; a later list does not change what the first said', () => {
    const { signaling, emit } = fakeSignaling();
    const view = new RoomView(signaling, () => 0);
    emit({ type: 'list', peers: ['a'] });
    emit({ type: 'list', peers: ['a', 'b'], settlingMs: 9_000 });
    const seen: Array<[readonly PeerId[], number]> = [];
    view.whenListed((peers, settlingMs) => seen.push([peers, settlingMs]));
    expect(seen).toEqual([[['a', 'b'], 0]]);
  });
});

describe('RoomView hiding peers', () => {
  it('leaves hidden peers out of lists, joins, leaves, signals and relayed messages', () => {
    const { signaling, emit, signal, relay } = fakeSignaling();
    const view = new RoomView(signaling, () => 0, (id) => id.startsWith('client-'));
    const events: RoomEvent[] = [];
    const from: PeerId[] = [];
    view.onRoomEvent((event) => events.push(event));
    view.onSignal((peer) => from.push(`signal ${peer}`));
    view.onRelayed((peer) => from.push(`relayed ${peer}`));
    emit({ type: 'list', peers: ['a', 'client-1'] });
    emit({ type: 'joined', peer: 'client-2' });
    emit({ type: 'joined', peer: 'b' });
    emit({ type: 'left', peer: 'client-1' });
    for (const peer of ['client-2', 'b']) {
      signal(peer);
      relay(peer);
    }
    expect(events).toEqual([{ type: 'list', peers: ['a'] }, { type: 'joined', peer: 'b' }]);
    expect(view.peers()).toEqual(['a', 'b']);
    expect(from).toEqual(['signal b', 'relayed b']);
  });
});
