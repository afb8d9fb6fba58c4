/**
 * The relay protocol's guards (protocol.ts): every message round-trips through its encoder and
 * decoder; decoders refuse what the README says they refuse and never throw, whatever the input
 * (fast-check over arbitrary strings, JSON values and bytes; fc prints the seed on failure).
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX, RELAY_MESSAGE_BYTES_MAX, RELAY_SETTLING_MS_MAX, RELAY_SIGNAL_DEPTH_MAX } from './constants.js';
import {
  decodeClientText,
  decodeRelayed,
  decodeServerText,
  encodeClientText,
  encodeRelayed,
  encodeServerText,
  isJsonData,
  isPeerId,
  isRoomName,
  RELAYED_FRAME_BYTES_MAX,
  type ClientMessage,
  type ServerMessage,
} from './protocol.js';
import { TokenBucket } from './token-bucket.js';

describe('relay protocol', () => {
  it('round-trips every client and server message', () => {
    const client: ClientMessage[] = [
      { type: 'join', room: 'demo', peer: 'standalone-0a1b2c3d' },
      { type: 'leave' },
      { type: 'ping' },
      { type: 'signal', to: 'peer-b', data: { type: 'candidate', candidate: { candidate: 'a', sdpMLineIndex: 0, sdpMid: '0' } } },
    ];
    for (const message of client) expect(decodeClientText(encodeClientText(message))).toEqual({ ok: true, value: message });
    const server: ServerMessage[] = [
      { type: 'list', peers: ['a', 'b'] },
      { type: 'list', peers: [], settlingMs: 1 },
      { type: 'list', peers: ['a'], settlingMs: RELAY_SETTLING_MS_MAX },
      { type: 'joined', peer: 'a' },
      { type: 'left', peer: 'a' },
      { type: 'signal', from: 'a', data: [null, 1.5, 'x', true] },
      { type: 'pong' },
    ];
    for (const message of server) expect(decodeServerText(encodeServerText(message))).toEqual({ ok: true, value: message });
    const bytes = new Uint8Array(RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX).fill(7);
    const frame = encodeRelayed({ peer: 'p'.repeat(64), bytes });
    expect(frame.length).toBeLessThanOrEqual(RELAYED_FRAME_BYTES_MAX);
    expect(RELAYED_FRAME_BYTES_MAX).toBeLessThanOrEqual(RELAY_MESSAGE_BYTES_MAX);
    expect(decodeRelayed(frame)).toEqual({ ok: true, value: { peer: 'p'.repeat(64), bytes } });
  });

  it('bounds names: length, characters', () => {
    expect(isPeerId('p'.repeat(64))).toBe(true);
    expect(isPeerId('p'.repeat(65))).toBe(false);
    expect(isPeerId('')).toBe(false);
    expect(isPeerId('a/b')).toBe(false);
    expect(isPeerId('é')).toBe(false);
    expect(isRoomName('r'.repeat(128))).toBe(true);
    expect(isRoomName('r'.repeat(129))).toBe(false);
    expect(isRoomName('a\nb')).toBe(false);
  });

  it('accepts JSON data up to its depth, and nothing that is not JSON', () => {
    let deep: unknown = 1;
    for (let depth = 0; depth < RELAY_SIGNAL_DEPTH_MAX; depth++) deep = [deep];
    expect(isJsonData(deep)).toBe(true);
    expect(isJsonData([deep])).toBe(false);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(isJsonData(cyclic)).toBe(false);
    for (const bad of [undefined, NaN, Infinity, 1n, () => 1, new Date(), new Uint8Array(1), '\ud800', { a: undefined }]) {
      expect(isJsonData(bad)).toBe(false);
    }
    expect(isJsonData(new Array(10).fill(0), 8, 5)).toBe(false);
  });

  it('list.settlingMs: optional (a list without it is the old frame), and when present a bounded whole number', () => {
    expect(encodeServerText({ type: 'list', peers: [] })).toBe('{"v":1,"type":"list","peers":[]}');
    expect(decodeServerText('{"v":1,"type":"list","peers":[],"settlingMs":11999}')).toEqual({ ok: true, value: { type: 'list', peers: [], settlingMs: 11_999 } });
    for (const bad of ['0', '-1', '1.5', '"5"', 'null', 'true', '[]', '1e400', String(RELAY_SETTLING_MS_MAX + 1)]) {
      expect(decodeServerText(`{"v":1,"type":"list","peers":[],"settlingMs":${bad}}`), bad).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(decodeServerText('{"v":1,"type":"list","peers":[],"settlingMs":5,"x":1}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeServerText('{"v":1,"type":"list","settlingMs":5}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(() => encodeServerText({ type: 'list', peers: [], settlingMs: 0 })).toThrow();
    expect(() => encodeServerText({ type: 'list', peers: [], settlingMs: RELAY_SETTLING_MS_MAX + 1 })).toThrow();
  });

  it('classifies refusals: malformed vs version', () => {
    expect(decodeClientText('{"v":2,"type":"ping"}')).toMatchObject({ ok: false, reason: 'version' });
    expect(decodeClientText('{"v":"1","type":"ping"}')).toMatchObject({ ok: false, reason: 'version' });
    expect(decodeClientText('{"v":1,"type":"ping","x":1}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeClientText('{"v":1,"type":"join","room":"r"}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeClientText('{"v":1,"type":"join","room":"r","peer":"p","__proto__":{}}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeServerText('{"v":1,"type":"list","peers":["a","a"]}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeRelayed(new Uint8Array([2, 1, 1, 97, 0]))).toMatchObject({ ok: false, reason: 'version' });
    expect(decodeRelayed(new Uint8Array([1, 1, 1, 97, 0, 0]))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeRelayed(new Uint8Array([]))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('decoders never throw, whatever the input', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify({ v: 1, type: 'signal', to: 'a', data: value }))), (text) => {
      decodeClientText(text);
      decodeServerText(text);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      decodeRelayed(bytes);
      decodeRelayed(Uint8Array.of(1, 1, ...bytes));
    }), { numRuns: 500 });
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate, and never refills backwards', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(10)).toBe(false);
    expect(bucket.take(10_000, 4)).toBe(false);
    expect(bucket.take(10_000, 3)).toBe(true);
  });
});
