/**
 * ReplicaStorage on files, for edge (Node) peers: one directory per replica holding an append-only
 * log and the snapshot it starts from.
 *
 * On disk (all integers little-endian; see README.md "Storage"):
 *   log-<generation>.wal        records: [u32 body length][u32 CRC-32 of body][body]
 *                               body = u8 type + payload (the core codec's encodings)
 *   snapshot-<generation>.snap  the snapshot's state-machine bytes, nothing else
 *   *.tmp                       a file being written; never read, deleted at open
 *
 * A log starts with a base batch (header, snapshot reference, hard state, the live entries) and
 * goes on with appended batches (truncation marker, entries, hard state). Every batch ends with a
 * COMMIT record carrying its sequence number: records count only once their commit is read, so a
 * batch is atomic however the append tore. `persist` of a batch with a snapshot, `compact`, and a
 * log grown well past its live content start a new generation instead of appending: the snapshot
 * file and the new log are written to temporary names, fsynced, renamed, the directory fsynced;
 * the rename of the log is the commit point, the older generation is deleted afterwards.
 *
 * Recovery at open: the newest complete generation is read and its records replayed. Everything
 * after the last COMMIT that is short or fails its checksum is a torn tail (a crash mid-append)
 * and is truncated — unless a valid COMMIT further on says the damaged batch was already fsynced
 * when it was written, which a crash cannot explain: that is corruption, reported by `load` as an
 * error, as is any record that passes its checksum but does not decode or does not follow.
 *
 * Writes are serialized through one bounded queue (the replica has one operation in flight; the
 * bound catches a caller that does not wait). The in-memory mirror of the state is updated when an
 * operation is accepted, the disk catches up in order; after any I/O error the storage refuses
 * everything (what reached the disk is then unknown: reopen to recover from what is there).
 */

import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { assert } from '../core/assert.js';
import { decodeEntry, decodeHardState, decodeSnapshotMeta, encodeEntry, encodeHardState, encodeSnapshotMeta } from '../core/codec/raft.js';
import { decodeWith } from '../core/codec/reader.js';
import { Writer } from '../core/codec/writer.js';
import type { Entry, HardState, PersistedState, Snapshot, SnapshotMeta } from '../core/consensus/index.js';
import { ENTRY_DATA_BYTES_MAX, SNAPSHOT_BYTES_MAX } from '../core/limits.js';
import type { PersistBatch, ReplicaStorage } from '../peer/interfaces.js';

// --- Limits and format constants ----------------------------------------------------------------

/** Bumped when the record layout changes; a log of another version is refused, not misread. */
export const FILE_FORMAT_VERSION = 1;
const LOG_MAGIC = 'meshkeeper-log';

/** [u32 body length][u32 CRC-32]. */
export const RECORD_HEADER_BYTES = 8;

/** The largest record body: an entry at ENTRY_DATA_BYTES_MAX plus its header (index, term, kind,
 *  length: under 32 bytes) with room to spare for a snapshot reference (a config of CONFIG_PEERS_MAX
 *  ids is about 2.2 KiB). A larger length field can only be damage. */
export const RECORD_BYTES_MAX = ENTRY_DATA_BYTES_MAX + 64 * 1024;

/** The largest COMMIT body (type + two varuints of at most 8 bytes): the corruption scan looks for
 *  commits by this size. */
const COMMIT_BODY_BYTES_MAX = 1 + 8 + 8;

/** Start a new generation once the log file passes this size AND holds more than twice its live
 *  content (overwritten entries, superseded hard states): bounds the garbage and the replay time
 *  between compactions, while a log that is mostly live is not rewritten on every batch. */
export const LOG_ROTATE_BYTES = 64 * 1024 * 1024;

/** The largest log file load reads (it is read whole): compaction every SNAPSHOT_ENTRIES_INTERVAL
 *  entries and rotation at LOG_ROTATE_BYTES keep real logs far below; above it is damage or a
 *  replica that never compacts, and reading it would exhaust memory. */
export const LOG_FILE_BYTES_MAX = 1024 * 1024 * 1024;

/** Operations accepted but not yet written. The replica has one in flight; more than this means a
 *  caller that does not wait for `done`, refused rather than buffered without bound. */
export const FILE_QUEUE_OPERATIONS_MAX = 1024;

/** Generations are zero-padded in file names so that names sort as numbers. */
const GENERATION_DIGITS = 12;

