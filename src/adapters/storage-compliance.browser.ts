/**
 * The browser side of e2e/storage-idb.spec.ts: bundled by Vite into a page, it runs the storage
 * compliance suite on IndexedDB storage and the crash workload, exposing them on `window`:
 *   runStorageCompliance(names?)        -> CaseResult[] (each case on a fresh database)
 *   startCrashWorkload(room)            -> starts writing; each acknowledged step calls
 *                                          window.reportAck(step) (exposed by the test)
 *   recoveredCrashStep(room, lastAck)   -> the step whose state the database holds
 */

import type { ReplicaStorage } from '../peer/interfaces.js';
import { runStorageCompliance, type CaseResult, type StorageFactory, type StoreUnderTest } from './storage-compliance.js';
import { recoveredStep, runCrashWorkload } from './storage-crash-workload.js';
import { deleteIndexedDbStorage, openIndexedDbStorage, type IndexedDbStorage, type IndexedDbStorageOptions } from './storage-idb.js';

class IndexedDbStoreUnderTest implements StoreUnderTest {
  private current: IndexedDbStorage | null = null;
  constructor(readonly options: IndexedDbStorageOptions) {}

  async open(): Promise<IndexedDbStorage> {
    this.close();
    this.current = await openIndexedDbStorage(this.options);
    return this.current;
  }

  close(): void {
    this.current?.close();
    this.current = null;
  }

  readonly crash = {
    variants: [{ name: 'the transaction is aborted before it commits', mayKeepBatch: false }],
    crashDuringPersist: async (storage: ReplicaStorage, batch: Parameters<IndexedDbStorage['persist']>[0]) => {
      await (storage as IndexedDbStorage).abortedPersistForTesting(batch);
      this.current = null;
    },
  };

  async corrupt(): Promise<void> {
    const storage = this.current ?? (await this.open());
    await storage.corruptEntryForTesting();
    this.close();
  }
}

let stores = 0;

const factory: StorageFactory = {
  name: 'indexeddb',
  async create(caseName) {
    stores += 1;
    const options = { room: `compliance-${stores}-${caseName.replace(/\W+/g, '-')}`, peerId: 'peer-a' };
    await deleteIndexedDbStorage(options); // a leftover of an earlier run would not be fresh
    return new IndexedDbStoreUnderTest(options);
  },
  async destroy(store) {
    const idbStore = store as IndexedDbStoreUnderTest;
    idbStore.close();
    await deleteIndexedDbStorage(idbStore.options);
  },
};

declare global {
  interface Window {
    runStorageCompliance(names?: readonly string[]): Promise<CaseResult[]>;
    startCrashWorkload(room: string): Promise<void>;
    recoveredCrashStep(room: string, lastAck: number): Promise<{ step: number | null; difference: string | null }>;
    reportAck?(step: number): Promise<void>;
  }
}

window.runStorageCompliance = (names) => runStorageCompliance(factory, names);

window.startCrashWorkload = async (room) => {
  const storage = await openIndexedDbStorage({ room, peerId: 'crash-writer' });
  void runCrashWorkload(storage, (step) => void window.reportAck?.(step)).catch((error: unknown) => console.error('crash workload failed', error));
};

window.recoveredCrashStep = async (room, lastAck) => {
  const storage = await openIndexedDbStorage({ room, peerId: 'crash-writer' });
  try {
    return await recoveredStep(storage, lastAck);
  } finally {
    storage.close();
  }
};
