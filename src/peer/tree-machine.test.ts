// Proves the tree state machine (tree-machine.ts): a normal entry's log record is applied at its
// index (zxid = log index) and reported with its result and triggers; snapshot() and restore()
// reproduce the tree exactly (same digest); the bootstrap snapshot restores a fresh tree; and a
// committed entry that is not a log record fails an assertion (a bug, never input).
import { describe, expect, it } from 'vitest';
import { OPEN_ACL_UNSAFE, type Txn } from '../core/tree/types.js';
import { encodeLogRecord, type LogRecord } from './record.js';
import { TreeStateMachine } from './tree-machine.js';

function entry(index: number, txn: Txn) {
  return { index, term: 1, kind: 'normal' as const, data: encodeLogRecord({ origin: 'p', requestId: `r.${index}`, txn }) };
}

const create = (path: string): Txn => ({
  header: { sessionId: null, time: 1000 },
  body: { type: 'create', path, data: new Uint8Array([1]), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent', ephemeralOwner: null, ttlMs: 0, parentCversion: 1 },
});

describe('TreeStateMachine', () => {
  it('applies records at their index and reports them', () => {
    const machine = new TreeStateMachine();
    const seen: { index: number; record: LogRecord; ok: boolean }[] = [];
    machine.listener = { applied: (e, record, applied) => seen.push({ index: e.index, record, ok: applied.result.ok }) };
    machine.apply(entry(3, create('/a')));
    expect(machine.tree.stat('/a')?.czxid).toBe(3);
    expect(seen).toEqual([{ index: 3, record: expect.objectContaining({ origin: 'p', requestId: 'r.3' }), ok: true }]);
  });

  it('snapshots and restores the same tree', () => {
    const machine = new TreeStateMachine();
    machine.apply(entry(1, create('/a')));
    const bytes = machine.snapshot();
    const other = new TreeStateMachine();
    other.restore({ meta: { index: 2, term: 1, config: { voters: ['p'], learners: [] } }, data: bytes });
    expect(other.tree.digest()).toBe(machine.tree.digest());
    other.restore({ meta: { index: 0, term: 0, config: { voters: ['p'], learners: [] } }, data: new Uint8Array(0) });
    expect(other.tree.digest()).toBe(new TreeStateMachine().tree.digest());
  });

  it('asserts on an entry that is not a log record', () => {
    const machine = new TreeStateMachine();
    expect(() => machine.apply({ index: 1, term: 1, kind: 'normal', data: new Uint8Array([9, 9]) })).toThrow(/log record/);
  });
});