const TYPE = { header: 1, hardState: 2, snapshot: 3, truncate: 4, entry: 5, commit: 6 } as const;

const LOG_NAME = /^log-(\d{12})\.wal$/;
const SNAPSHOT_NAME = /^snapshot-(\d{12})\.snap$/;

function logName(generation: number): string {
  return `log-${String(generation).padStart(GENERATION_DIGITS, '0')}.wal`;
}

function snapshotName(generation: number): string {
  return `snapshot-${String(generation).padStart(GENERATION_DIGITS, '0')}.snap`;
}

// --- Records ------------------------------------------------------------------------------------

/** Where the snapshot's bytes are and how to check them. */
interface SnapshotRef {
  readonly meta: SnapshotMeta;
  readonly fileGeneration: number;
  readonly length: number;
  readonly crc: number;
}

type LogRecord =
  | { readonly type: 'header'; readonly version: number; readonly generation: number }
  | { readonly type: 'hard-state'; readonly hardState: HardState }
  | { readonly type: 'snapshot'; readonly ref: SnapshotRef }
  | { readonly type: 'truncate'; readonly fromIndex: number }
  | { readonly type: 'entry'; readonly entry: Entry }
  | { readonly type: 'commit'; readonly sequence: number; readonly durable: number };

/** Accumulates framed records into one buffer (one write per batch). */
class RecordWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  add(write: (writer: Writer) => void): number {
    const writer = new Writer();
    write(writer);
    const body = writer.finish();
    assert(body.length <= RECORD_BYTES_MAX, `record of ${body.length} bytes within RECORD_BYTES_MAX`);
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, body.length, true);
    view.setUint32(4, crc32(body), true);
    this.chunks.push(header, body);
    this.length += RECORD_HEADER_BYTES + body.length;
    return RECORD_HEADER_BYTES + body.length;
  }

  header(generation: number): void {
    this.add((w) => (w.u8(TYPE.header), w.string(LOG_MAGIC), w.varUint(FILE_FORMAT_VERSION), w.varUint(generation)));
  }
  hardState(state: HardState): void {
    this.add((w) => (w.u8(TYPE.hardState), w.bytesFixed(encodeHardState(state))));
  }
  snapshot(ref: SnapshotRef): void {
    this.add((w) => (w.u8(TYPE.snapshot), w.varUint(ref.fileGeneration), w.bytesVar(encodeSnapshotMeta(ref.meta)), w.varUint(ref.length), w.u32(ref.crc)));
  }
  truncate(fromIndex: number): void {
    this.add((w) => (w.u8(TYPE.truncate), w.varUint(fromIndex)));
  }
  entry(entry: Entry): number {
    return this.add((w) => (w.u8(TYPE.entry), w.bytesFixed(encodeEntry(entry))));
  }
  commit(sequence: number, durable: number): void {
    this.add((w) => (w.u8(TYPE.commit), w.varUint(sequence), w.varUint(durable)));
  }

  finish(): Uint8Array {
    const bytes = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }
}

function decodeRecord(body: Uint8Array): { ok: true; record: LogRecord } | { ok: false; error: string } {
  const rest = body.subarray(1);
  const wrap = <T>(decoded: { ok: true; value: T } | { ok: false; error: string }, make: (value: T) => LogRecord) =>
    decoded.ok ? { ok: true as const, record: make(decoded.value) } : { ok: false as const, error: decoded.error };
  switch (body[0]) {
    case TYPE.header:
      return wrap(decodeWith(rest, (r) => ({ magic: r.string('magic', 64), version: r.varUint('version'), generation: r.varUint('generation') })), (v) => {
        return v.magic === LOG_MAGIC ? { type: 'header', version: v.version, generation: v.generation } : { type: 'header', version: -1, generation: v.generation };
      });
    case TYPE.hardState:
      return wrap(decodeHardState(rest), (hardState) => ({ type: 'hard-state', hardState }));
    case TYPE.snapshot:
      return wrap(
        decodeWith(rest, (r) => {
          const fileGeneration = r.varUint('snapshot file generation');
          const meta = decodeSnapshotMeta(r.bytesVar('snapshot meta', RECORD_BYTES_MAX));
          if (!meta.ok) return r.fail(`snapshot meta: ${meta.error}`);
          return { meta: meta.value, fileGeneration, length: r.varUint('snapshot length', SNAPSHOT_BYTES_MAX), crc: r.u32('snapshot crc') };
        }),
        (ref) => ({ type: 'snapshot', ref }),
      );
    case TYPE.truncate:
      return wrap(decodeWith(rest, (r) => r.varUint('truncate index')), (fromIndex) => ({ type: 'truncate', fromIndex }));
    case TYPE.entry:
      return wrap(decodeEntry(rest), (entry) => ({ type: 'entry', entry }));
    case TYPE.commit:
      return wrap(decodeWith(rest, (r) => ({ sequence: r.varUint('sequence'), durable: r.varUint('durable') })), (v) => ({ type: 'commit', ...v }));
    default:
      return { ok: false, error: `unknown record type ${String(body[0])}` };
  }
}

