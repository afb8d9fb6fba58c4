/**
 * ReplicaStorage on IndexedDB (through idb), for browser peers: one database per room and peer id
 * (`meshkeeper:<room>:<peerId>`), so each slot identity of a profile keeps its own replica.
 *
 * Schema (version IDB_SCHEMA_VERSION, created by `upgrade`; a later version adds a step there):
 *   meta      'hardState' -> encodeHardState bytes
 *   entries   entry index (number key) -> encodeEntry bytes
 *   snapshot  'current' -> { meta: encodeSnapshotMeta bytes, data: the state-machine bytes }
 * Values are the core codec's bytes, so load validates them with the same bounds-checked decoders
 * as a network message (DESIGN.md habit 4: check before the put and after the load).
 *
 * persist is ONE readwrite transaction over the three stores, every request issued synchronously
 * and nothing else awaited inside it (idb's rule), with `durability: 'strict'` when the batch must
 * sync (the transaction completes once the data is flushed to disk) and 'relaxed' otherwise. A
 * snapshot clears the entries store; entries delete the key range from their first index up before
 * their puts. compact is one strict transaction: the snapshot, and a delete of entries <= index.
 *
 * Recovery at start is IndexedDB's own (a transaction is all or nothing); load reads the three
 * stores in one readonly transaction and checks what it read: values decode, keys match indexes,
 * the log is contiguous after the snapshot with non-decreasing terms. Anything else is reported as
 * `{ ok: false, error }`, never thrown. After any failed transaction the storage refuses everything
 * (a replica must not go on from an unknown state: reopen to recover from what is stored).
 *
 * Imports no Node module: Vite bundles it for the browser.
 */

import { deleteDB, openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { assert } from '../core/assert.js';
import { decodeEntry, decodeHardState, decodeSnapshotMeta, encodeEntry, encodeHardState, encodeSnapshotMeta } from '../core/codec/raft.js';
import type { Entry, PersistedState, Snapshot } from '../core/consensus/index.js';
import { SNAPSHOT_BYTES_MAX } from '../core/limits.js';
import type { PersistBatch, ReplicaStorage } from '../peer/interfaces.js';

/** The schema version; `upgrade` below brings any older database to it. */
export const IDB_SCHEMA_VERSION = 1;

/** The longest room name or peer id in a database name: above the client's room cap (128) and
 *  PEER_ID_BYTES_MAX, bounds the name every open and delete uses. */
export const IDB_NAME_PART_CHARS_MAX = 256;

const HARD_STATE_KEY = 'hardState';
const SNAPSHOT_KEY = 'current';
const STORES = ['meta', 'entries', 'snapshot'] as const;

interface StoredSnapshot {
  readonly meta: Uint8Array;
  readonly data: Uint8Array;
}

interface ReplicaSchema extends DBSchema {
  meta: { key: string; value: Uint8Array };
  entries: { key: number; value: Uint8Array };
  snapshot: { key: string; value: StoredSnapshot };
}

type Database = IDBPDatabase<ReplicaSchema>;
type WriteTransaction = IDBPTransaction<ReplicaSchema, typeof STORES, 'readwrite'>;

export interface IndexedDbStorageOptions {
  readonly room: string;
  readonly peerId: string;
}

export function indexedDbName(options: IndexedDbStorageOptions): string {
  for (const [what, value] of [['room', options.room], ['peerId', options.peerId]] as const) {
    assert(typeof value === 'string' && value.length > 0, `${what} is a non-empty string`);
    assert(value.length <= IDB_NAME_PART_CHARS_MAX, `${what} within IDB_NAME_PART_CHARS_MAX`);
  }
  return `meshkeeper:${options.room}:${options.peerId}`;
}

/** Creates the stores of each schema version the database lacks. */
function upgrade(db: Database, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('meta');
    db.createObjectStore('entries');
    db.createObjectStore('snapshot');
  }
}

