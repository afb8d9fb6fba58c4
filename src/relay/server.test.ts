/**
 * The relay server against real `ws` sockets on loopback (port 0): room membership (list, joined,
 * left, replacement of a peer id), signal and fallback forwarding, liveness, and every cap of
 * issue 5 — each bad socket is closed with its code and counted while a bystander socket keeps
 * working (DESIGN.md, "Transport and relay": malformed input closes that socket and nothing else).
 */

import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import * as encoding from 'lib0/encoding';
import { CLOSE_CODE, RELAY_PROTOCOL_VERSION, RELAY_SETTLING_MS } from './constants.js';
import { decodeRelayed, encodeRelayed } from './protocol.js';
import { attachRelay, startRelay, type Relay, type RelayOptions } from './server.js';
import { eventually, Probe } from './test-probe.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relay(options: RelayOptions = {}): Promise<Relay> {
  const running = await startRelay({ host: '127.0.0.1', port: 0, ...options });
  cleanups.push(() => running.close());
  return running;
}

async function joined(url: string, room: string, peer: string): Promise<{ probe: Probe; peers: string[] }> {
  const result = await Probe.joined(url, room, peer);
  cleanups.push(() => result.probe.close());
  return result;
}

async function opened(url: string, options?: ClientOptions): Promise<Probe> {
  const probe = await Probe.open(url, options);
  cleanups.push(() => probe.close());
  return probe;
}

describe('rooms', () => {
  it('answers join with the list, announces joined and left, and keeps rooms apart', async () => {
    const server = await relay();
    const a = await joined(server.url, 'demo', 'peer-a');
    expect(a.peers).toEqual([]);
    const b = await joined(server.url, 'demo', 'peer-b');
    expect(b.peers).toEqual(['peer-a']);
    expect(await a.probe.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'joined', peer: 'peer-b' });
    const other = await joined(server.url, 'other', 'peer-a');
    expect(other.peers).toEqual([]);
    expect(server.stats()).toMatchObject({ rooms: 2, peers: 3, sockets: 3 });

    b.probe.close();
    expect(await a.probe.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'left', peer: 'peer-b' });
    await other.probe.silent();
    await eventually(() => server.stats().peers === 2, 'peer-b gone');
    expect(server.stats().closed.disconnected).toBe(1);
  });

  it('closes a socket that sends leave with 1000, announcing left', async () => {
    const server = await relay();
    const a = await joined(server.url, 'demo', 'peer-a');
    const b = await joined(server.url, 'demo', 'peer-b');
    await a.probe.nextJson();
    b.probe.json({ type: 'leave' });
    expect(await b.probe.closedWithin()).toEqual({ code: CLOSE_CODE.normal, reason: 'left' });
    expect((await a.probe.nextJson()).type).toBe('left');
    expect(server.stats()).toMatchObject({ rooms: 1, peers: 1 });
    expect(server.stats().closed.left).toBe(1);
  });

  it('replaces an older socket of the same peer id: closed 4409, others see left then joined', async () => {
    const server = await relay();
    const a = await joined(server.url, 'demo', 'peer-a');
    const old = await joined(server.url, 'demo', 'peer-b');
    await a.probe.nextJson();
    const fresh = await joined(server.url, 'demo', 'peer-b');
    expect(fresh.peers).toEqual(['peer-a']);
    expect((await old.probe.closedWithin()).code).toBe(CLOSE_CODE.replaced);
    expect(await a.probe.nextJson()).toMatchObject({ type: 'left', peer: 'peer-b' });
    expect(await a.probe.nextJson()).toMatchObject({ type: 'joined', peer: 'peer-b' });
    a.probe.json({ type: 'signal', to: 'peer-b', data: 'hello' });
    expect(await fresh.probe.nextJson()).toMatchObject({ type: 'signal', from: 'peer-a', data: 'hello' });
    expect(server.stats()).toMatchObject({ rooms: 1, peers: 2 });
    expect(server.stats().closed.replaced).toBe(1);
  });

  it('replacing the only peer of a room keeps the room', async () => {
    const server = await relay();
    const old = await joined(server.url, 'solo', 'peer-a');
    const fresh = await joined(server.url, 'solo', 'peer-a');
    expect(fresh.peers).toEqual([]);
    expect((await old.probe.closedWithin()).code).toBe(CLOSE_CODE.replaced);
    expect(server.stats()).toMatchObject({ rooms: 1, peers: 1 });
    await fresh.probe.roundTrip();
  });
});