// --- The replica's state, validated on every change ------------------------------------------

/** The state a log describes. Changes check the PersistBatch contract and return the problem:
 *  on load a problem is corruption, on write a bug (asserted). */
class LogState {
  hardState: HardState | null = null;
  snapshotRef: SnapshotRef | null = null;
  /** Known in memory after a write or a load; read from its file otherwise. */
  snapshotData: Uint8Array | null = null;
  entries: Entry[] = [];
  entryBytes: number[] = [];
  liveEntryBytes = 0;
  /** The last committed batch's sequence number. */
  sequence = 0;

  lastIndex(): number {
    return this.entries[this.entries.length - 1]?.index ?? this.snapshotRef?.meta.index ?? 0;
  }

  private termAt(index: number): number {
    const first = this.entries[0];
    if (first === undefined || index < first.index) return this.snapshotRef?.meta.term ?? 0;
    return (this.entries[index - first.index] as Entry).term;
  }

  setSnapshot(ref: SnapshotRef, data: Uint8Array | null): void {
    this.snapshotRef = ref;
    this.snapshotData = data;
    this.entries = [];
    this.entryBytes = [];
    this.liveEntryBytes = 0;
  }

  truncate(fromIndex: number): string | null {
    if (this.snapshotRef === null) return `truncate at ${fromIndex} before any snapshot`;
    if (fromIndex <= this.snapshotRef.meta.index || fromIndex > this.lastIndex() + 1) {
      return `truncate at ${fromIndex} outside the log ${this.snapshotRef.meta.index + 1}..${this.lastIndex()}`;
    }
    const keep = fromIndex - (this.snapshotRef.meta.index + 1);
    for (let i = keep; i < this.entryBytes.length; i++) this.liveEntryBytes -= this.entryBytes[i] as number;
    this.entries.length = keep;
    this.entryBytes.length = keep;
    return null;
  }

  append(entry: Entry, recordBytes: number): string | null {
    if (this.snapshotRef === null) return `entry ${entry.index} before any snapshot`;
    if (entry.index !== this.lastIndex() + 1) return `entry ${entry.index} does not follow ${this.lastIndex()}`;
    const previousTerm = this.termAt(entry.index - 1);
    if (entry.term < previousTerm) return `entry ${entry.index} has term ${entry.term} below its predecessor's ${previousTerm}`;
    this.entries.push(entry);
    this.entryBytes.push(recordBytes);
    this.liveEntryBytes += recordBytes;
    return null;
  }

  /** Drops entries at or below the snapshot (compaction). */
  compactTo(ref: SnapshotRef, data: Uint8Array): string | null {
    if (this.snapshotRef === null) return 'compaction before any snapshot';
    if (ref.meta.index <= this.snapshotRef.meta.index) return `compaction at ${ref.meta.index} is not past the snapshot at ${this.snapshotRef.meta.index}`;
    if (ref.meta.index > this.lastIndex()) return `compaction at ${ref.meta.index} beyond the last entry ${this.lastIndex()}`;
    const drop = ref.meta.index - this.snapshotRef.meta.index;
    for (let i = 0; i < drop; i++) this.liveEntryBytes -= this.entryBytes[i] as number;
    this.entries = this.entries.slice(drop);
    this.entryBytes = this.entryBytes.slice(drop);
    this.snapshotRef = ref;
    this.snapshotData = data;
    return null;
  }
}

// --- Reading a log ---------------------------------------------------------------------------------

interface ParsedLog {
  readonly state: LogState;
  /** Bytes up to the end of the last committed batch: everything after is a torn tail. */
  readonly committedBytes: number;
}

