// Proves, by hand-written cases, that every request, txn, result, watch trigger and watch event variant (the
// shapes of ZooKeeper's zookeeper.jute records, as tree/types.ts models them) survives encode ->
// decode unchanged and re-encodes to the same bytes, at edge values (empty and maximal strings and
// data, -1 and wrapped int32 versions, unicode paths, multis with errors); and that decoders refuse, as error values,
// bytes that break structure or ranges, while encoders fail an assertion on ill-formed values.

import { describe, expect, it } from 'vitest';
import { AssertionError } from '../assert.js';
import { ErrorCode, type ErrorName } from '../errors.js';
import {
  ACL_ENTRIES_MAX,
  ACL_ID_BYTES_MAX,
  AUTH_IDS_MAX,
  DATA_BYTES_MAX,
  MULTI_OPS_MAX,
  PATH_BYTES_MAX,
  SESSION_ID_BYTES_MAX,
  TTL_MS_MAX,
} from '../limits.js';
import {
  CREATE_MODES,
  OPEN_ACL_UNSAFE,
  type ACL,
  type CreateTxn,
  type MultiOp,
  type OpResult,
  type ReadResult,
  type Request,
  type RequestContext,
  type Stat,
  type Txn,
  type TxnBody,
  type WatchEvent,
  type WatchTrigger,
  type WriteResult,
} from '../tree/types.js';
import { CREATE_MODE_TAGS, FORMAT_VERSION, VERSION_MAX, VERSION_MIN } from './fields.js';
import type { Decoded } from './reader.js';
import {
  decodeRequest,
  decodeRequestContext,
  encodeRequest,
  encodeRequestContext,
  REQUEST_CHECK,
  REQUEST_CREATE,
  REQUEST_DELETE,
  REQUEST_GET_DATA,
  REQUEST_MULTI,
} from './requests.js';
import {
  decodeReadResult,
  decodeWatchEvent,
  decodeWatchTrigger,
  decodeWriteResult,
  encodeReadResult,
  encodeWatchEvent,
  encodeWatchTrigger,
  encodeWriteResult,
  READ_RESULT_FAIL,
  WATCH_EVENT,
  WATCHER_ID_BYTES_MAX,
  WRITE_RESULT_FAIL,
} from './results.js';
import { decodeTxn, encodeTxn, TXN_CREATE, TXN_ERROR, TXN_MULTI } from './txns.js';
import { Writer } from './writer.js';

/** Byte arrays as tagged hex strings, so that megabyte values compare quickly. */
function comparable(value: unknown): unknown {
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, comparable(field)]));
  }
  return value;
}

function roundTrip<T>(encode: (value: T) => Uint8Array, decode: (bytes: Uint8Array) => Decoded<T>, value: T): Uint8Array {
  const bytes = encode(value);
  const decoded = decode(bytes);
  if (!decoded.ok) throw new Error(`decode failed: ${decoded.error}`);
  expect(comparable(decoded.value)).toEqual(comparable(value));
  expect(Buffer.compare(encode(decoded.value), bytes)).toBe(0);
  expect(bytes[0]).toBe(FORMAT_VERSION);
  return bytes;
}

function bytesOf(write: (writer: Writer) => void): Uint8Array {
  const writer = new Writer();
  write(writer);
  return writer.finish();
}

function expectError<T>(decoded: Decoded<T>, pattern: RegExp): void {
  expect(decoded.ok).toBe(false);
  if (!decoded.ok) expect(decoded.error).toMatch(pattern);
}

const utf8 = new TextEncoder();
/** A path of exactly `bytes` UTF-8 bytes, made of 3-byte characters after the leading slash. */
function unicodePathOfBytes(bytes: number): string {
  const body = '日'.repeat(Math.floor((bytes - 1) / 3));
  const path = `/${body}${'a'.repeat(bytes - 1 - body.length * 3)}`;
  expect(utf8.encode(path).length).toBe(bytes);
  return path;
}