/** A view's own bytes: structured clone would otherwise store the whole underlying buffer. */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** What the log spans, as of every accepted write (for the contract's assertions). */
interface LogBounds {
  snapshotIndex: number;
  lastIndex: number;
  lastTerm: number;
}

/** Issues a batch's requests on `tx`, synchronously (nothing awaited between them). */
function writeBatch(tx: WriteTransaction, batch: PersistBatch): Promise<unknown>[] {
  const requests: Promise<unknown>[] = [];
  const entries = tx.objectStore('entries');
  if (batch.snapshot !== null) {
    const stored: StoredSnapshot = { meta: encodeSnapshotMeta(batch.snapshot.meta), data: ownBytes(batch.snapshot.data) };
    requests.push(tx.objectStore('snapshot').put(stored, SNAPSHOT_KEY), entries.clear());
  }
  const first = batch.entries[0];
  if (first !== undefined) {
    requests.push(entries.delete(IDBKeyRange.lowerBound(first.index)));
    for (const entry of batch.entries) requests.push(entries.put(encodeEntry(entry), entry.index));
  }
  if (batch.hardState !== null) requests.push(tx.objectStore('meta').put(encodeHardState(batch.hardState), HARD_STATE_KEY));
  return requests;
}

/** Checks what load read; the problem, or null. */
function validate(raw: { hard: Uint8Array | undefined; snapshot: StoredSnapshot | undefined; keys: number[]; values: Uint8Array[] }): { ok: true; state: PersistedState | null } | { ok: false; error: string } {
  if (raw.hard === undefined && raw.snapshot === undefined && raw.keys.length === 0) return { ok: true, state: null };
  if (raw.hard === undefined || raw.snapshot === undefined) return { ok: false, error: `incomplete replica: ${raw.hard === undefined ? 'no hard state' : 'no snapshot'}` };
  const hardState = decodeHardState(raw.hard);
  if (!hardState.ok) return { ok: false, error: `hard state: ${hardState.error}` };
  if (!(raw.snapshot.data instanceof Uint8Array) || raw.snapshot.data.length > SNAPSHOT_BYTES_MAX) return { ok: false, error: 'snapshot data is not bytes within SNAPSHOT_BYTES_MAX' };
  const meta = decodeSnapshotMeta(raw.snapshot.meta);
  if (!meta.ok) return { ok: false, error: `snapshot meta: ${meta.error}` };
  if (raw.keys.length !== raw.values.length) return { ok: false, error: 'entry keys and values differ in number' };
  const entries: Entry[] = [];
  let previous = { index: meta.value.index, term: meta.value.term };
  for (const [i, value] of raw.values.entries()) {
    const decoded = decodeEntry(value);
    if (!decoded.ok) return { ok: false, error: `entry under key ${raw.keys[i]}: ${decoded.error}` };
    const entry = decoded.value;
    if (raw.keys[i] !== entry.index) return { ok: false, error: `entry ${entry.index} stored under key ${raw.keys[i]}` };
    if (entry.index !== previous.index + 1) return { ok: false, error: `entry ${entry.index} does not follow ${previous.index}` };
    if (entry.term < previous.term) return { ok: false, error: `entry ${entry.index} has term ${entry.term} below ${previous.term}` };
    entries.push(entry);
    previous = entry;
  }
  return { ok: true, state: { hardState: hardState.value, snapshot: { meta: meta.value, data: raw.snapshot.data }, entries } };
}

export class IndexedDbStorage implements ReplicaStorage {
  private bounds: LogBounds | null = null;
  private failure: Error | null = null;
  private loaded = false;

  private constructor(
    readonly name: string,
    private readonly db: Database,
  ) {}

  /** Opens (creating or upgrading) the database. Rejects only when IndexedDB itself refuses. */
  static async open(options: IndexedDbStorageOptions): Promise<IndexedDbStorage> {
    const name = indexedDbName(options);
    let storage: IndexedDbStorage | null = null;
    const db = await openDB<ReplicaSchema>(name, IDB_SCHEMA_VERSION, {
      upgrade: (database, oldVersion) => upgrade(database, oldVersion),
      // Another tab upgrades or deletes this database: let it, and stop using this connection.
      blocking: () => storage?.fail(new Error(`${name}: closed for an upgrade or delete elsewhere`), true),
      terminated: () => storage?.fail(new Error(`${name}: the browser closed the database`), false),
    });
    storage = new IndexedDbStorage(name, db);
    return storage;
  }

  private fail(error: Error, close: boolean): void {
    this.failure ??= error;
    if (close) this.db.close();
  }

  /** Calls back outside the promise chain: a throwing callback surfaces as an uncaught error. */
  private finish<T>(done: (value: T) => void, value: T): void {
    queueMicrotask(() => done(value));
  }

  load(done: Parameters<ReplicaStorage['load']>[0]): void {
    if (this.failure !== null) return this.finish(done, { ok: false, error: this.failure });
    let tx;
    try {
      tx = this.db.transaction(STORES, 'readonly');
    } catch (error) {
      return this.finish(done, { ok: false, error: errorOf(error) });
    }
    const entries = tx.objectStore('entries');
    Promise.all([tx.objectStore('meta').get(HARD_STATE_KEY), tx.objectStore('snapshot').get(SNAPSHOT_KEY), entries.getAllKeys(), entries.getAll(), tx.done]).then(
      ([hard, snapshot, keys, values]) => {
        const result = validate({ hard, snapshot, keys, values });
        if (!result.ok) return this.finish(done, { ok: false, error: new Error(`${this.name}: corrupt replica: ${result.error}`) });
        const state = result.state;
        const last = state?.entries[state.entries.length - 1];
        this.bounds = state === null ? null : { snapshotIndex: state.snapshot.meta.index, lastIndex: last?.index ?? state.snapshot.meta.index, lastTerm: last?.term ?? state.snapshot.meta.term };
        this.loaded = true;
        this.finish(done, { ok: true, state });
      },
      (error: unknown) => this.finish(done, { ok: false, error: errorOf(error) }),
    );
  }

  persist(batch: PersistBatch, done: (error: Error | null) => void): void {
    if (this.failure !== null) return this.finish(done, this.failure);
    if (batch.hardState === null && batch.snapshot === null && batch.entries.length === 0) return this.finish(done, null);
    this.checkBatch(batch);
    this.run(batch.sync ? 'strict' : 'relaxed', (tx) => writeBatch(tx, batch), done);
  }

  compact(snapshot: Snapshot, done: (error: Error | null) => void): void {
    if (this.failure !== null) return this.finish(done, this.failure);
    const bounds = this.bounds;
    assert(bounds !== null, 'compact after the bootstrap write');
    assert(snapshot.meta.index > bounds.snapshotIndex, `compaction at ${snapshot.meta.index} moves past the snapshot at ${bounds.snapshotIndex}`);
    assert(snapshot.meta.index <= bounds.lastIndex, `compaction at ${snapshot.meta.index} covers only stored entries (last ${bounds.lastIndex})`);
    bounds.snapshotIndex = snapshot.meta.index;
    this.run('strict', (tx) => [
      tx.objectStore('snapshot').put({ meta: encodeSnapshotMeta(snapshot.meta), data: ownBytes(snapshot.data) }, SNAPSHOT_KEY),
      tx.objectStore('entries').delete(IDBKeyRange.upperBound(snapshot.meta.index)),
    ], done);
  }

  /** Closes the connection once its transactions finish. The instance is unusable after. */
  close(): void {
    this.fail(new Error(`${this.name}: closed`), true);
  }

  /** Asserts the PersistBatch contract against the log as of every accepted write. */
  private checkBatch(batch: PersistBatch): void {
    assert(this.loaded, 'load before persist');
    if (batch.snapshot !== null) {
      assert(batch.snapshot.data.length <= SNAPSHOT_BYTES_MAX, 'snapshot within SNAPSHOT_BYTES_MAX');
      this.bounds = { snapshotIndex: batch.snapshot.meta.index, lastIndex: batch.snapshot.meta.index, lastTerm: batch.snapshot.meta.term };
    }
    const bounds = this.bounds;
    assert(bounds !== null, 'the first batch of a replica carries its (bootstrap) snapshot');
    let previousTerm = 0;
    for (const [i, entry] of batch.entries.entries()) {
      if (i === 0) {
        assert(entry.index > bounds.snapshotIndex, `entry ${entry.index} is after the snapshot at ${bounds.snapshotIndex}`);
        assert(entry.index <= bounds.lastIndex + 1, `entry ${entry.index} follows the stored log (last ${bounds.lastIndex})`);
        previousTerm = entry.index === bounds.lastIndex + 1 ? bounds.lastTerm : 0;
      } else {
        assert(entry.index === (batch.entries[i - 1] as Entry).index + 1, 'batch entries are contiguous');
      }
      assert(entry.term >= previousTerm, `entry ${entry.index}: terms do not decrease`);
      previousTerm = entry.term;
    }
    const last = batch.entries[batch.entries.length - 1];
    if (last !== undefined) Object.assign(bounds, { lastIndex: last.index, lastTerm: last.term });
  }

  /** One readwrite transaction over every store: `write` issues its requests synchronously; done
   *  once the transaction commits (durably when strict). */
  private run(durability: IDBTransactionDurability, write: (tx: WriteTransaction) => Promise<unknown>[], done: (error: Error | null) => void): void {
    let tx: WriteTransaction;
    let requests: Promise<unknown>[];
    try {
      tx = this.db.transaction(STORES, 'readwrite', { durability });
      requests = write(tx);
    } catch (error) {
      this.fail(errorOf(error), false);
      return this.finish(done, this.failure);
    }
    Promise.all([...requests, tx.done]).then(
      () => this.finish(done, null),
      (error: unknown) => {
        this.fail(errorOf(error), false);
        this.finish(done, this.failure);
      },
    );
  }

  // --- Testing hooks ------------------------------------------------------------------------------

  /** A crash before commit: the batch's requests are issued in their transaction, which is then
   *  aborted (as a page killed before the commit). The instance is closed afterwards. */
  async abortedPersistForTesting(batch: PersistBatch): Promise<void> {
    this.checkBatch(batch);
    const tx = this.db.transaction(STORES, 'readwrite', { durability: 'strict' });
    const requests = writeBatch(tx, batch);
    tx.abort();
    const outcome = await Promise.all([...requests, tx.done]).then(() => 'committed', () => 'aborted');
    assert(outcome === 'aborted', 'the transaction was aborted');
    this.close();
  }

  /** Overwrites the middle entry with bytes that do not decode (damage at rest). */
  async corruptEntryForTesting(): Promise<void> {
    const keys = await this.db.getAllKeys('entries');
    const middle = keys[Math.floor(keys.length / 2)];
    assert(middle !== undefined, 'entries to corrupt');
    await this.db.put('entries', new Uint8Array([0xff, 0xff, 0xff]), middle);
  }
}

/** Opens the replica database of `peerId` in `room`. */
export function openIndexedDbStorage(options: IndexedDbStorageOptions): Promise<IndexedDbStorage> {
  return IndexedDbStorage.open(options);
}

/** Deletes the replica database of `peerId` in `room` ("forget this peer", tests). Open
 *  connections elsewhere are asked to close (their storage fails); resolves once deleted. */
export function deleteIndexedDbStorage(options: IndexedDbStorageOptions): Promise<void> {
  return deleteDB(indexedDbName(options));
}