describe('settling: a relay that started lately says its lists may be incomplete', () => {
  it('lists carry the grace left (settlingMs) until RELAY_SETTLING_MS after the start, then the plain list', async () => {
    let now = 50_000;
    const server = await relay({ nowMs: () => now });
    now += 1_000;
    const first = await Probe.open(server.url);
    cleanups.push(() => first.close());
    first.json({ type: 'join', room: 'demo', peer: 'peer-a' });
    expect(await first.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'list', peers: [], settlingMs: RELAY_SETTLING_MS - 1_000 });
    now += 4_000;
    const second = await Probe.open(server.url);
    cleanups.push(() => second.close());
    second.json({ type: 'join', room: 'demo', peer: 'peer-b' });
    expect(await second.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'list', peers: ['peer-a'], settlingMs: RELAY_SETTLING_MS - 5_000 });
    now = 50_000 + RELAY_SETTLING_MS;
    const third = await Probe.open(server.url);
    cleanups.push(() => third.close());
    third.json({ type: 'join', room: 'other', peer: 'peer-c' });
    expect(await third.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'list', peers: [] });
  });

  it('a restarted relay settles again; settlingMs: 0 turns the grace off', async () => {
    const before = await relay();
    const port = Number(new URL(before.url).port);
    await before.close();
    const restarted = await relay({ port } as RelayOptions);
    const a = await joined(restarted.url, 'demo', 'peer-a');
    expect(a.peers).toEqual([]);
    const off = await relay({ settlingMs: 0 });
    const probe = await Probe.open(off.url);
    cleanups.push(() => probe.close());
    probe.json({ type: 'join', room: 'demo', peer: 'peer-a' });
    expect(await probe.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'list', peers: [] });
    const again = await Probe.open(restarted.url);
    cleanups.push(() => again.close());
    again.json({ type: 'join', room: 'demo', peer: 'peer-b' });
    const list = await again.nextJson();
    expect(list).toMatchObject({ type: 'list', peers: ['peer-a'] });
    expect(list.settlingMs).toBeGreaterThan(RELAY_SETTLING_MS - 5_000);
    expect(list.settlingMs).toBeLessThanOrEqual(RELAY_SETTLING_MS);
  });

  it('refuses a grace above what a list may carry', async () => {
    await expect(relay({ settlingMs: 10 ** 9 })).rejects.toThrow(/settlingMs/);
  });
});

describe('forwarding', () => {
  it('forwards signals to the addressed peer only, and drops (counts) those to unknown peers', async () => {
    const server = await relay();
    const a = await joined(server.url, 'demo', 'peer-a');
    const b = await joined(server.url, 'demo', 'peer-b');
    const c = await joined(server.url, 'demo', 'peer-c');
    await a.probe.nextJson();
    await a.probe.nextJson();
    await b.probe.nextJson();
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', nested: [1, { x: null, y: true }] };
    a.probe.json({ type: 'signal', to: 'peer-b', data: offer });
    expect(await b.probe.nextJson()).toEqual({ v: RELAY_PROTOCOL_VERSION, type: 'signal', from: 'peer-a', data: offer });
    a.probe.json({ type: 'signal', to: 'nobody', data: 1 });
    a.probe.json({ type: 'signal', to: 'peer-a', data: 2 });
    await a.probe.roundTrip();
    await c.probe.silent();
    expect(server.stats().forwarded.signals).toBe(1);
    expect(server.stats().dropped['unknown-peer']).toBe(2);
  });

  it('does not forward across rooms', async () => {
    const server = await relay();
    const a = await joined(server.url, 'one', 'peer-a');
    const b = await joined(server.url, 'two', 'peer-b');
    a.probe.json({ type: 'signal', to: 'peer-b', data: 'x' });
    a.probe.raw(encodeRelayed({ peer: 'peer-b', bytes: new Uint8Array([1]) }));
    await a.probe.roundTrip();
    await b.probe.silent();
    expect(server.stats().dropped['unknown-peer']).toBe(2);
  });

  it('relays fallback bytes as binary frames naming the sender', async () => {
    const server = await relay();
    const a = await joined(server.url, 'demo', 'peer-a');
    const b = await joined(server.url, 'demo', 'peer-b');
    await a.probe.nextJson();
    const payload = new Uint8Array(16 * 1024).map((_value, index) => index % 251);
    a.probe.raw(encodeRelayed({ peer: 'peer-b', bytes: payload }));
    const decoded = decodeRelayed(await b.probe.nextBinary());
    expect(decoded.ok && decoded.value.peer).toBe('peer-a');
    expect(decoded.ok && decoded.value.bytes).toEqual(payload);
    expect(server.stats().forwarded).toMatchObject({ relayedFrames: 1, relayedBytes: payload.length });
  });

  it('bounds the fallback by a byte budget per socket: over it frames are dropped, the socket stays', async () => {
    const server = await relay({ fallbackBytesPerSecond: 100, fallbackBytesBurst: 2_000 });
    const a = await joined(server.url, 'demo', 'peer-a');
    const b = await joined(server.url, 'demo', 'peer-b');
    await a.probe.nextJson();
    for (let index = 0; index < 3; index++) a.probe.raw(encodeRelayed({ peer: 'peer-b', bytes: new Uint8Array(1_000).fill(index) }));
    expect((await b.probe.nextBinary())[5]).toBeDefined();
    await b.probe.nextBinary();
    await a.probe.roundTrip();
    await b.probe.silent();
    expect(server.stats().dropped['fallback-rate']).toBe(1);
    expect(server.stats().forwarded.relayedFrames).toBe(2);
    expect(a.probe.isOpen).toBe(true);
  });
});