const maxPath = `/${'p'.repeat(PATH_BYTES_MAX - 1)}`;
const maxUnicodePath = unicodePathOfBytes(PATH_BYTES_MAX);
const unicodePaths = ['/日本/設定', '/emoji/😀🎉', '/ü/ß/ç', '/\u{10ffff}', '/\ufeffbom', '/a b/\t', ''];
const maxData = new Uint8Array(DATA_BYTES_MAX).map((_, index) => index % 251);
const maxId = 'i'.repeat(ACL_ID_BYTES_MAX);
const maxAcl: ACL[] = Array.from({ length: ACL_ENTRIES_MAX }, (_, index) => ({
  perms: index % 32,
  id: { scheme: index % 2 === 0 ? maxId : 'digest', id: index % 3 === 0 ? maxId : `user${index}:hash=` },
}));
const maxSessionId = 's'.repeat(SESSION_ID_BYTES_MAX);

const stat: Stat = {
  czxid: 3,
  mzxid: 9,
  pzxid: 12,
  ctime: 1_700_000_000_000,
  mtime: 1_700_000_000_123,
  version: 4,
  cversion: 2,
  aversion: 0,
  ephemeralOwner: null,
  dataLength: 5,
  numChildren: 1,
};
const ephemeralStat: Stat = {
  ...stat,
  ephemeralOwner: 'session-1',
  czxid: Number.MAX_SAFE_INTEGER,
  mzxid: 0,
  ctime: -1.5,
  mtime: 1e300,
  version: VERSION_MAX,
  cversion: -1,
  aversion: VERSION_MIN,
  dataLength: DATA_BYTES_MAX,
  numChildren: 100_000,
};

