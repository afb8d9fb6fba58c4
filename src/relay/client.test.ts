/**
 * RelaySignaling (the `Signaling` of src/adapters/signaling.ts over the relay) against a real relay
 * on loopback: two clients see each other (list, joined, left) and exchange signals and fallback
 * bytes; a client rejoins and emits a fresh `list` after the relay restarts on the same port; sends
 * while connecting are queued up to the cap, beyond it dropped and counted; a replaced client does
 * not fight back; a relay that goes silent is abandoned; frames a relay should never send are
 * dropped and counted. Fake relays are plain `ws` servers.
 */

import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { RoomEvent } from '../adapters/signaling.js';
import { CLOSE_CODE, RELAY_SETTLING_MS } from './constants.js';
import { RelaySignaling, type RelaySignalingOptions } from './client.js';
import { startRelay, type RelayOptions, type StandaloneRelay } from './server.js';
import { eventually, Probe } from './test-probe.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relay(options: RelayOptions & { port?: number } = {}): Promise<StandaloneRelay> {
  const running = await startRelay({ host: '127.0.0.1', port: 0, ...options });
  cleanups.push(() => running.close());
  return running;
}

interface Recorded {
  client: RelaySignaling;
  events: RoomEvent[];
  signals: Array<{ from: string; data: unknown }>;
  relayed: Array<{ from: string; bytes: Uint8Array }>;
}

function client(url: string, self: string, options: Partial<RelaySignalingOptions> = {}): Recorded {
  const signaling = new RelaySignaling({ url, room: 'demo', self, WebSocket, backoffInitialMs: 20, backoffMaxMs: 100, ...options });
  const recorded: Recorded = { client: signaling, events: [], signals: [], relayed: [] };
  signaling.onRoomEvent((event) => recorded.events.push(event));
  signaling.onSignal((from, data) => recorded.signals.push({ from, data }));
  signaling.onRelayed((from, bytes) => recorded.relayed.push({ from, bytes }));
  cleanups.push(() => signaling.close());
  return recorded;
}