describe('liveness', () => {
  it('drops a socket that stops answering pings and announces it left; answering sockets stay', async () => {
    const server = await relay({ pingIntervalMs: 40, pongsMissedMax: 2 });
    const live = await joined(server.url, 'demo', 'peer-live');
    const silent = await Probe.joined(server.url, 'demo', 'peer-silent', { autoPong: false });
    cleanups.push(() => silent.probe.close());
    expect(await live.probe.nextJson()).toMatchObject({ type: 'joined', peer: 'peer-silent' });
    const closed = await silent.probe.closedWithin(2_000);
    expect(closed.code).toBe(1006);
    expect(await live.probe.nextJson()).toMatchObject({ type: 'left', peer: 'peer-silent' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await live.probe.roundTrip();
    expect(server.stats().closed.liveness).toBe(1);
    expect(server.stats().peers).toBe(1);
  });

  it('closes a socket that does not join within the join timeout (4408)', async () => {
    const server = await relay({ joinTimeoutMs: 100 });
    const idle = await opened(server.url);
    const member = await joined(server.url, 'demo', 'peer-a');
    expect((await idle.closedWithin()).code).toBe(CLOSE_CODE.joinTimeout);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await member.probe.roundTrip();
    expect(server.stats().closed['join-timeout']).toBe(1);
  });
});

describe('caps close only the offending socket', () => {
  it('oversize frame: 1009, counted', async () => {
    const server = await relay({ messageBytesMax: 1_024 });
    const bystander = await joined(server.url, 'demo', 'peer-a');
    const offender = await joined(server.url, 'demo', 'peer-b');
    await bystander.probe.nextJson();
    offender.probe.json({ type: 'signal', to: 'peer-a', data: 'x'.repeat(2_000) });
    expect((await offender.probe.closedWithin()).code).toBe(CLOSE_CODE.tooBig);
    expect(await bystander.probe.nextJson()).toMatchObject({ type: 'left', peer: 'peer-b' });
    await bystander.probe.roundTrip();
    expect(server.stats().closed.oversize).toBe(1);
  });

  it('over the frame rate: 4429, counted', async () => {
    const server = await relay({ messagesPerSecond: 5, messagesBurst: 10 });
    const bystander = await joined(server.url, 'demo', 'peer-a');
    const offender = await joined(server.url, 'demo', 'peer-b');
    await bystander.probe.nextJson();
    for (let index = 0; index < 30; index++) offender.probe.json({ type: 'ping' });
    const closed = await offender.probe.closedWithin();
    expect(closed).toEqual({ code: CLOSE_CODE.rate, reason: 'rate limit' });
    await bystander.probe.nextJson();
    await bystander.probe.roundTrip();
    expect(server.stats().closed.rate).toBe(1);
  });

  it('rooms cap: a join naming a new room beyond it gets 4503; existing rooms take joins', async () => {
    const server = await relay({ roomsMax: 2 });
    const one = await joined(server.url, 'one', 'peer-a');
    await joined(server.url, 'two', 'peer-b');
    const third = await opened(server.url);
    third.json({ type: 'join', room: 'three', peer: 'peer-c' });
    expect((await third.closedWithin()).code).toBe(CLOSE_CODE.roomsFull);
    const more = await joined(server.url, 'one', 'peer-d');
    expect(more.peers).toEqual(['peer-a']);
    expect((await one.probe.nextJson()).type).toBe('joined');
    expect(server.stats()).toMatchObject({ rooms: 2, peers: 3 });
    expect(server.stats().closed['rooms-full']).toBe(1);
  });

  it('peers-per-room cap: a join beyond it gets 4504; other rooms take joins', async () => {
    const server = await relay({ peersPerRoomMax: 2 });
    const a = await joined(server.url, 'demo', 'peer-a');
    await joined(server.url, 'demo', 'peer-b');
    await a.probe.nextJson();
    const third = await opened(server.url);
    third.json({ type: 'join', room: 'demo', peer: 'peer-c' });
    expect((await third.closedWithin()).code).toBe(CLOSE_CODE.roomFull);
    await a.probe.silent();
    expect((await joined(server.url, 'elsewhere', 'peer-c')).peers).toEqual([]);
    expect(server.stats().closed['room-full']).toBe(1);
  });

  it('a recipient that stops reading: fallback to it dropped first, then it is closed (4413); the sender stays', async () => {
    const server = await relay({
      messagesPerSecond: 100_000, messagesBurst: 100_000, fallbackBytesPerSecond: 1e9, fallbackBytesBurst: 1e9,
      fallbackBufferedBytesMax: 64 * 1024, socketBufferedBytesMax: 256 * 1024,
    });
    const sender = await joined(server.url, 'demo', 'peer-a');
    const stalled = await joined(server.url, 'demo', 'peer-b');
    await sender.probe.nextJson();
    // ws keeps its net.Socket private; pausing it stops reading, so the relay's sends back up.
    (stalled.probe.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = new Uint8Array(16 * 1024);
    const filler = 'x'.repeat(60 * 1024);
    for (let round = 0; round < 400 && server.stats().closed.backlog === 0; round++) {
      for (let index = 0; index < 4; index++) sender.probe.raw(encodeRelayed({ peer: 'peer-b', bytes: chunk }));
      sender.probe.json({ type: 'signal', to: 'peer-b', data: filler });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(server.stats().dropped['fallback-backlog']).toBeGreaterThan(0);
    expect(server.stats().closed.backlog).toBe(1);
    expect(await sender.probe.nextJson()).toMatchObject({ type: 'left', peer: 'peer-b' });
    await sender.probe.roundTrip();
    expect(server.stats().peers).toBe(1);
  });

  it('sockets cap: upgrades beyond it get HTTP 503, counted', async () => {
    const server = await relay({ socketsMax: 2 });
    const a = await joined(server.url, 'demo', 'peer-a');
    await opened(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(server.url);
      ws.on('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('opened beyond the sockets cap')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(503);
    await a.probe.roundTrip();
    expect(server.stats().dropped['sockets-full']).toBe(1);
  });
});

describe('malformed input closes that socket with a code and a reason, counted', () => {
  const versionByte = RELAY_PROTOCOL_VERSION;
  const garbageBinary = (() => {
    const encoder = encoding.createEncoder();
    encoding.writeUint8(encoder, versionByte);
    encoding.writeUint8(encoder, 1);
    encoding.writeVarUint(encoder, 1_000_000);
    return encoding.toUint8Array(encoder);
  })();
  const cases: Array<{ name: string; frame: string | Uint8Array; join: boolean; code: number; counter: 'malformed' | 'version' | 'protocol-error' }> = [
    { name: 'bad JSON', frame: '{"v":1,"type":', join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'JSON that is not an object', frame: '[1,2,3]', join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'no version', frame: '{"type":"ping"}', join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'another version', frame: '{"v":2,"type":"ping"}', join: false, code: CLOSE_CODE.version, counter: 'version' },
    { name: 'a wrongly typed field', frame: '{"v":1,"type":"join","room":"demo","peer":5}', join: false, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'bad characters in a peer id', frame: '{"v":1,"type":"join","room":"demo","peer":"a b"}', join: false, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'a room name too long', frame: JSON.stringify({ v: 1, type: 'join', room: 'r'.repeat(129), peer: 'p' }), join: false, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'an extra field', frame: '{"v":1,"type":"ping","extra":1}', join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'an unknown type', frame: '{"v":1,"type":"shutdown"}', join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'signal data nested too deep', frame: JSON.stringify({ v: 1, type: 'signal', to: 'peer-a', data: [[[[[[[[[[1]]]]]]]]]] }), join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'a signal before join', frame: '{"v":1,"type":"signal","to":"peer-a","data":1}', join: false, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'a second join', frame: '{"v":1,"type":"join","room":"demo","peer":"peer-z"}', join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'binary garbage', frame: new Uint8Array([1, 9, 9, 9]), join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'a binary frame with a lying length', frame: garbageBinary, join: true, code: CLOSE_CODE.malformed, counter: 'malformed' },
    { name: 'a binary frame of another version', frame: new Uint8Array([7, 1, 0, 0]), join: true, code: CLOSE_CODE.version, counter: 'version' },
    { name: 'a binary frame before join', frame: encodeRelayed({ peer: 'peer-a', bytes: new Uint8Array([1]) }), join: false, code: CLOSE_CODE.malformed, counter: 'malformed' },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const server = await relay();
      const bystander = await joined(server.url, 'demo', 'peer-a');
      let offender: Probe;
      if (testCase.join) {
        offender = (await joined(server.url, 'demo', 'peer-b')).probe;
        await bystander.probe.nextJson();
      } else {
        offender = await opened(server.url);
      }
      offender.raw(testCase.frame);
      const closed = await offender.closedWithin();
      expect(closed.code).toBe(testCase.code);
      expect(closed.reason.length).toBeGreaterThan(0);
      if (testCase.join) expect(await bystander.probe.nextJson()).toMatchObject({ type: 'left', peer: 'peer-b' });
      await bystander.probe.roundTrip();
      expect(server.stats().closed[testCase.counter]).toBe(1);
      expect(server.stats().forwarded.signals).toBe(0);
    });
  }

  it('a text frame that is not UTF-8: closed by ws (1007), counted as a protocol error', async () => {
    const server = await relay();
    const bystander = await joined(server.url, 'demo', 'peer-a');
    const offender = await opened(server.url);
    offender.raw(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), false);
    expect((await offender.closedWithin()).code).toBe(1007);
    await bystander.probe.roundTrip();
    expect(server.stats().closed['protocol-error']).toBe(1);
  });
});

describe('mounting and lifecycle', () => {
  async function listening(server: Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('attaches to an existing http server at its path; HTTP and other paths are left alone', async () => {
    const httpServer = createServer((_request, response) => response.end('app'));
    const port = await listening(httpServer);
    cleanups.push(() => new Promise<void>((resolve) => {
      httpServer.closeAllConnections();
      httpServer.close(() => resolve());
    }));
    const mounted = attachRelay(httpServer, { path: '/relay' });
    cleanups.push(() => mounted.close());
    expect(mounted.url).toBe(`ws://127.0.0.1:${port}/relay`);
    const { probe } = await joined(mounted.url, 'demo', 'peer-a');
    await probe.roundTrip();
    const body = await new Promise<string>((resolve, reject) => {
      httpRequest(`http://127.0.0.1:${port}/`, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(text));
      }).on('error', reject).end();
    });
    expect(body).toBe('app');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
      ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });

  it('close() closes every socket with 1001 and stops taking upgrades', async () => {
    const server = await startRelay({ host: '127.0.0.1', port: 0 });
    const { probe } = await Probe.joined(server.url, 'demo', 'peer-a');
    const b = await Probe.joined(server.url, 'demo', 'peer-b');
    expect(await probe.nextJson()).toMatchObject({ type: 'joined', peer: 'peer-b' });
    await server.close();
    expect((await probe.closedWithin()).code).toBe(CLOSE_CODE.goingAway);
    expect((await b.probe.closedWithin()).code).toBe(CLOSE_CODE.goingAway);
    // A relay going down does not tell anyone the others left (peers act on `left`).
    await probe.silent();
    await b.probe.silent();
    expect(server.stats().closed.shutdown).toBe(2);
    await expect(Probe.open(server.url)).rejects.toThrow();
  });
});