function readRecordAt(bytes: Uint8Array, view: DataView, position: number): { body: Uint8Array } | { bad: string } {
  if (bytes.length - position < RECORD_HEADER_BYTES) return { bad: 'a short record header' };
  const length = view.getUint32(position, true);
  if (length === 0 || length > RECORD_BYTES_MAX) return { bad: `a record length of ${length}` };
  if (position + RECORD_HEADER_BYTES + length > bytes.length) return { bad: 'a short record' };
  const body = bytes.subarray(position + RECORD_HEADER_BYTES, position + RECORD_HEADER_BYTES + length);
  if (crc32(body) !== view.getUint32(position + 4, true)) return { bad: 'a checksum mismatch' };
  return { body };
}

/** Whether a valid COMMIT after `from` says batch `damaged` was fsynced before it was written: then
 *  the damage is not a torn tail. Looks only at positions that can hold a small COMMIT record. */
function commitProvesDurable(bytes: Uint8Array, view: DataView, from: number, damaged: number): boolean {
  for (let position = from + 1; position + RECORD_HEADER_BYTES < bytes.length; position++) {
    const length = view.getUint32(position, true);
    if (length < 3 || length > COMMIT_BODY_BYTES_MAX || bytes[position + RECORD_HEADER_BYTES] !== TYPE.commit) continue;
    const read = readRecordAt(bytes, view, position);
    if (!('body' in read)) continue;
    const decoded = decodeRecord(read.body);
    if (decoded.ok && decoded.record.type === 'commit' && decoded.record.durable >= damaged) return true;
  }
  return false;
}

/** Replays a log file. A torn tail is reported through `committedBytes`; damage that a crash
 *  cannot explain is an error. */
export function parseLog(bytes: Uint8Array, generation: number): { ok: true; log: ParsedLog } | { ok: false; error: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const state = new LogState();
  let pending: { record: LogRecord; bytes: number }[] = [];
  let committedBytes = 0;
  let position = 0;
  while (position < bytes.length) {
    const read = readRecordAt(bytes, view, position);
    if (!('body' in read)) {
      if (committedBytes === 0) return { ok: false, error: `${read.bad} at offset ${position} in the base batch` };
      if (commitProvesDurable(bytes, view, position, state.sequence + 1)) {
        return { ok: false, error: `${read.bad} at offset ${position}, inside batch ${state.sequence + 1} which a later commit says was durable` };
      }
      break; // a torn tail: a crash while appending
    }
    const decoded = decodeRecord(read.body);
    if (!decoded.ok) return { ok: false, error: `record at offset ${position}: ${decoded.error}` };
    const recordBytes = RECORD_HEADER_BYTES + read.body.length;
    position += recordBytes;
    if (decoded.record.type !== 'commit') {
      pending.push({ record: decoded.record, bytes: recordBytes });
      continue;
    }
    const problem = applyBatch(state, pending, decoded.record, { first: committedBytes === 0, generation });
    if (problem !== null) return { ok: false, error: `batch ending at offset ${position}: ${problem}` };
    pending = [];
    committedBytes = position;
  }
  if (committedBytes === 0) return { ok: false, error: 'no committed base batch' };
  return { ok: true, log: { state, committedBytes } };
}

function applyBatch(state: LogState, records: { record: LogRecord; bytes: number }[], commit: { sequence: number; durable: number }, where: { first: boolean; generation: number }): string | null {
  if (!where.first && commit.sequence !== state.sequence + 1) return `sequence ${commit.sequence} after ${state.sequence}`;
  if (commit.durable >= commit.sequence) return `durable ${commit.durable} not below sequence ${commit.sequence}`;
  const head = records[0]?.record;
  if (where.first) {
    if (head?.type !== 'header') return 'the log does not start with a header';
    if (head.version !== FILE_FORMAT_VERSION) return `format version ${head.version}, expected ${FILE_FORMAT_VERSION}`;
    if (head.generation !== where.generation) return `header says generation ${head.generation}, the file name ${where.generation}`;
  }
  for (const [i, { record, bytes }] of records.entries()) {
    let problem: string | null = null;
    if (record.type === 'header') problem = i === 0 && where.first ? null : 'a header inside the log';
    else if (record.type === 'hard-state') state.hardState = record.hardState;
    else if (record.type === 'snapshot') state.setSnapshot(record.ref, null);
    else if (record.type === 'truncate') problem = state.truncate(record.fromIndex);
    else if (record.type === 'entry') problem = state.append(record.entry, bytes);
    if (problem !== null) return problem;
  }
  if (state.snapshotRef === null) return 'no snapshot reference in the base batch';
  state.sequence = commit.sequence;
  return null;
}

