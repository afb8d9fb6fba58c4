// BroadcastTransport (transport.ts) on Node 20's real BroadcastChannel: the transport compliance
// suite, then what the suite does not cover — malformed and foreign envelopes dropped and counted,
// data for other peers ignored, room events (list after discovery, joined, left by bye and by
// silence, no flapping back after bye), presence locks listing a tab that did not answer, pagehide
// saying bye and sending nothing after it, and exact bytes sent from a view of a larger buffer. The same suite runs in Chromium
// in e2e/broadcast.spec.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../peer/clock-manual.js';
import { defineTransportSuite } from '../transport-compliance.js';
import type { RoomEvent } from '../signaling.js';
import { broadcastHarness } from './compliance-harness.js';
import { channelName, HEARTBEAT_INTERVAL_MS, presenceLockPrefix, SILENCE_LIMIT_MS, DISCOVERY_WINDOW_MS } from './constants.js';
import { BroadcastTransport, secretTag, type LifecycleTarget, type LocksLike } from './transport.js';

const harness = broadcastHarness({ locks: null, lifecycle: null });
defineTransportSuite('BroadcastChannel (Node)', harness, { describe, it });

const open: BroadcastTransport[] = [];
const channels: BroadcastChannel[] = [];
afterEach(() => {
  for (const transport of open.splice(0)) transport.close();
  for (const transport of harness.opened.splice(0)) transport.close();
  for (const channel of channels.splice(0)) channel.close();
});

let rooms = 0;
const freshRoom = () => `unit-${++rooms}-${Math.random().toString(36).slice(2, 8)}`;
const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

async function transport(room: string, self: string, extra: Partial<Parameters<typeof BroadcastTransport.open>[0]> = {}): Promise<BroadcastTransport> {
  const opened = await BroadcastTransport.open({ room, self, locks: null, lifecycle: null, ...extra });
  open.push(opened);
  return opened;
}

/** A raw channel on the room, for posting what a hostile or buggy tab would. */
function raw(room: string): BroadcastChannel {
  const channel = new BroadcastChannel(channelName(room));
  channels.push(channel);
  return channel;
}

function recordEvents(transport: BroadcastTransport): RoomEvent[] {
  const events: RoomEvent[] = [];
  transport.onRoomChange((event) => events.push(event));
  return events;
}

