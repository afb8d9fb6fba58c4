/**
 * In-memory storage for the harness: applies a Ready's persistence duties exactly as the Ready
 * contract states them (raw-node.ts), and hands back what a restart loads.
 */

import type { Ready } from '../raw-node.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../types.js';

export class MemoryStorage {
  private hardState: HardState;
  private snapshot: Snapshot;
  private entries: Entry[];

  constructor(initial: PersistedState) {
    this.hardState = initial.hardState;
    this.snapshot = initial.snapshot;
    this.entries = initial.entries.slice();
  }

  /** Step 1 of the Ready contract: snapshot, then entries (replacing any stored suffix), then
   *  hard state. One atomic step here. */
  persist(ready: Ready): void {
    if (ready.snapshot !== null) {
      this.snapshot = ready.snapshot;
      this.entries = [];
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      this.entries = this.entries.filter((entry) => entry.index < first.index);
      this.entries.push(...ready.entries);
    }
    if (ready.hardState !== null) this.hardState = ready.hardState;
  }

  /** After RawNode.compact: keep the snapshot, drop the entries it covers. */
  compact(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = this.entries.filter((entry) => entry.index > snapshot.meta.index);
  }

  load(): PersistedState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}