describe('RelaySignaling', () => {
  it('two clients see each other and exchange signals and fallback bytes', async () => {
    const server = await relay({ settlingMs: 0 });
    const a = client(server.url, 'peer-a');
    a.client.start();
    await eventually(() => a.events.length === 1, 'a listed');
    expect(a.events[0]).toEqual({ type: 'list', peers: [] });
    const b = client(server.url, 'peer-b');
    b.client.start();
    await eventually(() => b.events.length === 1 && a.events.length === 2, 'b listed, a told');
    expect(b.events[0]).toEqual({ type: 'list', peers: ['peer-a'] });
    expect(a.events[1]).toEqual({ type: 'joined', peer: 'peer-b' });

    b.client.sendSignal('peer-a', { type: 'offer', sdp: 'v=0' });
    a.client.sendSignal('peer-b', { type: 'answer', sdp: 'v=0' });
    b.client.sendRelayed('peer-a', new Uint8Array([1, 2, 3]));
    await eventually(() => a.signals.length === 1 && b.signals.length === 1 && a.relayed.length === 1, 'delivered');
    expect(a.signals[0]).toEqual({ from: 'peer-b', data: { type: 'offer', sdp: 'v=0' } });
    expect(b.signals[0]).toEqual({ from: 'peer-a', data: { type: 'answer', sdp: 'v=0' } });
    expect(a.relayed[0]?.from).toBe('peer-b');
    expect([...(a.relayed[0]?.bytes ?? [])]).toEqual([1, 2, 3]);

    b.client.close();
    await eventually(() => a.events.length === 3, 'a told b left');
    expect(a.events[2]).toEqual({ type: 'left', peer: 'peer-b' });
    expect(b.client.stats().state).toBe('stopped');
    a.client.sendSignal('peer-b', 'after close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.signals).toHaveLength(1);
    expect(server.stats().closed.left).toBe(1);
  });

  it('rejoins after the relay restarts on the same port and emits a fresh list', async () => {
    const first = await startRelay({ host: '127.0.0.1', port: 0 });
    const port = first.port;
    const a = client(first.url, 'peer-a');
    const b = client(first.url, 'peer-b');
    a.client.start();
    await eventually(() => a.events.length === 1, 'a listed');
    b.client.start();
    await eventually(() => b.events.length === 1 && a.events.length === 2, 'b listed');
    await first.close();
    await eventually(() => a.client.stats().state !== 'joined' && b.client.stats().state !== 'joined', 'both saw the relay go');

    const second = await relay({ port });
    expect(second.url).toBe(first.url);
    await eventually(() => a.client.stats().joins === 2 && b.client.stats().joins === 2, 'both rejoined');
    const lists = [...a.events, ...b.events].filter((event) => event.type === 'list');
    expect(lists).toHaveLength(4);
    expect(second.stats().peers).toBe(2);
    a.client.sendSignal('peer-b', 'again');
    await eventually(() => b.signals.length === 1, 'signal after restart');
    expect(b.signals[0]).toEqual({ from: 'peer-a', data: 'again' });
    expect(a.client.stats().lastClose?.code).toBe(CLOSE_CODE.goingAway);
  });

  it('queues sends made before the connection is open, and drops (counts) those beyond the cap', async () => {
    const server = await relay();
    const b = client(server.url, 'peer-b');
    b.client.start();
    await eventually(() => b.events.length === 1, 'b listed');
    const a = client(server.url, 'peer-a', { queueMessagesMax: 3 });
    for (let index = 0; index < 5; index++) a.client.sendSignal('peer-b', index);
    expect(a.client.stats()).toMatchObject({ queued: 3, dropped: { 'queue-full': 2 } });
    a.client.start();
    await eventually(() => b.signals.length === 3, 'queued signals delivered');
    expect(b.signals.map((signal) => signal.data)).toEqual([0, 1, 2]);
    expect(a.client.stats().queued).toBe(0);
  });

  it('drops (counts) sends that are oversize, not JSON, or over its own budget, and stays connected', async () => {
    const server = await relay();
    const b = client(server.url, 'peer-b');
    b.client.start();
    const a = client(server.url, 'peer-a', { messagesPerSecond: 1, messagesBurst: 3 });
    a.client.start();
    await eventually(() => a.client.stats().state === 'joined' && b.events.length === 2, 'both joined');
    a.client.sendSignal('peer-b', 'x'.repeat(70 * 1024));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    a.client.sendSignal('peer-b', cyclic);
    a.client.sendSignal('peer-b', 1n);
    a.client.sendSignal('peer-b', { sdpMid: undefined, sdpMLineIndex: 0 });
    a.client.sendRelayed('peer-b', new Uint8Array(17 * 1024));
    for (let index = 0; index < 10; index++) a.client.sendSignal('peer-b', index);
    await eventually(() => b.signals.length === 3, 'budgeted signals delivered');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.signals.map((signal) => signal.data)).toEqual([{ sdpMLineIndex: 0 }, 0, 1]);
    expect(a.client.stats().dropped).toMatchObject({ oversize: 2, invalid: 2, rate: 8 });
    expect(a.client.stats().state).toBe('joined');
    expect(server.stats().closed.rate).toBe(0);
  });

  it('does not reconnect after being replaced by a newer socket with its peer id', async () => {
    const server = await relay();
    const a = client(server.url, 'peer-a');
    a.client.start();
    await eventually(() => a.client.stats().state === 'joined', 'a joined');
    const usurper = await Probe.joined(server.url, 'demo', 'peer-a');
    cleanups.push(() => usurper.probe.close());
    await eventually(() => a.client.stats().state === 'stopped', 'a stopped');
    expect(a.client.stats().lastClose?.code).toBe(CLOSE_CODE.replaced);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(a.client.stats().connects).toBe(1);
    await usurper.probe.roundTrip();
  });

  it('abandons a relay that goes silent, and reconnects', async () => {
    const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const socket of fake.clients) socket.terminate();
      fake.close(() => resolve());
    }));
    await new Promise<void>((resolve) => fake.once('listening', resolve));
    const url = `ws://127.0.0.1:${(fake.address() as AddressInfo).port}/relay`;
    const a = client(url, 'peer-a', { pingIntervalMs: 30, pingsMissedMax: 2, connectTimeoutMs: 5_000 });
    a.client.start();
    await eventually(() => a.client.stats().connects >= 3, 'reconnected twice', 3_000);
    expect(a.events).toHaveLength(0);
  });

  it('gives up on a connection that is not joined within the connect timeout', async () => {
    const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    fake.on('connection', (socket) => socket.on('message', () => socket.send(JSON.stringify({ v: 1, type: 'pong' }))));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const socket of fake.clients) socket.terminate();
      fake.close(() => resolve());
    }));
    await new Promise<void>((resolve) => fake.once('listening', resolve));
    const url = `ws://127.0.0.1:${(fake.address() as AddressInfo).port}/relay`;
    const a = client(url, 'peer-a', { connectTimeoutMs: 80 });
    a.client.start();
    await eventually(() => a.client.stats().connects >= 2, 'retried after the timeout', 3_000);
  });

  it('passes a settling relay\'s grace on with the list (the mesh and the runtime read it)', async () => {
    const server = await relay();
    const a = client(server.url, 'peer-a');
    a.client.start();
    await eventually(() => a.events.length === 1, 'a listed');
    const list = a.events[0];
    expect(list).toMatchObject({ type: 'list', peers: [] });
    const settlingMs = list?.type === 'list' ? list.settlingMs : undefined;
    expect(settlingMs).toBeGreaterThan(RELAY_SETTLING_MS - 5_000);
    expect(settlingMs).toBeLessThanOrEqual(RELAY_SETTLING_MS);
  });

  it('drops (counts) frames a relay should never send, and keeps going', async () => {
    const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    fake.on('connection', (socket) => {
      socket.send('not json');
      socket.send(JSON.stringify({ v: 1, type: 'list', peers: ['peer-a'] }));
      socket.send(JSON.stringify({ v: 1, type: 'list', peers: 'peer-b' }));
      socket.send(JSON.stringify({ v: 1, type: 'joined', peer: 'bad id' }));
      socket.send(JSON.stringify({ v: 1, type: 'list', peers: [], settlingMs: -5 }));
      socket.send(JSON.stringify({ v: 1, type: 'list', peers: [], settlingMs: 10 ** 9 }));
      socket.send(JSON.stringify({ v: 9, type: 'pong' }));
      socket.send(new Uint8Array([1, 1, 200]));
      socket.send(JSON.stringify({ v: 1, type: 'list', peers: ['peer-b'] }));
      socket.send(JSON.stringify({ v: 1, type: 'signal', from: 'peer-b', data: { ok: true } }));
    });
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const socket of fake.clients) socket.terminate();
      fake.close(() => resolve());
    }));
    await new Promise<void>((resolve) => fake.once('listening', resolve));
    const a = client(`ws://127.0.0.1:${(fake.address() as AddressInfo).port}/relay`, 'peer-a');
    a.client.start();
    await eventually(() => a.signals.length === 1, 'the valid signal');
    expect(a.events).toEqual([{ type: 'list', peers: ['peer-b'] }]);
    expect(a.client.stats().dropped.malformed).toBe(8);
  });

  it('refuses bad options with a clear error', () => {
    expect(() => new RelaySignaling({ url: 'ws://x/relay', room: 'a room', self: 'p', WebSocket })).toThrow(/room name/);
    expect(() => new RelaySignaling({ url: 'ws://x/relay', room: 'r', self: '', WebSocket })).toThrow(/peer id/);
    expect(() => new RelaySignaling({ url: 'http://x/relay', room: 'r', self: 'p', WebSocket })).toThrow(/ws:\/\//);
  });
});
