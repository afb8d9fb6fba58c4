/**
 * The storage compliance suite: every ReplicaStorage (memory, IndexedDB, files) runs these cases,
 * so the adapters agree with the PersistBatch contract (src/peer/interfaces.ts) and with each other.
 * The reference is MemoryStore (storage-memory.ts): each case writes through the adapter and through
 * a MemoryStore model, and after every reopen (a restart) the adapter must load exactly what the
 * model holds — exactly what was acknowledged, nothing more, nothing less.
 *
 * Framework-agnostic: a case is a named async function over a `StoreUnderTest` and throws a
 * `ComplianceFailure` (through `check`) when the adapter is wrong. Vitest runs it for memory and
 * files (storage-*.test.ts); Chromium runs it for IndexedDB (storage-compliance.browser.ts through
 * e2e/storage-idb.spec.ts). Nothing here imports Node or DOM APIs.
 *
 * Crash cases need an adapter-specific injector (a torn append for files, an aborted transaction
 * for IndexedDB); a store without one skips them. Corruption cases likewise need a `corrupt` hook.
 */

import { Prng } from '../core/prng.js';
import { ENTRY_DATA_BYTES_MAX } from '../core/limits.js';
import { makeConfig, type Config, type Entry, type EntryKind, type HardState, type PersistedState, type Snapshot } from '../core/consensus/index.js';
import type { PersistBatch, ReplicaStorage } from '../peer/interfaces.js';
import { MemoryStore } from './storage-memory.js';

// --- Limits of the suite ----------------------------------------------------------------------

/** Batches of the "many batches" case: enough to cross several compactions, overwrites and (for
 *  files) a log rotation check, small enough to run in a few seconds on IndexedDB. */
export const MANY_BATCHES_COUNT = 400;

/** Reopen every this many batches in the "many batches" case: restarts at arbitrary log shapes. */
export const MANY_BATCHES_REOPEN_EVERY = 97;

/** Persists issued without waiting in the queueing case: well above one (the replica's own use)
 *  and below the adapters' queue bounds. */
export const QUEUED_OPERATIONS_COUNT = 50;

/** The large snapshot: big enough to need chunked disk writes and several IndexedDB pages, small
 *  enough for a test (the real bound is SNAPSHOT_BYTES_MAX). */
export const LARGE_SNAPSHOT_BYTES = 8 * 1024 * 1024;

/** Seed of the seeded cases; a failure message carries it. */
export const COMPLIANCE_SEED = 0x5eed_0005;

// --- What an adapter provides -----------------------------------------------------------------

/** Simulates a crash in the middle of persisting a batch. The storage instance is abandoned
 *  afterwards (as a crashed process's would be); the case reopens the store. */
export interface CrashInjector {
  /** The crash points the adapter can simulate (each runs as its own sub-case). `mayKeepBatch`:
   *  the whole crashed batch may be found after the crash (it reached the disk whole, unsynced);
   *  otherwise it must be gone. Never may part of it be found. */
  readonly variants: readonly { readonly name: string; readonly mayKeepBatch: boolean }[];
  crashDuringPersist(storage: ReplicaStorage, batch: PersistBatch, variant: number): Promise<void>;
}

/** One case's store: `open()` opens the SAME store again each time (a restart of the replica);
 *  the factory closes the previous instance first if its adapter needs that. */
export interface StoreUnderTest {
  open(): Promise<ReplicaStorage>;
  readonly crash?: CrashInjector;
  /** Damages acknowledged data at rest (a flipped bit in the middle of the log, a garbage record):
   *  load must then report an error, never throw or return wrong state. */
  corrupt?(): Promise<void>;
}

export interface StorageFactory {
  readonly name: string;
  /** A fresh, empty store for one case. */
  create(caseName: string): Promise<StoreUnderTest>;
  /** Releases the case's store (closes instances, removes files or the database). */
  destroy(store: StoreUnderTest): Promise<void>;
}

