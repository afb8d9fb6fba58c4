/**
 * The deterministic workload of the real-crash tests: a SIGKILLed Node child (file storage,
 * storage-file.crash-child.ts) and a crashed Chromium page (IndexedDB, e2e/storage-idb.spec.ts)
 * run it step by step and report each acknowledged step; the test replays the same steps on a
 * MemoryStore to know what must have survived. No Node or DOM imports: it runs in both.
 */

import type { Snapshot } from '../core/consensus/index.js';
import type { PersistBatch, ReplicaStorage } from '../peer/interfaces.js';
import { batch, compactTo, entry, loadFrom, patternBytes, persistTo, snapshotAt, stateDifference } from './storage-compliance.js';
import { MemoryStore } from './storage-memory.js';

/** Bounds the child's loop should the parent never kill it (a test failure, not a hang). */
export const CRASH_WORKLOAD_STEPS_MAX = 20_000;

export type CrashStep = { readonly kind: 'persist'; readonly batch: PersistBatch } | { readonly kind: 'compact'; readonly snapshot: Snapshot };

/** The first step: the bootstrap write of every replica. */
export const CRASH_BOOTSTRAP: PersistBatch = batch({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: snapshotAt(0, 0, new Uint8Array(0)) });

/** Step `step` of the workload, a function of the step number and the state so far: appends,
 *  overwrites, compactions, received snapshots; most batches synced, some not. */
export function crashWorkloadStep(step: number, model: MemoryStore): CrashStep {
  const snapshotIndex = model.snapshot?.meta.index ?? 0;
  const last = model.entries[model.entries.length - 1];
  const lastIndex = last?.index ?? snapshotIndex;
  const term = Math.max(last?.term ?? 0, model.snapshot?.meta.term ?? 0, model.hardState?.term ?? 0, 1);
  if (step % 50 === 0 && lastIndex - 3 > snapshotIndex) {
    const at = lastIndex - 3;
    const atTerm = model.entries.find((e) => e.index === at)?.term ?? term;
    return { kind: 'compact', snapshot: snapshotAt(at, atTerm, patternBytes(10_000 + step, step)) };
  }
  if (step % 173 === 0) {
    const at = lastIndex + 5;
    return { kind: 'persist', batch: batch({ snapshot: snapshotAt(at, term + 1, patternBytes(50_000, step)), entries: [entry(at + 1, term + 1)], hardState: { term: term + 1, vote: null, commit: at } }) };
  }
  const overwrite = step % 7 === 0 && lastIndex - 2 > snapshotIndex;
  const entryTerm = overwrite ? term + 1 : term;
  const from = overwrite ? lastIndex - 1 : lastIndex + 1;
  const written = [];
  for (let i = 0; i < 1 + (step % 3); i++) written.push(entry(from + i, entryTerm, patternBytes(100 + ((step * 977) % 5000), step * 4 + i)));
  return { kind: 'persist', batch: batch({ entries: written, hardState: { term: entryTerm, vote: 'peer-a', commit: Math.max(0, from - 2) }, sync: step % 5 !== 0 }) };
}

/** Runs the workload on `storage` until `stop()` or CRASH_WORKLOAD_STEPS_MAX, calling `acknowledged`
 *  after each step's storage call completed (the bootstrap is step 0). Returns the last step. */
export async function runCrashWorkload(storage: ReplicaStorage, acknowledged: (step: number) => void, stop: () => boolean = () => false): Promise<number> {
  const model = new MemoryStore();
  if ((await loadFrom(storage)) !== null) throw new Error('the crash workload starts on an empty store');
  await persistTo(storage, CRASH_BOOTSTRAP);
  model.write(CRASH_BOOTSTRAP);
  acknowledged(0);
  for (let step = 1; step <= CRASH_WORKLOAD_STEPS_MAX; step++) {
    if (stop()) return step - 1;
    const next = crashWorkloadStep(step, model);
    if (next.kind === 'persist') {
      await persistTo(storage, next.batch);
      model.write(next.batch);
    } else {
      await compactTo(storage, next.snapshot);
      model.compact(next.snapshot);
    }
    acknowledged(step);
  }
  return CRASH_WORKLOAD_STEPS_MAX;
}

/** How far past the last ack the test saw the writer may have got before the crash landed. */
export const STEPS_AFTER_LAST_ACK_MAX = 2_000;

/** The first step at or after `lastAck` whose state equals what `storage` loads, or why none does. */
export async function recoveredStep(storage: ReplicaStorage, lastAck: number): Promise<{ step: number | null; difference: string | null }> {
  const loaded = await loadFrom(storage);
  const model = new MemoryStore();
  model.write(CRASH_BOOTSTRAP);
  let difference: string | null = stateDifference(loaded, model.state());
  if (lastAck <= 0 && difference === null) return { step: 0, difference };
  for (let step = 1; step <= lastAck + STEPS_AFTER_LAST_ACK_MAX; step++) {
    const next = crashWorkloadStep(step, model);
    if (next.kind === 'persist') model.write(next.batch);
    else model.compact(next.snapshot);
    if (step < lastAck) continue;
    difference = stateDifference(loaded, model.state());
    if (difference === null) return { step, difference };
  }
  return { step: null, difference };
}
