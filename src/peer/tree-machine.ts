/**
 * The replica's state machine for meshkeeper: the ZooKeeper DataTree, fed committed `normal`
 * entries that each carry a log record (record.ts). zxid = log index: the entry's index is the
 * zxid the txn is applied at (Stat's czxid/mzxid/pzxid). Snapshots are the tree's canonical
 * encoding (codec/snapshot.ts), validated again on restore.
 *
 * The runtime hears of every applied record through `listener.applied`, synchronously, right after
 * the tree changed and before anything else runs, so it can trigger watches and answer the write's
 * client in the same step (watch events strictly before any later read result). A restore is
 * reported by the Replica's `restored` event.
 */

import { assert } from '../core/assert.js';
import type { Entry, Snapshot } from '../core/consensus/index.js';
import { decodeSnapshot, encodeSnapshot } from '../core/codec/snapshot.js';
import { DataTree, type Applied, type TreeLimits } from '../core/tree/index.js';
import type { StateMachine } from './interfaces.js';
import { decodeLogRecord, type LogRecord } from './record.js';

export interface TreeMachineListener {
  /** A record was applied at `entry.index`; `applied` is the tree's result and watch triggers. */
  applied(entry: Entry, record: LogRecord, applied: Applied): void;
}

export class TreeStateMachine implements StateMachine {
  private current: DataTree;
  listener: TreeMachineListener | null = null;

  constructor(private readonly limits: Partial<TreeLimits> = {}) {
    this.current = new DataTree({ limits });
  }

  get tree(): DataTree {
    return this.current;
  }

  apply(entry: Entry): void {
    assert(entry.kind === 'normal', `tree machine: applies normal entries only, not ${entry.kind}`);
    const decoded = decodeLogRecord(entry.data);
    // Committed entries were encoded by a leader running this code: a record that does not decode
    // is a bug or corrupted storage, never input to tolerate.
    assert(decoded.ok, `tree machine: entry ${entry.index} holds a log record (${decoded.ok ? '' : decoded.error})`);
    assert(entry.index > this.current.lastZxid, `tree machine: entry ${entry.index} after zxid ${this.current.lastZxid}`);
    const applied = this.current.apply(decoded.value.txn, entry.index);
    this.listener?.applied(entry, decoded.value, applied);
  }

  restore(snapshot: Snapshot): void {
    if (snapshot.meta.index === 0 && snapshot.data.length === 0) {
      // The bootstrap snapshot (RawNode.bootstrapState): a fresh tree.
      this.current = new DataTree({ limits: this.limits });
    } else {
      const decoded = decodeSnapshot(snapshot.data);
      assert(decoded.ok, `tree machine: snapshot at ${snapshot.meta.index} decodes (${decoded.ok ? '' : decoded.error})`);
      assert(decoded.value.lastZxid <= snapshot.meta.index, 'tree machine: the snapshot tree is not ahead of its index');
      const loaded = DataTree.fromSnapshot(decoded.value, { limits: this.limits });
      assert(loaded.ok, `tree machine: snapshot at ${snapshot.meta.index} loads (${loaded.ok ? '' : loaded.error})`);
      this.current = loaded.tree;
    }
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.current.toSnapshot());
  }
}