// --- File helpers ----------------------------------------------------------------------------------

/** Writes all of `bytes` at `position`. Bounded: every pass writes at least one byte or fails. */
async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write made no progress at ${position + written}`);
    written += bytesWritten;
  }
}

/** Temp name, write, fdatasync, close, rename: the final name only ever holds complete bytes. */
async function writeFileDurably(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, `${name}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await writeAll(handle, bytes, 0);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, name));
}

/** Makes renames and unlinks in `dir` durable (POSIX: fsync the directory). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A plain write, no fsync (what a crash may leave behind). */
async function writeFileForTesting(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await writeAll(handle, bytes, 0);
  } finally {
    await handle.close();
  }
}

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// --- The storage -----------------------------------------------------------------------------------

type Operation =
  | { readonly kind: 'append'; readonly bytes: Uint8Array; readonly sync: boolean; readonly sequence: number }
  | { readonly kind: 'rotate'; readonly generation: number; readonly snapshot: Uint8Array | null; readonly log: Uint8Array; readonly sequence: number; readonly oldSnapshotGeneration: number | null }
  | { readonly kind: 'barrier' };

export class FileStorage implements ReplicaStorage {
  private state = new LogState();
  private handle: FileHandle | null = null;
  private generation = 0;
  /** Projected log size once every accepted operation is written. */
  private logBytes = 0;
  /** The log's size on disk as far as this instance wrote it (where the next append goes). */
  private diskBytes = 0;
  /** The generation of the snapshot file the current log refers to. */
  private snapshotFileGeneration: number | null = null;
  /** The highest sequence known fsynced (written into each COMMIT). */
  private durableSequence = 0;
  private failure: Error | null = null;
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(readonly dir: string) {}

  /** Opens `dir` (created if absent) and recovers: see the module comment. Never rejects: a
   *  failure is kept and reported by `load`. */
  static async open(dir: string): Promise<FileStorage> {
    const storage = new FileStorage(dir);
    try {
      await storage.recover();
    } catch (error) {
      storage.failure = errorOf(error);
    }
    return storage;
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    const generations = names.flatMap((name) => LOG_NAME.exec(name)?.[1] ?? []).map(Number).sort((a, b) => a - b);
    const newest = generations[generations.length - 1];
    if (newest === undefined) {
      await this.removeLeftovers(names, null);
      return;
    }
    const path = join(this.dir, logName(newest));
    const size = (await stat(path)).size;
    if (size > LOG_FILE_BYTES_MAX) throw new Error(`${path}: ${size} bytes, above LOG_FILE_BYTES_MAX`);
    const bytes = await readFile(path);
    const parsed = parseLog(bytes, newest);
    if (!parsed.ok) throw new Error(`${path}: corrupt log: ${parsed.error}`);
    const { state, committedBytes } = parsed.log;
    const ref = state.snapshotRef;
    assert(ref !== null, 'a parsed log has a snapshot');
    state.snapshotData = await this.readSnapshot(ref);
    this.handle = await open(path, 'r+');
    if (committedBytes < bytes.length) {
      await this.handle.truncate(committedBytes); // drop the torn tail before appending after it
      await this.handle.datasync();
    }
    this.state = state;
    this.generation = newest;
    this.logBytes = committedBytes;
    this.diskBytes = committedBytes;
    this.snapshotFileGeneration = ref.fileGeneration;
    this.durableSequence = state.sequence;
    await this.removeLeftovers(names, { log: newest, snapshot: ref.fileGeneration });
  }

  private async readSnapshot(ref: SnapshotRef): Promise<Uint8Array> {
    const path = join(this.dir, snapshotName(ref.fileGeneration));
    const size = (await stat(path)).size;
    if (size !== ref.length) throw new Error(`${path}: ${size} bytes, the log says ${ref.length}`);
    const data = new Uint8Array(await readFile(path));
    if (crc32(data) !== ref.crc) throw new Error(`${path}: checksum mismatch`);
    return data;
  }

  /** Deletes temp files, older generations and snapshots no log refers to (crash leftovers). */
  private async removeLeftovers(names: readonly string[], keep: { log: number; snapshot: number } | null): Promise<void> {
    for (const name of names) {
      const log = LOG_NAME.exec(name);
      const snapshot = SNAPSHOT_NAME.exec(name);
      const stale = name.endsWith('.tmp') || (log !== null && Number(log[1]) !== keep?.log) || (snapshot !== null && Number(snapshot[1]) !== keep?.snapshot);
      if (stale) await unlink(join(this.dir, name));
    }
  }