describe('BroadcastTransport', () => {
  it('drops malformed envelopes and counts them, and keeps working', async () => {
    const room = freshRoom();
    const clock = new ManualClock();
    const a = await transport(room, 'a', { clock });
    const b = await transport(room, 'b', { clock });
    await settle();
    const tag = await secretTag(room, undefined);
    const bad: unknown[] = [
      null,
      'text',
      42,
      { v: 2, k: 'msg', tag, from: 'x', to: 'a', data: new Uint8Array(1) },
      { v: 1, k: 'shout', tag, from: 'x' },
      { v: 1, k: 'msg', tag, from: '', to: 'a', data: new Uint8Array(1) },
      { v: 1, k: 'msg', tag, from: 'x'.repeat(65), to: 'a', data: new Uint8Array(1) },
      { v: 1, k: 'msg', tag, from: 'x', to: 'a', data: 'not bytes' },
      { v: 1, k: 'msg', tag, from: 'x', data: new Uint8Array(1) },
      { v: 1, k: 'hello', tag: 7, from: 'x' },
    ];
    const channel = raw(room);
    for (const value of bad) channel.postMessage(value);
    await settle();
    expect(a.drops('malformed')).toBe(bad.length);
    expect(a.roomPeers()).toEqual(['b']);
    const got: string[] = [];
    a.onMessage((from, bytes) => got.push(`${from}:${bytes.length}`));
    b.send('a', new Uint8Array(3));
    await settle();
    expect(got).toEqual(['b:3']);
  });

  it('keeps rooms with different secrets apart, and counts what it ignores', async () => {
    const room = freshRoom();
    const a = await transport(room, 'a', { secret: 'one' });
    const b = await transport(room, 'b', { secret: 'two' });
    const c = await transport(room, 'c', { secret: 'one' });
    const d = await transport(room, 'd');
    await settle(DISCOVERY_WINDOW_MS + 50);
    expect(a.roomPeers()).toEqual(['c']);
    expect(b.roomPeers()).toEqual([]);
    expect(d.roomPeers()).toEqual([]);
    expect(a.drops('other-secret')).toBeGreaterThan(0);
    const got: string[] = [];
    c.onMessage((from) => got.push(from));
    b.onMessage((from) => got.push(`wrong:${from}`));
    a.send('c', new Uint8Array(1));
    a.send('b', new Uint8Array(1)); // never heard: unknown
    await settle();
    expect(got).toEqual(['a']);
    expect(a.drops('unknown-peer')).toBe(1);
    expect(b.stats().dropped['other-secret']).toBeGreaterThan(0);
  });

  it('ignores data addressed to other peers', async () => {
    const room = freshRoom();
    const a = await transport(room, 'a');
    const b = await transport(room, 'b');
    const c = await transport(room, 'c');
    await settle();
    const atC: string[] = [];
    c.onMessage((from) => atC.push(from));
    a.send('b', new Uint8Array(1));
    await settle();
    expect(atC).toEqual([]);
    expect(c.stats().ignored).toBe(1);
    expect(b.stats().messagesDelivered).toBe(1);
  });

  it('lists after the discovery window, then reports joined and left (bye and silence), without flapping after bye', async () => {
    const room = freshRoom();
    const clock = new ManualClock();
    const a = await transport(room, 'a', { clock });
    const events = recordEvents(a);
    let listed: readonly string[] | null = null;
    a.whenListed((peers) => (listed = peers));
    const b = await transport(room, 'b', { clock });
    await settle();
    expect(listed).toBeNull(); // the window has not passed on a's clock
    clock.advance(DISCOVERY_WINDOW_MS);
    await settle();
    expect(listed).toEqual(['b']);
    expect(events).toEqual([{ type: 'list', peers: ['b'] }]);

    const c = await transport(room, 'c', { clock });
    await settle();
    expect(events.at(-1)).toEqual({ type: 'joined', peer: 'c' });

    // b says bye, then a stray message from it arrives: it stays gone.
    const bChannel = raw(room);
    const tag = await secretTag(room, undefined);
    b.close();
    bChannel.postMessage({ v: 1, k: 'beat', tag, from: 'b' });
    await settle();
    expect(events.at(-1)).toEqual({ type: 'left', peer: 'b' });
    expect(a.roomPeers()).toEqual(['c']);
    expect(a.stats().left).toBe(1);

    // c goes silent (its channel stays open but nothing is sent): left after the silence limit.
    const cSilenced = c as unknown as { heartbeatCancel: (() => void) | null };
    cSilenced.heartbeatCancel?.();
    cSilenced.heartbeatCancel = null;
    for (let beat = 0; beat < Math.floor(SILENCE_LIMIT_MS / HEARTBEAT_INTERVAL_MS); beat++) {
      clock.advance(HEARTBEAT_INTERVAL_MS);
      await settle(5);
    }
    expect(a.roomPeers()).toEqual(['c']); // not yet: within the limit
    clock.advance(2 * HEARTBEAT_INTERVAL_MS);
    await settle();
    expect(a.roomPeers()).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'left', peer: 'c' });
    expect(a.stats().silent).toBe(1);

    // b comes back with a hello: joined again (c closes first, or its answer to b's hello would
    // revive it too).
    c.close();
    await transport(room, 'b', { clock });
    await settle();
    expect(events.at(-1)).toEqual({ type: 'joined', peer: 'b' });
  });

  it('lists a peer that holds its presence lock but did not answer the hello', async () => {
    const room = freshRoom();
    const tag = await secretTag(room, undefined);
    const held = [{ name: `${presenceLockPrefix(room, tag)}busy-tab` }, { name: `${presenceLockPrefix(room, 'other-secret')}x` }, { name: 'unrelated' }];
    const requested: string[] = [];
    const locks: LocksLike = {
      async request(name, _options, callback) {
        requested.push(name);
        return callback();
      },
      query: async () => ({ held }),
    };
    const a = await transport(room, 'a', { locks });
    const listed = await new Promise<readonly string[]>((resolve) => a.whenListed(resolve));
    expect(listed).toEqual(['busy-tab']);
    expect(a.stats().listedByLock).toBe(1);
    expect(requested).toEqual([`${presenceLockPrefix(room, tag)}a`]);
  });

  it('refuses to open while another transport of the same id holds the presence lock', async () => {
    const room = freshRoom();
    const clock = new ManualClock();
    const locks: LocksLike = { request: () => new Promise(() => undefined), query: async () => ({ held: [] }) };
    const opening = BroadcastTransport.open({ room, self: 'a', locks, lifecycle: null, clock });
    await settle();
    clock.advance(60_000);
    await expect(opening).rejects.toThrow(/in use/);
  });

  it('says bye on pagehide and hello again on a persisted pageshow', async () => {
    const room = freshRoom();
    const listeners = new Map<string, (event: Event) => void>();
    const lifecycle: LifecycleTarget = {
      addEventListener: (type, listener) => void listeners.set(type, listener),
      removeEventListener: (type) => void listeners.delete(type),
    };
    const a = await transport(room, 'a');
    const b = await transport(room, 'b', { lifecycle });
    await settle();
    expect(a.roomPeers()).toEqual(['b']);
    const atA: number[] = [];
    a.onMessage((_from, bytes) => atA.push(bytes.length));
    listeners.get('pagehide')?.(new Event('pagehide'));
    // A page that has said bye sends nothing more, or the others would take its departure for a blip.
    b.send('a', new Uint8Array(1));
    await settle();
    expect(a.roomPeers()).toEqual([]);
    expect(atA).toEqual([]);
    expect(b.drops('departing')).toBe(1);
    const shown = Object.assign(new Event('pageshow'), { persisted: true });
    listeners.get('pageshow')?.(shown);
    await settle();
    expect(a.roomPeers()).toEqual(['b']);
    b.send('a', new Uint8Array(2));
    await settle();
    expect(atA).toEqual([2]);
    b.close();
    expect(listeners.size).toBe(0);
  });

  it('sends exactly the bytes of a view, not its whole buffer', async () => {
    const room = freshRoom();
    const a = await transport(room, 'a');
    const b = await transport(room, 'b');
    await settle();
    const got: Uint8Array[] = [];
    b.onMessage((_from, bytes) => got.push(bytes));
    const buffer = new Uint8Array(100_000).map((_, i) => i & 0xff);
    a.send('b', buffer.subarray(10, 13));
    await settle();
    expect(got).toHaveLength(1);
    expect([...(got[0] as Uint8Array)]).toEqual([10, 11, 12]);
    expect((got[0] as Uint8Array).buffer.byteLength).toBe(3);
  });
});