describe('requests round trip', () => {
  const cases: [string, Request][] = [
    ...CREATE_MODES.map((mode): [string, Request] => [`create ${mode}`, { op: 'create', path: '/a', data: utf8.encode('x'), acl: [...OPEN_ACL_UNSAFE], mode }]),
    ['create with ttl', { op: 'create', path: '/t', data: new Uint8Array(), acl: [], mode: 'persistent_ttl', ttlMs: TTL_MS_MAX }],
    ['create with ttl 0 (prep judges it)', { op: 'create', path: '/t', data: new Uint8Array(), acl: [], mode: 'persistent', ttlMs: 0 }],
    ['create at every cap', { op: 'create', path: maxUnicodePath, data: maxData, acl: maxAcl, mode: 'persistent' }],
    ['delete any version', { op: 'delete', path: '/a', version: -1 }],
    ['delete max version', { op: 'delete', path: maxPath, version: VERSION_MAX }],
    ['delete min version (versions wrap as Java ints)', { op: 'delete', path: '/a', version: VERSION_MIN }],
    ['check -2 (a wrapped version)', { op: 'multi', ops: [{ op: 'check', path: '/a', version: -2 }] }],
    ['setData empty', { op: 'setData', path: '/', data: new Uint8Array(), version: 0 }],
    ['setData max', { op: 'setData', path: '/a', data: maxData, version: -1 }],
    ['setACL empty acl', { op: 'setACL', path: '/a', acl: [], version: -1 }],
    ['setACL max acl', { op: 'setACL', path: '/a', acl: maxAcl, version: 7 }],
    ['multi empty', { op: 'multi', ops: [] }],
    [
      'multi of every op',
      {
        op: 'multi',
        ops: [
          { op: 'create', path: '/m', data: utf8.encode('1'), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral_sequential' },
          { op: 'create', path: '/m/t', data: new Uint8Array(), acl: [], mode: 'persistent_sequential_ttl', ttlMs: 1 },
          { op: 'check', path: '/m', version: -1 },
          { op: 'setData', path: '/m', data: utf8.encode('2'), version: 0 },
          { op: 'delete', path: '/m', version: 1 },
        ],
      },
    ],
    [
      'multi of MULTI_OPS_MAX ops',
      { op: 'multi', ops: Array.from({ length: MULTI_OPS_MAX }, (_, index): MultiOp => ({ op: 'check', path: `/c${index}`, version: index - 1 })) },
    ],
    ['createSession', { op: 'createSession', sessionId: 'abcdef0123456789', timeoutMs: 30_000 }],
    ['createSession timeout 0, max id', { op: 'createSession', sessionId: maxSessionId, timeoutMs: 0 }],
    ['closeSession', { op: 'closeSession', sessionId: '' }],
    ['deleteContainer', { op: 'deleteContainer', path: '/c' }],
    ['getData watch', { op: 'getData', path: '/a', watch: true }],
    ['getData no watch', { op: 'getData', path: '/a', watch: false }],
    ['exists', { op: 'exists', path: '/a', watch: true }],
    ['getChildren', { op: 'getChildren', path: '/', watch: false }],
    ['getACL', { op: 'getACL', path: '/a' }],
    ['getEphemerals empty prefix', { op: 'getEphemerals', prefix: '' }],
    ['getEphemerals', { op: 'getEphemerals', prefix: '/locks' }],
    ['getAllChildrenNumber', { op: 'getAllChildrenNumber', path: '/a' }],
    ['sync', { op: 'sync', path: '/' }],
    ...unicodePaths.map((path): [string, Request] => [`unicode path ${JSON.stringify(path)}`, { op: 'exists', path, watch: false }]),
  ];
  it.each(cases)('%s', (_name, request) => {
    roundTrip(encodeRequest, decodeRequest, request);
  });

  it('decoded ttlMs is absent when it was absent, present when present', () => {
    const without = decodeRequest(encodeRequest({ op: 'create', path: '/a', data: new Uint8Array(), acl: [], mode: 'persistent' }));
    expect(without.ok && 'ttlMs' in without.value).toBe(false);
  });
});

describe('request context round trip', () => {
  const cases: [string, RequestContext][] = [
    ['no auth', { sessionId: 'abc', auth: [] }],
    ['max auth', { sessionId: maxSessionId, auth: Array.from({ length: AUTH_IDS_MAX }, (_, index) => ({ scheme: 'digest', id: `${index}:${maxId.slice(4)}` })) }],
    ['empty ids', { sessionId: '', auth: [{ scheme: '', id: '' }] }],
  ];
  it.each(cases)('%s', (_name, context) => {
    roundTrip(encodeRequestContext, decodeRequestContext, context);
  });
});

describe('txns round trip', () => {
  const header = { sessionId: 'sess', time: 1_700_000_000_000 };
  const createBody = (mode: (typeof CREATE_MODES)[number]): CreateTxn => ({
    type: 'create',
    path: `/n-${mode}`,
    data: utf8.encode(mode),
    acl: [...OPEN_ACL_UNSAFE],
    mode,
    ephemeralOwner: mode.startsWith('ephemeral') ? 'sess' : null,
    ttlMs: mode.endsWith('_ttl') ? 60_000 : 0,
    parentCversion: 7,
  });
  const bodies: [string, TxnBody][] = [
    ...CREATE_MODES.map((mode): [string, TxnBody] => [`create ${mode}`, createBody(mode)]),
    [
      'create at every cap',
      { type: 'create', path: maxPath, data: maxData, acl: maxAcl, mode: 'persistent_ttl', ephemeralOwner: null, ttlMs: TTL_MS_MAX, parentCversion: VERSION_MAX },
    ],
    ['delete', { type: 'delete', path: '/日本' }],
    ['setData empty', { type: 'setData', path: '/a', data: new Uint8Array(), version: 1 }],
    ['setData max', { type: 'setData', path: '/a', data: maxData, version: VERSION_MAX }],
    ['setData wrapped', { type: 'setData', path: '/a', data: maxData, version: VERSION_MIN }],
    ['setACL to aversion -1 (/zookeeper/config)', { type: 'setACL', path: '/zookeeper/config', acl: [], version: -1 }],
    ['create with a wrapped parent cversion', { ...createBody('persistent_sequential'), parentCversion: VERSION_MIN }],
    ['setACL', { type: 'setACL', path: '/a', acl: maxAcl, version: 3 }],
    ['check any', { type: 'check', path: '/a', version: -1 }],
    ['error OK', { type: 'error', code: 'OK' }],
    ['error NONODE', { type: 'error', code: 'NONODE' }],
    ['multi empty', { type: 'multi', txns: [] }],
    [
      'multi with an error (ZooKeeper: OK before the failing op, RUNTIMEINCONSISTENCY after)',
      {
        type: 'multi',
        txns: [
          { type: 'error', code: 'OK' },
          { type: 'error', code: 'BADVERSION' },
          { type: 'error', code: 'RUNTIMEINCONSISTENCY' },
        ],
      },
    ],
    [
      'multi of every sub-txn',
      {
        type: 'multi',
        txns: [createBody('ephemeral'), { type: 'check', path: '/a', version: 2 }, { type: 'setData', path: '/a', data: utf8.encode('v'), version: 3 }, { type: 'delete', path: '/b' }],
      },
    ],
    ['multi of MULTI_OPS_MAX', { type: 'multi', txns: Array.from({ length: MULTI_OPS_MAX }, (): TxnBody & { type: 'delete' } => ({ type: 'delete', path: '/x' })) }],
    ['createSession', { type: 'createSession', sessionId: maxSessionId, timeoutMs: 1 }],
    ['closeSession', { type: 'closeSession', sessionId: 'sess' }],
    ['deleteContainer', { type: 'deleteContainer', path: '/c' }],
  ];
  it.each(bodies)('%s', (_name, body) => {
    roundTrip(encodeTxn, decodeTxn, { header, body });
  });

  const headers: [string, Txn['header']][] = [
    ['system txn', { sessionId: null, time: 0 }],
    ['fractional time', { sessionId: 's', time: 1234.5678 }],
    ['negative time', { sessionId: 's', time: -1 }],
    ['huge time', { sessionId: '', time: Number.MAX_VALUE }],
  ];
  it.each(headers)('%s', (_name, txnHeader) => {
    roundTrip(encodeTxn, decodeTxn, { header: txnHeader, body: { type: 'delete', path: '/a' } });
  });
});

describe('results round trip', () => {
  const opResults: OpResult[] = [
    { op: 'create', path: '/a0000000001', stat },
    { op: 'delete' },
    { op: 'setData', stat: ephemeralStat },
    { op: 'check' },
    { op: 'error', code: 'OK' },
    { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
  ];
  const writeResults: [string, WriteResult][] = [
    ['create', { ok: true, op: 'create', path: maxUnicodePath, stat }],
    ['delete', { ok: true, op: 'delete' }],
    ['setData', { ok: true, op: 'setData', stat: ephemeralStat }],
    ['setACL', { ok: true, op: 'setACL', stat }],
    ['multi', { ok: true, op: 'multi', results: opResults }],
    ['multi empty', { ok: true, op: 'multi', results: [] }],
    ['createSession', { ok: true, op: 'createSession' }],
    ['closeSession', { ok: true, op: 'closeSession' }],
    ['deleteContainer', { ok: true, op: 'deleteContainer' }],
    ['fail bare', { ok: false, code: 'SYSTEMERROR' }],
    ['fail with path', { ok: false, code: 'NONODE', path: '/missing' }],
    ['fail with empty path', { ok: false, code: 'NODEEXISTS', path: '' }],
    [
      'failed multi with per-op errors',
      { ok: false, code: 'BADVERSION', path: '/b', results: [{ op: 'error', code: 'OK' }, { op: 'error', code: 'BADVERSION' }, { op: 'error', code: 'RUNTIMEINCONSISTENCY' }] },
    ],
    ['fail with empty results', { ok: false, code: 'THROTTLEDOP', results: [] }],
  ];
  it.each(writeResults)('write %s', (_name, result) => {
    roundTrip(encodeWriteResult, decodeWriteResult, result);
  });

  const readResults: [string, ReadResult][] = [
    ['getData empty', { ok: true, op: 'getData', data: new Uint8Array(), stat }],
    ['getData max', { ok: true, op: 'getData', data: maxData, stat: ephemeralStat }],
    ['exists', { ok: true, op: 'exists', stat }],
    ['exists null', { ok: true, op: 'exists', stat: null }],
    ['getChildren none', { ok: true, op: 'getChildren', children: [], stat }],
    ['getChildren many', { ok: true, op: 'getChildren', children: Array.from({ length: 5000 }, (_, index) => `c-${index}-ü`), stat }],
    ['getACL', { ok: true, op: 'getACL', acl: maxAcl, stat }],
    ['getEphemerals', { ok: true, op: 'getEphemerals', paths: [...unicodePaths, maxPath] }],
    ['getAllChildrenNumber', { ok: true, op: 'getAllChildrenNumber', count: 1_000_000 }],
    ['sync', { ok: true, op: 'sync', path: '/' }],
    ['fail', { ok: false, code: 'NOAUTH' }],
    ['fail with path', { ok: false, code: 'NONODE', path: '/日本' }],
  ];
  it.each(readResults)('read %s', (_name, result) => {
    roundTrip(encodeReadResult, decodeReadResult, result);
  });

  const triggers: WatchTrigger[] = [
    { type: 'NodeCreated', path: '/a', zxid: 1 },
    { type: 'NodeCreated', path: '/a', zxid: 1, acl: [] },
    { type: 'NodeDataChanged', path: '/a', zxid: 7, acl: maxAcl },
    { type: 'NodeDeleted', path: maxPath, zxid: Number.MAX_SAFE_INTEGER },
    { type: 'NodeDataChanged', path: '/😀', zxid: 0 },
    { type: 'NodeChildrenChanged', path: '/', zxid: 42 },
  ];
  it.each(triggers)('watch trigger $type at $zxid', (trigger) => {
    roundTrip(encodeWatchTrigger, decodeWatchTrigger, trigger);
  });

  const events: WatchEvent[] = [
    { watcher: 'session-1', type: 'NodeCreated', path: '/a', zxid: 1 },
    { watcher: 'w'.repeat(WATCHER_ID_BYTES_MAX), type: 'NodeDeleted', path: maxUnicodePath, zxid: Number.MAX_SAFE_INTEGER },
    { watcher: '', type: 'NodeChildrenChanged', path: '/', zxid: 0 },
  ];
  it.each(events)('watch event $type for $zxid', (event) => {
    roundTrip(encodeWatchEvent, decodeWatchEvent, event);
  });

  it('a watch event over its watcher cap is refused at both ends', () => {
    const event = { watcher: 'w'.repeat(WATCHER_ID_BYTES_MAX + 1), type: 'NodeCreated', path: '/a', zxid: 1 } as const;
    expect(() => encodeWatchEvent(event)).toThrow(AssertionError);
    const bytes = bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(WATCH_EVENT); w.string(event.watcher); w.u8(1); w.string('/a'); w.varUint(1); });
    expectError(decodeWatchEvent(bytes), /watcher length: 129 exceeds 128/);
  });
});