  load(done: Parameters<ReplicaStorage['load']>[0]): void {
    this.enqueue({ kind: 'barrier' }, (error) => {
      if (error !== null) return done({ ok: false, error });
      const { hardState, snapshotRef, snapshotData } = this.state;
      if (hardState === null || snapshotRef === null) return done({ ok: true, state: null });
      assert(snapshotData !== null, 'snapshot bytes are known after recovery');
      const state: PersistedState = { hardState, snapshot: { meta: snapshotRef.meta, data: snapshotData }, entries: this.state.entries.slice() };
      done({ ok: true, state });
    });
  }

  persist(batch: PersistBatch, done: (error: Error | null) => void): void {
    if (this.failure !== null) return this.enqueue({ kind: 'barrier' }, done);
    const empty = batch.hardState === null && batch.snapshot === null && batch.entries.length === 0;
    if (empty) return this.enqueue({ kind: 'barrier' }, done);
    if (batch.snapshot !== null) {
      const ref = this.newSnapshotRef(batch.snapshot);
      this.state.setSnapshot(ref, batch.snapshot.data);
      this.applyEntries(new RecordWriter(), batch.entries);
      if (batch.hardState !== null) this.state.hardState = batch.hardState;
      return this.enqueue(this.rotation(batch.snapshot.data), done);
    }
    assert(this.state.snapshotRef !== null, 'the first batch of a replica carries its (bootstrap) snapshot');
    const records = new RecordWriter();
    this.applyEntries(records, batch.entries);
    if (batch.hardState !== null) {
      records.hardState(batch.hardState);
      this.state.hardState = batch.hardState;
    }
    this.state.sequence += 1;
    records.commit(this.state.sequence, this.durableSequence);
    const bytes = records.finish();
    this.logBytes += bytes.length;
    this.enqueue({ kind: 'append', bytes, sync: batch.sync, sequence: this.state.sequence }, done);
    if (this.logBytes > LOG_ROTATE_BYTES && this.logBytes > 2 * this.state.liveEntryBytes) this.enqueue(this.rotation(null), () => undefined);
  }

  compact(snapshot: Snapshot, done: (error: Error | null) => void): void {
    if (this.failure !== null) return this.enqueue({ kind: 'barrier' }, done);
    const problem = this.state.compactTo(this.newSnapshotRef(snapshot), snapshot.data);
    assert(problem === null, `compact: ${problem}`);
    this.enqueue(this.rotation(snapshot.data), done);
  }

  /** Waits for every accepted operation, then closes the log. The instance is unusable after. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.enqueue({ kind: 'barrier' }, () => resolve()));
    this.closed = true;
    await this.handle?.close();
    this.handle = null;
  }

  private newSnapshotRef(snapshot: Snapshot): SnapshotRef {
    assert(snapshot.data.length <= SNAPSHOT_BYTES_MAX, 'snapshot within SNAPSHOT_BYTES_MAX');
    return { meta: snapshot.meta, fileGeneration: this.generation + 1, length: snapshot.data.length, crc: crc32(snapshot.data) };
  }

  /** Truncation marker (when the batch overwrites) and entry records; asserts the contract. */
  private applyEntries(records: RecordWriter, entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (first.index <= this.state.lastIndex()) {
      const problem = this.state.truncate(first.index);
      assert(problem === null, `persist: ${problem}`);
      records.truncate(first.index);
    }
    for (const entry of entries) {
      const problem = this.state.append(entry, records.entry(entry));
      assert(problem === null, `persist: ${problem}`);
    }
  }

  /** A new generation holding the current state; `snapshot` is written first when it is new. */
  private rotation(snapshot: Uint8Array | null): Operation {
    const ref = this.state.snapshotRef;
    assert(ref !== null, 'rotation after a snapshot');
    const oldSnapshotGeneration = snapshot === null ? null : this.snapshotFileGeneration;
    this.generation += 1;
    if (snapshot !== null) assert(ref.fileGeneration === this.generation, 'a new snapshot is named by its generation');
    this.snapshotFileGeneration = ref.fileGeneration;
    const records = new RecordWriter();
    records.header(this.generation);
    records.snapshot(ref);
    if (this.state.hardState !== null) records.hardState(this.state.hardState);
    for (const entry of this.state.entries) records.entry(entry);
    this.state.sequence += 1;
    records.commit(this.state.sequence, this.durableSequence);
    const log = records.finish();
    this.logBytes = log.length;
    return { kind: 'rotate', generation: this.generation, snapshot, log, sequence: this.state.sequence, oldSnapshotGeneration };
  }

