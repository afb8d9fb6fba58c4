/**
 * The client protocol's codec (client-wire.ts): every message round-trips exactly, and hostile
 * bytes — random, truncated, bit-flipped, oversize, wrong version — decode to an error value,
 * never an exception (STYLE.md habit 6). Seeded; the seed is printed on failure.
 */

import { describe, expect, it } from 'vitest';
import { Prng } from '../core/prng.js';
import { OPEN_ACL_UNSAFE } from '../core/tree/types.js';
import { CLIENT_MESSAGE_BYTES_MAX, decodeClientMessage, decodePeerMessage, encodeClientMessage, encodePeerMessage, type ClientMessage, type PeerMessage } from './client-wire.js';

const stat = { czxid: 3, mzxid: 4, pzxid: 5, ctime: 1.5, mtime: 2.5, version: 1, cversion: 0, aversion: 0, ephemeralOwner: 'abcd', dataLength: 2, numChildren: 0 };

const CLIENT_MESSAGES: ClientMessage[] = [
  { kind: 'hello' },
  { kind: 'ping' },
  { kind: 'open', tag: 7, timeoutMs: 10_000 },
  {
    kind: 'resume',
    tag: 0xffff_ffff,
    sessionId: '0011223344556677',
    lastZxid: 123_456,
    auth: [{ scheme: 'digest', id: 'u:abc=' }],
    watches: [
      { path: '/a', data: true, exist: false, child: true, persistent: false, recursive: false },
      { path: '/b/c', data: false, exist: true, child: false, persistent: true, recursive: true },
    ],
  },
  { kind: 'request', sessionId: 's1', xid: 1, request: { op: 'create', path: '/x', data: new Uint8Array([1, 2]), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral' } },
  { kind: 'request', sessionId: 's1', xid: 2, request: { op: 'getData', path: '/x', watch: true } },
  { kind: 'request', sessionId: 's1', xid: 3, request: { op: 'addWatch', path: '/x', mode: 'persistent_recursive' } },
  { kind: 'request', sessionId: 's1', xid: 4, request: { op: 'removeWatches', path: '/x', kind: 'any' } },
  { kind: 'auth', sessionId: 's1', id: { scheme: 'digest', id: 'u:x' } },
  { kind: 'close', sessionId: 's1', xid: 9 },
];

const PEER_MESSAGES: PeerMessage[] = [
  { kind: 'serving' },
  { kind: 'pong' },
  { kind: 'leaving' },
  { kind: 'opened', tag: 1, sessionId: 's1', timeoutMs: 10_000, zxid: 42 },
  { kind: 'resumed', tag: 2, sessionId: 's1', timeoutMs: 4_000, zxid: 43 },
  { kind: 'refused', tag: 3, code: 'SESSIONEXPIRED', reason: 'gone' },
  { kind: 'refused', tag: 4, code: 'CONNECTIONLOSS', reason: null },
  { kind: 'result', sessionId: 's1', xid: 1, zxid: 44, result: { ok: true, op: 'create', path: '/x', stat } },
  { kind: 'result', sessionId: 's1', xid: 2, zxid: 44, result: { ok: true, op: 'getData', data: new Uint8Array([9]), stat } },
  { kind: 'result', sessionId: 's1', xid: 3, zxid: 44, result: { ok: true, op: 'exists', stat: null } },
  { kind: 'result', sessionId: 's1', xid: 4, zxid: 44, result: { ok: true, op: 'addWatch' } },
  { kind: 'result', sessionId: 's1', xid: 5, zxid: 44, result: { ok: false, code: 'NONODE', path: '/x', reason: 'no node' } },
  { kind: 'result', sessionId: 's1', xid: 6, zxid: 44, result: { ok: false, code: 'NODEEXISTS', results: [{ op: 'error', code: 'NODEEXISTS' }] } as never },
  { kind: 'event', sessionId: 's1', type: 'NodeDeleted', path: '/x', zxid: 45 },
  { kind: 'state', sessionId: 's1', state: 'disconnected' },
];

describe('the client protocol codec', () => {
  it('round-trips every client message', () => {
    for (const message of CLIENT_MESSAGES) {
      const decoded = decodeClientMessage(encodeClientMessage(message));
      expect(decoded).toEqual({ ok: true, message });
    }
  });

  it('round-trips every peer message', () => {
    for (const message of PEER_MESSAGES) {
      const decoded = decodePeerMessage(encodePeerMessage(message));
      expect(decoded).toEqual({ ok: true, message });
    }
  });

  it('turns hostile bytes into an error value, never an exception', () => {
    const seed = Number(process.env.SEED ?? 6_006);
    const prng = new Prng(seed);
    const samples = [...CLIENT_MESSAGES.map(encodeClientMessage), ...PEER_MESSAGES.map(encodePeerMessage)];
    try {
      for (let round = 0; round < 3000; round++) {
        const base = samples[prng.u32() % samples.length] as Uint8Array;
        const bytes = base.slice();
        const mode = prng.u32() % 3;
        if (mode === 0) {
          for (let flips = 1 + (prng.u32() % 4); flips > 0; flips--) {
            const at = prng.u32() % bytes.length;
            bytes[at] = (bytes[at] as number) ^ (1 << prng.u32() % 8);
          }
        }
        const input = mode === 1 ? bytes.subarray(0, prng.u32() % bytes.length) : mode === 2 ? Uint8Array.from({ length: prng.u32() % 64 }, () => prng.u32() & 0xff) : bytes;
        expect(() => decodeClientMessage(input)).not.toThrow();
        expect(() => decodePeerMessage(input)).not.toThrow();
      }
    } catch (error) {
      console.error(`client-wire fuzz failed with SEED=${seed}`);
      throw error;
    }
    expect(decodeClientMessage(new Uint8Array(0))).toEqual({ ok: false, reason: 'malformed' });
    expect(decodePeerMessage(new Uint8Array([2, 32]))).toEqual({ ok: false, reason: 'malformed' }); // unknown version
    expect(decodePeerMessage(new Uint8Array([1, 32, 0]))).toEqual({ ok: false, reason: 'malformed' }); // trailing byte
    expect(decodeClientMessage(new Uint8Array([1, 3, 0, 1, 65, 0, 0, 200]))).toEqual({ ok: false, reason: 'malformed' }); // claims 200 watches
    expect(decodeClientMessage(new Uint8Array(CLIENT_MESSAGE_BYTES_MAX + 1))).toEqual({ ok: false, reason: 'oversize' });
  });
});