describe('enumerations', () => {
  it('the wire table of create modes holds exactly the modes of types.ts', () => {
    expect([...CREATE_MODE_TAGS].sort()).toEqual([...CREATE_MODES].sort());
  });

  it.each(Object.keys(ErrorCode) as ErrorName[])('error code %s round trips in an error txn and an op result', (code) => {
    roundTrip(encodeTxn, decodeTxn, { header: { sessionId: null, time: 0 }, body: { type: 'error', code } });
    roundTrip(encodeWriteResult, decodeWriteResult, { ok: true, op: 'multi', results: [{ op: 'error', code }] });
    if (code !== 'OK') roundTrip(encodeReadResult, decodeReadResult, { ok: false, code });
  });
});

describe('decoders refuse bad bytes as error values', () => {
  const getData = encodeRequest({ op: 'getData', path: '/a', watch: true });

  it('refuses an unknown format version, an unknown tag, and empty input', () => {
    expectError(decodeRequest(new Uint8Array([FORMAT_VERSION + 1, ...getData.subarray(1)])), /unsupported format version/);
    expectError(decodeRequest(new Uint8Array([FORMAT_VERSION, 250])), /unknown tag 250/);
    expectError(decodeRequest(new Uint8Array()), /needs 1 bytes/);
    expectError(decodeRequest('not bytes' as unknown as Uint8Array), /not a Uint8Array/);
  });

  it('refuses trailing bytes and truncation', () => {
    expectError(decodeRequest(new Uint8Array([...getData, 0])), /1 trailing bytes/);
    for (let length = 0; length < getData.length; length++) {
      expect(decodeRequest(getData.subarray(0, length)).ok).toBe(false);
    }
  });

  it('refuses bytes of another family (a request is not a txn, a result or a trigger)', () => {
    expectError(decodeTxn(getData), /unknown tag/);
    expectError(decodeWriteResult(getData), /unknown tag/);
    expectError(decodeReadResult(getData), /unknown tag/);
    expectError(decodeWatchTrigger(getData), /unknown tag/);
    expectError(decodeWatchEvent(getData), /unknown tag/);
    expectError(decodeWatchTrigger(encodeWatchEvent({ watcher: 'w', type: 'NodeCreated', path: '/', zxid: 1 })), /unknown tag 161/);
    expectError(decodeRequestContext(getData), /unknown tag/);
    expectError(decodeRequest(encodeTxn({ header: { sessionId: null, time: 0 }, body: { type: 'delete', path: '/a' } })), /unknown tag/);
  });

  it('refuses a check outside a multi and a multi inside a multi', () => {
    expectError(decodeRequest(bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_CHECK); w.string('/a'); w.varInt(0); })), /unknown tag 5/);
    expectError(decodeRequest(bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_MULTI); w.varUint(1); w.u8(REQUEST_MULTI); w.varUint(0); w.u8(0); })), /multi op kind: 6/);
    expectError(decodeTxn(bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(TXN_MULTI); w.bool(false); w.float64(0); w.varUint(1); w.u8(TXN_MULTI); w.varUint(0); })), /sub-txn kind: 38/);
  });

  it('refuses strings over their cap, and invalid UTF-8', () => {
    const request = (path: string): Uint8Array => bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_GET_DATA); w.string(path); w.bool(false); });
    expect(decodeRequest(request(maxPath)).ok).toBe(true);
    expectError(decodeRequest(request(`${maxPath}x`)), /path length: 4097 exceeds 4096/);
    expectError(decodeRequest(request(`${maxUnicodePath.slice(0, -1)}éé`)), /path length: 4097 exceeds 4096/);
    const badUtf8 = new Uint8Array([FORMAT_VERSION, REQUEST_GET_DATA, 2, 0xc3, 0x28, 0]);
    expectError(decodeRequest(badUtf8), /invalid UTF-8/);
    const surrogate = new Uint8Array([FORMAT_VERSION, REQUEST_GET_DATA, 3, 0xed, 0xa0, 0x80, 0]);
    expectError(decodeRequest(surrogate), /invalid UTF-8/);
  });

  it('refuses data over DATA_BYTES_MAX and counts over their caps or beyond the input', () => {
    const create = (write: (w: Writer) => void): Uint8Array => bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_CREATE); w.string('/a'); write(w); });
    expectError(decodeRequest(create((w) => w.varUint(DATA_BYTES_MAX + 1))), /data length: .* exceeds/);
    expectError(decodeRequest(create((w) => { w.varUint(0); w.varUint(ACL_ENTRIES_MAX + 1); })), /acl entries: 65 exceeds 64/);
    expectError(decodeRequest(create((w) => { w.varUint(0); w.varUint(10); })), /10 items cannot fit/);
    expectError(decodeRequest(bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_MULTI); w.varUint(MULTI_OPS_MAX + 1); })), /multi ops: 1001 exceeds 1000/);
  });

  it('refuses values outside their ranges', () => {
    const del = (write: (w: Writer) => void): Uint8Array => bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_DELETE); w.string('/a'); write(w); });
    expect(decodeRequest(del((w) => w.varInt(-1))).ok).toBe(true);
    expect(decodeRequest(del((w) => w.varInt(VERSION_MIN))).ok).toBe(true);
    expectError(decodeRequest(del((w) => w.varInt(VERSION_MAX + 1))), /version: 2147483648 outside/);
    expectError(decodeRequest(del((w) => w.varInt(VERSION_MIN - 1))), /version: -2147483649 outside/);
    const create = (mode: number, perms: number): Uint8Array =>
      bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(REQUEST_CREATE); w.string('/a'); w.varUint(0); w.varUint(1); w.u8(perms); w.string('world'); w.string('anyone'); w.u8(mode); w.bool(false); });
    expect(decodeRequest(create(0, 31)).ok).toBe(true);
    expectError(decodeRequest(create(CREATE_MODE_TAGS.length, 31)), /create mode: unknown tag 7/);
    expectError(decodeRequest(create(0, 32)), /perms: 32 outside/);
    expectError(decodeRequest(create(0, 31).map((byte, index, all) => (index === all.length - 1 ? 2 : byte))), /ttlMs present: 2 is not 0 or 1/);
  });

  it('refuses unknown error codes, and OK where a failure is required', () => {
    const fail = (errno: number): Uint8Array => bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(WRITE_RESULT_FAIL); w.varInt(errno); w.bool(false); w.bool(false); });
    expect(decodeWriteResult(fail(-101))).toEqual({ ok: true, value: { ok: false, code: 'NONODE' } });
    expectError(decodeWriteResult(fail(-9)), /-9 is not a ZooKeeper code/);
    expectError(decodeWriteResult(fail(0)), /OK where a failure is required/);
    expectError(decodeReadResult(bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(READ_RESULT_FAIL); w.varInt(0); w.bool(false); })), /OK where a failure/);
    const errorTxn = (errno: number): Uint8Array => bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(TXN_ERROR); w.bool(false); w.float64(0); w.varInt(errno); });
    expect(decodeTxn(errorTxn(0)).ok).toBe(true);
    expectError(decodeTxn(errorTxn(1)), /1 is not a ZooKeeper code/);
  });

  it('refuses a create txn whose mode, owner and TTL disagree', () => {
    const txn = (mode: number, owner: string | null, ttlMs: number): Uint8Array =>
      bytesOf((w) => {
        w.u8(FORMAT_VERSION); w.u8(TXN_CREATE); w.bool(false); w.float64(0);
        w.string('/a'); w.varUint(0); w.varUint(0); w.u8(mode);
        w.bool(owner !== null); if (owner !== null) w.string(owner);
        w.varUint(ttlMs); w.varUint(0);
      });
    const mode = (name: string): number => CREATE_MODE_TAGS.indexOf(name as (typeof CREATE_MODE_TAGS)[number]);
    expect(decodeTxn(txn(mode('ephemeral'), 's', 0)).ok).toBe(true);
    expectError(decodeTxn(txn(mode('ephemeral'), null, 0)), /mode ephemeral with ephemeralOwner null/);
    expectError(decodeTxn(txn(mode('persistent'), 's', 0)), /mode persistent with ephemeralOwner s/);
    expectError(decodeTxn(txn(mode('persistent_ttl'), null, 0)), /mode persistent_ttl with ttlMs 0/);
    expectError(decodeTxn(txn(mode('container'), null, 5)), /mode container with ttlMs 5/);
    expectError(decodeTxn(txn(mode('persistent_ttl'), null, TTL_MS_MAX + 1)), /ttlMs: .* exceeds/);
  });

  it('refuses a NaN or infinite time', () => {
    const txn = (time: number): Uint8Array => bytesOf((w) => {
      w.u8(FORMAT_VERSION); w.u8(TXN_ERROR); w.bool(false);
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, time);
      w.bytesFixed(bytes);
      w.varInt(0);
    });
    expectError(decodeTxn(txn(Number.NaN)), /txn time: not a finite number/);
    expectError(decodeTxn(txn(Number.POSITIVE_INFINITY)), /not a finite number/);
  });

  it('refuses a createSession txn with timeout 0 (a committed session has a negotiated timeout)', () => {
    expectError(
      decodeTxn(bytesOf((w) => { w.u8(FORMAT_VERSION); w.u8(39); w.bool(false); w.float64(0); w.string('s'); w.varUint(0); })),
      /timeoutMs: 0 is below 1/,
    );
  });
});

