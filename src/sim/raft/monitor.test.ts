// Proves each safety checker of the simulator (monitor.ts) rejects a hand-made violation of the
// property it guards and accepts the legal look-alike (dissertation Figure 3.2): two leaders in one
// term; an (index, term) with two contents or two different predecessors (Log Matching); a leader
// of a later term without an applied entry (Leader Completeness, with the commit-term bound that
// keeps a stale-term leader legal); two entries or two state hashes applied at one index (State
// Machine Safety).
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../core/consensus/index.js';
import type { PersistBatch } from '../../peer/interfaces.js';
import { SafetyMonitor, SimViolation } from './monitor.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const entry = (index: number, term: number, data = `v${index}.${term}`): Entry => ({ index, term, kind: 'normal', data: bytes(data) });
const snapshot = { index: 0, term: 0, config: { voters: ['a', 'b', 'c'], learners: [] } };
const batch = (entries: Entry[]): PersistBatch => ({ hardState: null, snapshot: null, entries, sync: true });

function violation(action: () => void): string {
  try {
    action();
  } catch (error) {
    if (error instanceof SimViolation) return error.message;
    throw error;
  }
  return 'none';
}

describe('election safety', () => {
  it('allows one leader per term and rejects a second', () => {
    const monitor = new SafetyMonitor();
    monitor.onLeader('a', 1, { snapshot, entries: [] });
    monitor.onLeader('b', 2, { snapshot, entries: [] });
    expect(violation(() => monitor.onLeader('c', 2, { snapshot, entries: [] }))).toMatch(/^election-safety: .*two leaders in term 2: b and c/);
  });
});

describe('log matching', () => {
  const termAt = (terms: Record<number, number>) => (index: number): number | undefined => (index === 0 ? 0 : terms[index]);

  it('accepts the same entries in several logs, and a higher-term rewrite', () => {
    const monitor = new SafetyMonitor();
    monitor.onPersist('a', batch([entry(1, 1), entry(2, 1)]), termAt({}));
    monitor.onPersist('b', batch([entry(1, 1)]), termAt({}));
    monitor.onPersist('b', batch([entry(2, 2)]), termAt({ 1: 1 }));
    monitor.checkLog('c', { snapshot, entries: [entry(1, 1), entry(2, 1)] }, 'durable');
  });

  it('rejects two contents for one index and term', () => {
    const monitor = new SafetyMonitor();
    monitor.onPersist('a', batch([entry(1, 1, 'x')]), termAt({}));
    expect(violation(() => monitor.onPersist('b', batch([entry(1, 1, 'y')]), termAt({})))).toMatch(/^log-matching: .*entry 1\/1 differs/);
  });

  it('rejects logs that agree at an entry but differ before it', () => {
    const monitor = new SafetyMonitor();
    monitor.onPersist('a', batch([entry(1, 1), entry(2, 3)]), termAt({}));
    expect(violation(() => monitor.checkLog('b', { snapshot, entries: [entry(1, 2), entry(2, 3)] }, 'in-memory'))).toMatch(/^log-matching: .*differ before it/);
  });

  it('rejects a batch that leaves a gap', () => {
    const monitor = new SafetyMonitor();
    expect(violation(() => monitor.onPersist('a', batch([entry(3, 1)]), termAt({})))).toMatch(/^log-matching: .*after a gap/);
  });
});

describe('leader completeness', () => {
  it('rejects a later-term leader that lacks or changed an applied entry', () => {
    const monitor = new SafetyMonitor();
    monitor.onLeader('a', 1, { snapshot, entries: [] });
    monitor.onApplied('a', entry(1, 1), 11);
    expect(violation(() => monitor.onLeader('b', 2, { snapshot, entries: [entry(1, 2)] }))).toMatch(/^leader-completeness: .*b leads term 2 with 2\/1/);
    const again = new SafetyMonitor();
    again.onLeader('a', 1, { snapshot, entries: [] });
    again.onApplied('a', entry(1, 1), 11);
    expect(violation(() => again.onLeader('c', 3, { snapshot, entries: [] }))).toMatch(/^leader-completeness: .*log ending at 0/);
  });

  it('accepts a leader that holds it, and a leader of a term not above the commit-term bound', () => {
    const monitor = new SafetyMonitor();
    monitor.onLeader('a', 5, { snapshot, entries: [] });
    monitor.onApplied('a', entry(1, 5), 11);
    monitor.onLeader('b', 6, { snapshot, entries: [entry(1, 5), entry(2, 6)] });
    // A leader of an older term elected late (its votes were delayed) need not hold it.
    monitor.onLeader('c', 4, { snapshot, entries: [] });
  });
});

describe('state machine safety', () => {
  it('rejects another entry or another state hash at an applied index', () => {
    const monitor = new SafetyMonitor();
    monitor.onApplied('a', entry(1, 1), 11);
    monitor.onApplied('b', entry(1, 1), 11);
    expect(violation(() => monitor.onApplied('c', entry(1, 2), 11))).toMatch(/^state-machine-safety: .*c applied 2\/1/);
    expect(violation(() => monitor.onApplied('c', entry(1, 1), 12))).toMatch(/^state-machine-safety: state hash at index 1/);
    expect(violation(() => monitor.onRestored('d', 1, 13))).toMatch(/^state-machine-safety: state hash at index 1/);
    monitor.onRestored('d', 1, 11);
  });
});
