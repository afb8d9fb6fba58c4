// Proves the reference storage (MemoryStorage over a MemoryStore that outlives it, as a restarted
// replica's disk) passes the storage compliance suite — crash and corruption cases need hooks that
// memory has no use for, so they report skipped — and that the suite can fail: three broken
// storages (tail kept on overwrite, last batch forgotten, compaction dropping all) are rejected.
import { describe, expect, it } from 'vitest';
import { STORAGE_COMPLIANCE_CASES, runStorageCase, type StorageFactory } from './storage-compliance.js';
import { MemoryStorage, MemoryStore } from './storage-memory.js';

const factory: StorageFactory = {
  name: 'memory',
  async create() {
    const store = new MemoryStore();
    return { open: async () => new MemoryStorage(store) };
  },
  async destroy() {},
};

describe('MemoryStorage compliance', () => {
  for (const testCase of STORAGE_COMPLIANCE_CASES) {
    it.skipIf(testCase.needs !== undefined)(testCase.name, async () => {
      const result = await runStorageCase(factory, testCase);
      expect(result.error ?? null).toBeNull();
      expect(result.status).toBe('passed');
    });
  }
});

/** Broken storages the suite must reject: each mutant fails at least the named case. */
class KeepsTailOnOverwrite extends MemoryStorage {
  override persist(batch: Parameters<MemoryStorage['persist']>[0], done: (error: Error | null) => void): void {
    const before = this.store.entries.slice();
    super.persist(batch, done);
    const last = this.store.entries[this.store.entries.length - 1];
    if (last !== undefined) this.store.entries.push(...before.filter((entry) => entry.index > last.index));
  }
}

class ForgetsLastBatch extends MemoryStorage {
  private previous: MemoryStore | null = null;
  override persist(batch: Parameters<MemoryStorage['persist']>[0], done: (error: Error | null) => void): void {
    const copy = new MemoryStore();
    Object.assign(copy, { hardState: this.store.hardState, snapshot: this.store.snapshot, entries: this.store.entries.slice() });
    this.previous = copy;
    super.persist(batch, done);
  }
  override load(done: Parameters<MemoryStorage['load']>[0]): void {
    done({ ok: true, state: (this.previous ?? this.store).state() });
  }
}

class CompactDropsAll extends MemoryStorage {
  override compact(snapshot: Parameters<MemoryStorage['compact']>[0], done: (error: Error | null) => void): void {
    this.store.snapshot = snapshot;
    this.store.entries = [];
    done(null);
  }
}

const mutants: [string, new (store: MemoryStore) => MemoryStorage, string][] = [
  ['keeps the tail on overwrite', KeepsTailOnOverwrite, 'an entry at index i replaces i and deletes the tail'],
  ['forgets the last batch', ForgetsLastBatch, 'hard state round trips'],
  ['compaction drops every entry', CompactDropsAll, 'compaction keeps the entries after the snapshot'],
];

describe('the suite rejects broken storages', () => {
  for (const [what, Mutant, caseName] of mutants) {
    it(`a storage that ${what} fails "${caseName}"`, async () => {
      const broken: StorageFactory = {
        name: what,
        async create() {
          const store = new MemoryStore();
          let instance: MemoryStorage | null = null;
          return { open: async () => (instance = instance ?? new Mutant(store)) };
        },
        async destroy() {},
      };
      const testCase = STORAGE_COMPLIANCE_CASES.find((c) => c.name === caseName);
      expect(testCase).toBeDefined();
      const result = await runStorageCase(broken, testCase!);
      expect(result.status).toBe('failed');
    });
  }
});