describe('encoders assert well-formed input', () => {
  const expectAssertion = (encode: () => unknown, pattern: RegExp): void => {
    expect(encode).toThrow(AssertionError);
    expect(encode).toThrow(pattern);
  };

  it('strings over their cap, lone surrogates', () => {
    expectAssertion(() => encodeRequest({ op: 'sync', path: `${maxPath}x` }), /at most 4096/);
    expectAssertion(() => encodeRequest({ op: 'sync', path: '/\ud800' }), /lone surrogate/);
    expectAssertion(() => encodeRequest({ op: 'closeSession', sessionId: `${maxSessionId}x` }), /at most 64/);
    expectAssertion(() => encodeRequestContext({ sessionId: 's', auth: Array.from({ length: AUTH_IDS_MAX + 1 }, () => ({ scheme: 'a', id: 'b' })) }), /at most 16/);
  });

  it('values out of range', () => {
    expectAssertion(() => encodeRequest({ op: 'delete', path: '/a', version: VERSION_MIN - 1 }), /at least -2147483648/);
    expectAssertion(() => encodeRequest({ op: 'delete', path: '/a', version: 1.5 }), /safe integer/);
    expectAssertion(() => encodeRequest({ op: 'setACL', path: '/a', acl: [{ perms: 32, id: { scheme: 'world', id: 'anyone' } }], version: 0 }), /perms 32/);
    expectAssertion(() => encodeRequest({ op: 'create', path: '/a', data: new Uint8Array(), acl: [], mode: 'bogus' as 'persistent' }), /tag bogus/);
    expectAssertion(() => encodeRequest({ op: 'create', path: '/a', data: new Uint8Array(DATA_BYTES_MAX + 1), acl: [], mode: 'persistent' }), /at most/);
    expectAssertion(() => encodeWriteResult({ ok: false, code: 'OK' as 'NONODE' }), /not OK/);
    expectAssertion(() => encodeTxn({ header: { sessionId: null, time: Number.NaN }, body: { type: 'delete', path: '/' } }), /finite/);
    expectAssertion(() => encodeTxn({ header: { sessionId: null, time: 0 }, body: { type: 'error', code: 'NOPE' as ErrorName } }), /NOPE is known/);
    expectAssertion(() => encodeReadResult({ ok: true, op: 'exists', stat: { ...stat, version: VERSION_MAX + 1 } }), /at most 2147483647/);
    expectAssertion(() => encodeReadResult({ ok: true, op: 'exists', stat: { ...stat, czxid: -1 } }), /not negative/);
  });

  it('a create txn whose mode, owner and TTL disagree, and a multi inside a multi', () => {
    const body: CreateTxn = { type: 'create', path: '/a', data: new Uint8Array(), acl: [], mode: 'ephemeral', ephemeralOwner: null, ttlMs: 0, parentCversion: 0 };
    expectAssertion(() => encodeTxn({ header: { sessionId: null, time: 0 }, body }), /mode ephemeral with ephemeralOwner null/);
    const nested = { type: 'multi', txns: [{ type: 'multi', txns: [] }] } as unknown as TxnBody;
    expectAssertion(() => encodeTxn({ header: { sessionId: null, time: 0 }, body: nested }), /not multi/);
  });
});
