/**
 * Storage in memory: for unit tests, the simulator and `storage: 'memory'` standalone ensembles.
 * Never the default for a real peer (DESIGN.md). Calls back synchronously; a `MemoryStore` can
 * outlive the storage object so that a test can "restart" a replica from what it persisted.
 */

import { assert } from '../core/assert.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../core/consensus/index.js';
import type { PersistBatch, ReplicaStorage } from '../peer/interfaces.js';

/** The durable state itself, shared across restarts of one replica. */
export class MemoryStore {
  hardState: HardState | null = null;
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  /** Applies a batch with the semantics of PersistBatch. */
  write(batch: PersistBatch): void {
    if (batch.snapshot !== null) {
      this.snapshot = batch.snapshot;
      this.entries = [];
    }
    for (const entry of batch.entries) this.put(entry);
    if (batch.hardState !== null) this.hardState = batch.hardState;
  }

  private put(entry: Entry): void {
    const first = this.entries[0];
    if (first === undefined) {
      this.entries.push(entry);
      return;
    }
    const offset = entry.index - first.index;
    assert(offset >= 0 && offset <= this.entries.length, `memory store: entry ${entry.index} follows the stored log`);
    this.entries.length = offset; // an entry at i replaces i and everything after it
    this.entries.push(entry);
  }

  compact(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = this.entries.filter((entry) => entry.index > snapshot.meta.index);
  }

  state(): PersistedState | null {
    if (this.hardState === null || this.snapshot === null) return null;
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}

export class MemoryStorage implements ReplicaStorage {
  constructor(readonly store: MemoryStore = new MemoryStore()) {}

  load(done: Parameters<ReplicaStorage['load']>[0]): void {
    done({ ok: true, state: this.store.state() });
  }

  persist(batch: PersistBatch, done: (error: Error | null) => void): void {
    this.store.write(batch);
    done(null);
  }

  compact(snapshot: Snapshot, done: (error: Error | null) => void): void {
    this.store.compact(snapshot);
    done(null);
  }
}