  /** Runs `operation` after every earlier one; `done` is called outside the queue's promise chain
   *  (a throwing callback surfaces as an uncaught exception, never as a swallowed rejection). */
  private enqueue(operation: Operation, done: (error: Error | null) => void): void {
    const finish = (error: Error | null) => queueMicrotask(() => done(error));
    if (this.closed) return finish(new Error(`${this.dir}: storage closed`));
    if (this.queued >= FILE_QUEUE_OPERATIONS_MAX) return finish(new Error(`${this.dir}: more than FILE_QUEUE_OPERATIONS_MAX operations queued`));
    this.queued += 1;
    this.tail = this.tail.then(async () => {
      this.queued -= 1;
      if (this.failure !== null) return finish(this.failure);
      try {
        await this.execute(operation);
        finish(null);
      } catch (error) {
        this.failure = errorOf(error);
        finish(this.failure);
      }
    });
  }

  private async execute(operation: Operation): Promise<void> {
    if (operation.kind === 'barrier') return;
    if (operation.kind === 'append') {
      assert(this.handle !== null, 'a log is open before appending');
      await writeAll(this.handle, operation.bytes, this.diskBytes);
      this.diskBytes += operation.bytes.length;
      if (operation.sync) {
        await this.handle.datasync();
        this.durableSequence = Math.max(this.durableSequence, operation.sequence);
      }
      return;
    }
    if (operation.snapshot !== null) await writeFileDurably(this.dir, snapshotName(operation.generation), operation.snapshot);
    await writeFileDurably(this.dir, logName(operation.generation), operation.log);
    await syncDirectory(this.dir); // the commit point: the new log's name is durable
    const previous = this.handle;
    this.handle = await open(join(this.dir, logName(operation.generation)), 'r+');
    this.diskBytes = operation.log.length;
    this.durableSequence = Math.max(this.durableSequence, operation.sequence);
    if (previous !== null) {
      await previous.close();
      await unlink(join(this.dir, logName(operation.generation - 1)));
    }
    if (operation.oldSnapshotGeneration !== null) await unlink(join(this.dir, snapshotName(operation.oldSnapshotGeneration)));
  }

  // --- Testing hooks ------------------------------------------------------------------------------

  /**
   * Simulates a crash while `batch` is being written (the compliance suite's crash injector): the
   * bytes persist would write go to disk torn by `tear` (for a new generation: the snapshot file
   * whole under its temp name, the log torn under its temp name; `renamed` also renames both, as
   * if the crash hit just before the old generation was deleted). The instance is dead afterwards.
   */
  async crashDuringPersistForTesting(batch: PersistBatch, tear: (bytes: Uint8Array) => Uint8Array, renamed: boolean): Promise<void> {
    await this.close();
    this.closed = false;
    const operations: Operation[] = [];
    this.enqueue = (operation) => void operations.push(operation);
    this.persist(batch, () => undefined);
    this.closed = true;
    const operation = operations[0];
    assert(operation !== undefined && operation.kind !== 'barrier', 'the crashed batch writes something');
    if (operation.kind === 'append') {
      const fd = openSync(join(this.dir, logName(this.generation)), 'r+');
      try {
        const torn = tear(operation.bytes);
        writeSync(fd, torn, 0, torn.length, this.logBytes - operation.bytes.length);
      } finally {
        closeSync(fd);
      }
      return;
    }
    const suffix = renamed ? '' : '.tmp';
    if (operation.snapshot !== null) await writeFileForTesting(join(this.dir, snapshotName(operation.generation) + suffix), operation.snapshot);
    await writeFileForTesting(join(this.dir, logName(operation.generation) + suffix), renamed ? operation.log : tear(operation.log));
  }

  /** The current log file (for tests that damage it). */
  logPathForTesting(): string {
    return join(this.dir, logName(this.generation));
  }
}

/** Opens (creating if needed) the file storage of one replica in `dir`. */
export function openFileStorage(dir: string): Promise<FileStorage> {
  return FileStorage.open(dir);
}