export interface ComplianceCase {
  readonly name: string;
  /** Whether the case needs a hook the store lacks (then it is skipped, and says so). */
  readonly needs?: 'crash' | 'corrupt';
  /** Runs the case; may return a short note (e.g. a measured latency). */
  run(store: StoreUnderTest): Promise<string | void>;
}

export interface CaseResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly error?: string;
  readonly note?: string;
  readonly durationMs: number;
}

export class ComplianceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComplianceFailure';
  }
}

/** The suite's assert: a false condition is the adapter's failure, named by `message`. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ComplianceFailure(message);
}

// --- Promise wrappers over the callback interface ---------------------------------------------

export function loadFrom(storage: ReplicaStorage): Promise<PersistedState | null> {
  return new Promise((resolve, reject) => {
    storage.load((result) => (result.ok ? resolve(result.state) : reject(result.error)));
  });
}

/** Loads, expecting a reported error; fails if load succeeds or throws instead of reporting. */
export function loadError(storage: ReplicaStorage): Promise<Error> {
  return new Promise((resolve, reject) => {
    try {
      storage.load((result) => {
        if (result.ok) reject(new ComplianceFailure('load succeeded on corrupted storage'));
        else resolve(result.error);
      });
    } catch (error) {
      reject(new ComplianceFailure(`load threw instead of reporting: ${String(error)}`));
    }
  });
}

export function persistTo(storage: ReplicaStorage, batch: PersistBatch): Promise<void> {
  return new Promise((resolve, reject) => storage.persist(batch, (error) => (error === null ? resolve() : reject(error))));
}

export function compactTo(storage: ReplicaStorage, snapshot: Snapshot): Promise<void> {
  return new Promise((resolve, reject) => storage.compact(snapshot, (error) => (error === null ? resolve() : reject(error))));
}

// --- Building blocks ---------------------------------------------------------------------------

const CONFIG = makeConfig(['peer-a', 'peer-b', 'peer-c'], ['observer-d']);

export function entry(index: number, term: number, data: Uint8Array = bytesOf(`entry ${index}/${term}`), kind: EntryKind = 'normal'): Entry {
  return { index, term, kind, data };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const result: Entry[] = [];
  for (let index = from; index <= to; index++) result.push(entry(index, term));
  return result;
}

export function snapshotAt(index: number, term: number, data: Uint8Array = bytesOf(`state at ${index}`), config: Config = CONFIG): Snapshot {
  return { meta: { index, term, config }, data };
}

