// Proves the simulator's register machine: writes and compare-and-sets do what the register
// model (src/testing/models/register.ts) says; every command's result is kept; the incremental
// state hash equals the hash recomputed from a snapshot (so comparing hashes compares states);
// equal states hash equal whatever the order their commands came in; and bytes that are not a
// command are refused.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../core/consensus/index.js';
import { RegisterMachine, decodeRegisterCommand, encodeRegisterCommand, type RegisterCommand } from './register-machine.js';

let index = 0;
const entryOf = (command: RegisterCommand): Entry => ({ index: ++index, term: 1, kind: 'normal', data: encodeRegisterCommand(command) });
const snapshotOf = (machine: RegisterMachine) => ({ meta: { index, term: 1, config: { voters: ['a'], learners: [] } }, data: machine.snapshot() });

describe('RegisterMachine', () => {
  it('writes, compares-and-sets, and keeps every result', () => {
    const machine = new RegisterMachine();
    machine.apply(entryOf({ kind: 'cas', id: 'c1', key: 'x', expected: null, value: 'a' }));
    machine.apply(entryOf({ kind: 'cas', id: 'c2', key: 'x', expected: null, value: 'b' }));
    machine.apply(entryOf({ kind: 'write', id: 'c3', key: 'y', value: 'c' }));
    machine.apply(entryOf({ kind: 'cas', id: 'c4', key: 'x', expected: 'a', value: 'd' }));
    expect([machine.read('x'), machine.read('y'), machine.read('z')]).toEqual(['d', 'c', null]);
    expect(['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => machine.resultOf(id))).toEqual([true, false, true, true, undefined]);
    expect(machine.lastApplied()).toEqual({ id: 'c4', changed: true });
  });

  it('keeps an incremental hash equal to the one a restore recomputes', () => {
    const machine = new RegisterMachine();
    for (let i = 0; i < 50; i++) {
      machine.apply(entryOf({ kind: 'write', id: `w${i}`, key: `k${i % 3}`, value: `v${i}` }));
      const copy = new RegisterMachine();
      copy.restore(snapshotOf(machine));
      expect(copy.stateHash()).toBe(machine.stateHash());
      expect(copy.read(`k${i % 3}`)).toBe(`v${i}`);
    }
    const empty = new RegisterMachine();
    empty.restore({ meta: { index: 0, term: 0, config: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    expect(empty.stateHash()).toBe(new RegisterMachine().stateHash());
  });

  it('hashes states, not histories: other states differ, equal states agree', () => {
    const a = new RegisterMachine();
    const b = new RegisterMachine();
    a.apply(entryOf({ kind: 'write', id: 'w1', key: 'x', value: '1' }));
    b.apply(entryOf({ kind: 'write', id: 'w1', key: 'x', value: '2' }));
    expect(a.stateHash()).not.toBe(b.stateHash());
    const c = new RegisterMachine();
    c.restore({ meta: { index: 1, term: 1, config: { voters: ['a'], learners: [] } }, data: a.snapshot() });
    expect(c.stateHash()).toBe(a.stateHash());
  });

  it('refuses bytes that are not a register command', () => {
    const bad = ['', 'null', '{"kind":"write","id":"a","key":"k"}', '{"kind":"cas","id":"a","key":"k","value":"v","expected":3}', '[]', '{'];
    for (const text of bad) expect(decodeRegisterCommand(new TextEncoder().encode(text))).toBeNull();
    const command: RegisterCommand = { kind: 'cas', id: 'a', key: 'k', expected: null, value: 'v' };
    expect(decodeRegisterCommand(encodeRegisterCommand(command))).toEqual(command);
  });
});
