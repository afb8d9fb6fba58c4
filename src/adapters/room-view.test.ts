/**
 * RoomView (room-view.ts) hands the first list's settling grace (signaling.ts `list.settlingMs`) to
 * whoever waits for the list, aged by the time since it came for a late listener, and 0 for a
 * complete list: what networked.ts reads to decide whether an empty room may only look empty.
 */

import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/consensus/index.js';
import { RoomView } from './room-view.js';
import type { RoomEvent, Signaling } from './signaling.js';

function fakeSignaling(): { signaling: Signaling; emit: (event: RoomEvent) => void } {
  let handler: (event: RoomEvent) => void = () => undefined;
  const signaling: Signaling = {
    self: 'self',
    room: 'demo',
    onRoomEvent: (next) => {
      handler = next;
    },
    onSignal: () => undefined,
    onRelayed: () => undefined,
    start: () => undefined,
    sendSignal: () => undefined,
    sendRelayed: () => undefined,
    close: () => undefined,
  };
  return { signaling, emit: (event) => handler(event) };
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