export function batch(parts: Partial<PersistBatch>): PersistBatch {
  return { hardState: null, snapshot: null, entries: [], sync: true, ...parts };
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Seeded bytes: corruption or a mix-up between entries shows as a difference. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const prng = new Prng(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const word = prng.u32();
    bytes[i] = word & 0xff;
    if (i + 1 < length) bytes[i + 1] = (word >>> 8) & 0xff;
    if (i + 2 < length) bytes[i + 2] = (word >>> 16) & 0xff;
    if (i + 3 < length) bytes[i + 3] = word >>> 24;
  }
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameConfig(a: Config, b: Config): boolean {
  return a.voters.join('\n') === b.voters.join('\n') && a.learners.join('\n') === b.learners.join('\n');
}

function describeHardState(state: HardState): string {
  return `{term ${state.term}, vote ${state.vote ?? 'none'}, commit ${state.commit}}`;
}

/** Where `actual` differs from `expected`, or null when they are the same state. */
export function stateDifference(actual: PersistedState | null, expected: PersistedState | null): string | null {
  if (actual === null || expected === null) {
    return actual === expected ? null : `loaded ${actual === null ? 'null' : 'a state'}, expected ${expected === null ? 'null' : 'a state'}`;
  }
  const hard = actual.hardState;
  const want = expected.hardState;
  if (hard.term !== want.term || hard.vote !== want.vote || hard.commit !== want.commit) {
    return `hard state ${describeHardState(hard)}, expected ${describeHardState(want)}`;
  }
  const meta = actual.snapshot.meta;
  const wantMeta = expected.snapshot.meta;
  if (meta.index !== wantMeta.index || meta.term !== wantMeta.term) {
    return `snapshot at ${meta.index}/${meta.term}, expected ${wantMeta.index}/${wantMeta.term}`;
  }
  if (!sameConfig(meta.config, wantMeta.config)) return 'snapshot config differs';
  if (!sameBytes(actual.snapshot.data, expected.snapshot.data)) return `snapshot data differs (${actual.snapshot.data.length} bytes, expected ${expected.snapshot.data.length})`;
  const span = (list: readonly Entry[]): string => (list.length === 0 ? 'none' : `${list[0]?.index}..${list[list.length - 1]?.index}`);
  if (actual.entries.length !== expected.entries.length) {
    return `entries ${span(actual.entries)} (${actual.entries.length}), expected ${span(expected.entries)} (${expected.entries.length})`;
  }
  for (let i = 0; i < expected.entries.length; i++) {
    const got = actual.entries[i] as Entry;
    const wantEntry = expected.entries[i] as Entry;
    if (got.index !== wantEntry.index || got.term !== wantEntry.term || got.kind !== wantEntry.kind) {
      return `entry #${i}: ${got.index}/${got.term}/${got.kind}, expected ${wantEntry.index}/${wantEntry.term}/${wantEntry.kind}`;
    }
    if (!sameBytes(got.data, wantEntry.data)) return `entry ${got.index}: data differs`;
  }
  return null;
}

/**
 * One case's view of its store: the adapter instance and the model of what was acknowledged.
 * Every write goes to both once the adapter acknowledged it; `reopen` compares.
 */
export class Session {
  readonly model = new MemoryStore();
  private current: ReplicaStorage | null = null;

  constructor(readonly store: StoreUnderTest) {}

  get storage(): ReplicaStorage {
    check(this.current !== null, 'session: open before use');
    return this.current;
  }

  /** Opens (or reopens) the store and requires that it loads exactly the acknowledged state. */
  async reopen(what: string): Promise<PersistedState | null> {
    this.current = await this.store.open();
    return this.expectLoaded(`after reopen (${what})`);
  }

  async expectLoaded(what: string): Promise<PersistedState | null> {
    const loaded = await loadFrom(this.storage);
    const difference = stateDifference(loaded, this.model.state());
    check(difference === null, `${what}: ${difference}`);
    return loaded;
  }

  async persist(write: PersistBatch): Promise<void> {
    await persistTo(this.storage, write);
    this.model.write(write);
  }

  async compact(snapshot: Snapshot): Promise<void> {
    await compactTo(this.storage, snapshot);
    this.model.compact(snapshot);
  }

  /** The first write of every replica (Replica.start): hard state and the index-0 snapshot. */
  async bootstrap(): Promise<void> {
    await this.persist(batch({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: snapshotAt(0, 0, new Uint8Array(0)) }));
  }

  lastIndex(): number {
    const last = this.model.entries[this.model.entries.length - 1];
    return last?.index ?? this.model.snapshot?.meta.index ?? 0;
  }

  lastTerm(): number {
    const last = this.model.entries[this.model.entries.length - 1];
    return last?.term ?? this.model.snapshot?.meta.term ?? 0;
  }
}

async function opened(store: StoreUnderTest): Promise<Session> {
  const session = new Session(store);
  await session.reopen('fresh');
  return session;
}

// --- The cases ---------------------------------------------------------------------------------

async function freshLoadsNull(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  check((await loadFrom(session.storage)) === null, 'a fresh store loads null');
  await session.reopen('nothing written');
  check((await loadFrom(session.storage)) === null, 'still null after reopening');
}

async function bootstrapRoundTrips(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.expectLoaded('bootstrap, same instance');
  const loaded = await session.reopen('bootstrap');
  check(loaded !== null && loaded.entries.length === 0, 'bootstrap leaves an empty log');
}

async function hardStateRoundTrips(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  const states: HardState[] = [
    { term: 1, vote: 'peer-a', commit: 0 },
    { term: 1, vote: 'peer-a', commit: 0 },
    { term: 2, vote: null, commit: 0 },
    { term: 7, vote: 'pëer-ü-🙂', commit: 0 },
    { term: 2 ** 40, vote: 'x'.repeat(64), commit: 0 },
  ];
  for (const [i, hardState] of states.entries()) {
    await session.persist(batch({ hardState, sync: i % 2 === 0 }));
    await session.reopen(`hard state #${i}`);
  }
  await session.persist(batch({ hardState: { term: 2 ** 40, vote: null, commit: 3 }, entries: entries(1, 3, 2 ** 40) }));
  await session.reopen('hard state with entries');
}

async function appendedEntriesRoundTrip(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.persist(batch({ entries: [entry(1, 1, new Uint8Array(0), 'noop'), entry(2, 1, bytesOf('config'), 'config'), entry(3, 1)] }));
  await session.expectLoaded('three entries, same instance');
  await session.reopen('three entries');
  await session.persist(batch({ entries: entries(4, 20, 1), hardState: { term: 1, vote: 'peer-a', commit: 10 } }));
  await session.persist(batch({ entries: [entry(21, 2, new Uint8Array([0, 255, 0]))] }));
  await session.reopen('twenty-one entries');
}

async function overwriteTruncatesTail(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.persist(batch({ entries: entries(1, 10, 1), hardState: { term: 1, vote: 'peer-a', commit: 2 } }));
  await session.persist(batch({ entries: entries(6, 7, 2), hardState: { term: 2, vote: 'peer-b', commit: 2 } }));
  const loaded = await session.reopen('overwrite 6..7 of 1..10');
  check(loaded !== null && loaded.entries.length === 7, 'entries 8..10 are gone after an overwrite at 6');
  await session.persist(batch({ entries: [entry(7, 3)] }));
  await session.reopen('overwrite the last entry alone');
  await session.persist(batch({ entries: entries(1, 2, 4) }));
  const rewritten = await session.reopen('overwrite from the first index');
  check(rewritten !== null && rewritten.entries.length === 2, 'an overwrite at the first index leaves only the new entries');
  await session.persist(batch({ entries: entries(3, 5, 4) }));
  await session.reopen('append after the overwrite');
}

async function snapshotBatchReplacesLog(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.persist(batch({ entries: entries(1, 10, 1), hardState: { term: 1, vote: null, commit: 10 } }));
  await session.persist(batch({ snapshot: snapshotAt(20, 3), entries: entries(21, 23, 3), hardState: { term: 3, vote: null, commit: 20 } }));
  const loaded = await session.reopen('snapshot at 20 with entries 21..23');
  check(loaded !== null && loaded.snapshot.meta.index === 20 && loaded.entries.length === 3, 'the snapshot replaced the log');
  await session.persist(batch({ snapshot: snapshotAt(22, 3, bytesOf('conflicting snapshot'), makeConfig(['peer-a'])) }));
  const cleared = await session.reopen('snapshot alone inside the log');
  check(cleared !== null && cleared.entries.length === 0, 'a snapshot alone leaves an empty log');
  await session.persist(batch({ entries: entries(23, 25, 4) }));
  await session.reopen('entries after the snapshot');
}

async function compactionKeepsLaterEntries(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.persist(batch({ entries: entries(1, 10, 1), hardState: { term: 1, vote: null, commit: 10 } }));
  await session.compact(snapshotAt(4, 1));
  await session.expectLoaded('compact at 4, same instance');
  const loaded = await session.reopen('compact at 4');
  check(loaded !== null && loaded.entries[0]?.index === 5 && loaded.entries.length === 6, 'entries 5..10 stay');
  await session.persist(batch({ entries: entries(8, 12, 2) }));
  await session.compact(snapshotAt(12, 2));
  const empty = await session.reopen('compact at the last index');
  check(empty !== null && empty.entries.length === 0, 'compaction at the last index leaves an empty log');
  await session.persist(batch({ entries: entries(13, 14, 2) }));
  await session.persist(batch({ entries: entries(13, 13, 3) }));
  await session.reopen('overwrite after compaction');
}

async function largeEntriesAndSnapshots(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.persist(batch({ entries: [entry(1, 1, patternBytes(ENTRY_DATA_BYTES_MAX, 1))] }));
  const medium: Entry[] = [];
  for (let index = 2; index <= 9; index++) medium.push(entry(index, 1, patternBytes(256 * 1024 + index, index)));
  await session.persist(batch({ entries: medium, hardState: { term: 1, vote: 'peer-a', commit: 9 } }));
  await session.reopen('a 2 MiB entry and eight 256 KiB entries');
  await session.compact(snapshotAt(5, 1, patternBytes(LARGE_SNAPSHOT_BYTES, 99)));
  await session.reopen('an 8 MiB snapshot');
  await session.persist(batch({ snapshot: snapshotAt(30, 2, patternBytes(LARGE_SNAPSHOT_BYTES + 1, 100)), entries: [entry(31, 2, patternBytes(ENTRY_DATA_BYTES_MAX, 31))] }));
  await session.reopen('a received 8 MiB snapshot with a 2 MiB entry');
}

/** Seeded operations on a growing log: appends, overwrites, hard states, compactions, snapshots. */
async function manyBatches(store: StoreUnderTest): Promise<string> {
  const prng = new Prng(COMPLIANCE_SEED);
  const session = await opened(store);
  await session.bootstrap();
  let term = 1;
  let commit = 0;
  let persistMs = 0;
  let persists = 0;
  for (let step = 1; step <= MANY_BATCHES_COUNT; step++) {
    const roll = prng.int(0, 99);
    const firstIndex = (session.model.snapshot?.meta.index ?? 0) + 1;
    if (roll < 5 && session.lastIndex() >= firstIndex) {
      const at = prng.int(firstIndex, session.lastIndex());
      const atTerm = session.model.entries.find((e) => e.index === at)?.term ?? term;
      await session.compact(snapshotAt(at, atTerm, patternBytes(prng.int(0, 4096), step)));
    } else if (roll < 7) {
      term += 1;
      const at = session.lastIndex() + prng.int(0, 50);
      await session.persist(batch({ snapshot: snapshotAt(at, term, patternBytes(prng.int(0, 4096), step)), hardState: { term, vote: null, commit: at } }));
      commit = at;
    } else {
      const overwrite = roll < 20 && session.lastIndex() >= firstIndex;
      if (overwrite) term += 1;
      const from = overwrite ? Math.max(firstIndex, session.lastIndex() - prng.int(0, 3)) : session.lastIndex() + 1;
      const written: Entry[] = [];
      const count = prng.int(1, 5);
      for (let i = 0; i < count; i++) written.push(entry(from + i, term, patternBytes(prng.int(0, 300), step * 8 + i), prng.pick(['normal', 'normal', 'noop', 'config'] as const)));
      commit = Math.max(commit, Math.min(from - 1, commit + prng.int(0, 3)));
      const hardState = prng.chance(0.5) || overwrite ? { term, vote: prng.chance(0.5) ? 'peer-b' : null, commit } : null;
      const started = performance.now();
      await session.persist(batch({ entries: written, hardState, sync: prng.chance(0.9) }));
      persistMs += performance.now() - started;
      persists += 1;
    }
    if (step % MANY_BATCHES_REOPEN_EVERY === 0) await session.reopen(`seed ${COMPLIANCE_SEED}, step ${step}`);
  }
  await session.reopen(`seed ${COMPLIANCE_SEED}, the end`);
  return `${persists} persists, mean ${(persistMs / Math.max(1, persists)).toFixed(2)} ms`;
}

async function unsyncedBatchesSurviveCleanReopen(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  for (let index = 1; index <= 5; index++) {
    await session.persist(batch({ entries: [entry(index, 1)], hardState: { term: 1, vote: null, commit: index - 1 }, sync: false }));
  }
  await session.reopen('five unsynced batches');
}

/** Operations issued without waiting complete in the order issued (each one atomically). */
async function queuedOperationsCompleteInOrder(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  const storage = session.storage;
  const order: number[] = [];
  const pending: Promise<void>[] = [];
  const writes: PersistBatch[] = [];
  for (let index = 1; index <= QUEUED_OPERATIONS_COUNT; index++) {
    const overwrite = index % 10 === 0; // rewrites the previous entry with a later term
    const written = overwrite ? [entry(index - 1, 2), entry(index, 2)] : [entry(index, index < 10 ? 1 : 2)];
    writes.push(batch({ entries: written, hardState: { term: 2, vote: 'peer-c', commit: index - 1 } }));
  }
  for (const [i, write] of writes.entries()) {
    pending.push(persistTo(storage, write).then(() => void order.push(i)));
  }
  const compacted = snapshotAt(5, 1);
  pending.push(compactTo(storage, compacted).then(() => void order.push(writes.length)));
  await Promise.all(pending);
  for (let i = 0; i < order.length; i++) check(order[i] === i, `operation ${i} completed in order (got ${order.join(',')})`);
  for (const write of writes) session.model.write(write);
  session.model.compact(compacted);
  await session.expectLoaded('after queued operations, same instance');
  await session.reopen('after queued operations');
}

async function emptyBatchChangesNothing(store: StoreUnderTest): Promise<void> {
  const session = await opened(store);
  await session.bootstrap();
  await session.persist(batch({ entries: entries(1, 3, 1) }));
  await session.persist(batch({}));
  await session.persist(batch({ sync: false }));
  await session.reopen('after empty batches');
}

/** For every crash point of the adapter, with an append batch and with a snapshot batch: the
 *  crashed batch is absent or (never partly) present, everything acknowledged stays, and the
 *  recovered store takes new writes that survive another restart. */
async function crashDuringPersist(store: StoreUnderTest): Promise<string> {
  const crash = store.crash;
  check(crash !== undefined, 'crash injector present');
  const session = await opened(store);
  await session.bootstrap();
  for (const [variant, { name: variantName, mayKeepBatch }] of crash.variants.entries()) {
    for (const withSnapshot of [false, true]) {
      const what = `${variantName}${withSnapshot ? ', snapshot batch' : ''}`;
      const base = session.lastIndex();
      const before = session.lastTerm() + 1;
      await session.persist(batch({ entries: entries(base + 1, base + 8, before), hardState: { term: before, vote: 'peer-a', commit: base + 2 } }));
      await session.compact(snapshotAt(base + 2, before));
      const term = before + 1;
      const crashed = withSnapshot
        ? batch({ snapshot: snapshotAt(base + 40, term, patternBytes(100_000, variant)), entries: entries(base + 41, base + 42, term), hardState: { term, vote: null, commit: base + 40 } })
        : batch({ entries: [entry(base + 6, term, patternBytes(3000, variant)), entry(base + 7, term, patternBytes(70_000, variant))], hardState: { term, vote: 'peer-b', commit: base + 3 } });
      await crash.crashDuringPersist(session.storage, crashed, variant);
      const loaded = await loadFrom(await session.store.open());
      const without = stateDifference(loaded, session.model.state());
      if (without !== null) {
        check(mayKeepBatch, `crash (${what}): the crashed batch must be gone, but load differs from the acknowledged state: ${without}`);
        // Also allowed: the crashed batch whole (it may have reached the disk before the crash).
        const state = session.model.state();
        check(state !== null, 'model bootstrapped');
        const withBatch = new MemoryStore();
        withBatch.hardState = state.hardState;
        withBatch.snapshot = state.snapshot;
        withBatch.entries = state.entries.slice();
        withBatch.write(crashed);
        const whole = stateDifference(loaded, withBatch.state());
        check(whole === null, `crash (${what}): loaded neither the acknowledged state (${without}) nor it plus the whole crashed batch (${whole})`);
        session.model.write(crashed);
      }
      await session.reopen(`crash (${what}), reopened again`);
      await session.persist(batch({ entries: [entry(session.lastIndex() + 1, term + 1)], hardState: { term: term + 1, vote: null, commit: base + 3 } }));
      await session.reopen(`crash (${what}), written after recovery`);
    }
  }
  return `${crash.variants.length * 2} crash points`;
}

async function corruptionIsReported(store: StoreUnderTest): Promise<void> {
  check(store.corrupt !== undefined, 'corrupt hook present');
  const session = await opened(store);
  await session.bootstrap();
  for (let index = 1; index <= 40; index += 4) {
    await session.persist(batch({ entries: entries(index, index + 3, 1), hardState: { term: 1, vote: null, commit: index } }));
  }
  await store.corrupt();
  let storage: ReplicaStorage;
  try {
    storage = await store.open();
  } catch (error) {
    throw new ComplianceFailure(`open threw on corrupted storage instead of load reporting it: ${String(error)}`);
  }
  const error = await loadError(storage);
  check(error instanceof Error && error.message.length > 0, 'load reports the corruption as an Error with a message');
}

export const STORAGE_COMPLIANCE_CASES: readonly ComplianceCase[] = [
  { name: 'a fresh store loads null', run: freshLoadsNull },
  { name: 'the bootstrap state round trips', run: bootstrapRoundTrips },
  { name: 'hard state round trips', run: hardStateRoundTrips },
  { name: 'appended entries round trip', run: appendedEntriesRoundTrip },
  { name: 'an entry at index i replaces i and deletes the tail', run: overwriteTruncatesTail },
  { name: 'a snapshot in a batch replaces the log', run: snapshotBatchReplacesLog },
  { name: 'compaction keeps the entries after the snapshot', run: compactionKeepsLaterEntries },
  { name: 'large entries and snapshots round trip', run: largeEntriesAndSnapshots },
  { name: 'many seeded batches round trip across reopens', run: manyBatches },
  { name: 'unsynced batches survive a clean reopen', run: unsyncedBatchesSurviveCleanReopen },
  { name: 'operations issued without waiting complete in order', run: queuedOperationsCompleteInOrder },
  { name: 'an empty batch changes nothing', run: emptyBatchChangesNothing },
  { name: 'a crash during persist keeps exactly the acknowledged state', needs: 'crash', run: crashDuringPersist },
  { name: 'corruption at rest is reported by load, not thrown', needs: 'corrupt', run: corruptionIsReported },
];

/** Runs one case on a fresh store of `factory`, always releasing the store. */
export async function runStorageCase(factory: StorageFactory, testCase: ComplianceCase): Promise<CaseResult> {
  const started = performance.now();
  const store = await factory.create(testCase.name);
  const lacking = (testCase.needs === 'crash' && store.crash === undefined) || (testCase.needs === 'corrupt' && store.corrupt === undefined);
  try {
    if (lacking) return { name: testCase.name, status: 'skipped', note: `${factory.name} has no ${testCase.needs} hook`, durationMs: 0 };
    const note = await testCase.run(store);
    return { name: testCase.name, status: 'passed', ...(note ? { note } : {}), durationMs: performance.now() - started };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name: testCase.name, status: 'failed', error: message, durationMs: performance.now() - started };
  } finally {
    await factory.destroy(store);
  }
}

/** Runs the named cases (all when `only` is absent), one after another. */
export async function runStorageCompliance(factory: StorageFactory, only?: readonly string[]): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const testCase of STORAGE_COMPLIANCE_CASES) {
    if (only !== undefined && !only.includes(testCase.name)) continue;
    results.push(await runStorageCase(factory, testCase));
  }
  return results;
}
