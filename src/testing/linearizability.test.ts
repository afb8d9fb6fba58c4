// Proves the linearizability checker's verdicts on hand-made register histories: the classic
// anomalies (stale read, reads disagreeing on write order, CAS winning twice, a value never
// written) are rejected with a readable account; correct histories are accepted with a valid
// witness, including unknown-outcome operations that must (or must not) be taken as done;
// recorder orders decide equal times; the state bound answers unknown-timeout, never ok.
// Definitions: Herlihy & Wing 1990; search: Lowe 2017 (WGL) as in Porcupine.

import { describe, expect, it } from 'vitest';
import {
  type Model,
  type Operation,
  UNKNOWN,
  checkLinearizability,
  happensBefore,
  isUnknown,
  legal,
} from './linearizability.js';
import {
  type KeyedRegisterInput,
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
  keyedRegisterModel,
  registerModel,
} from './models/register.js';

type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

let idNext = 0;
function done(client: string, input: RegisterInput, invokeTime: number, returnTime: number, output: RegisterOutput): RegisterOperation {
  return { id: idNext++, client, input, invokeTime, returnTime, output };
}
function lost(client: string, input: RegisterInput, invokeTime: number): RegisterOperation {
  return { id: idNext++, client, input, invokeTime, returnTime: Infinity, output: UNKNOWN };
}
const read = (value: RegisterValue): [RegisterInput, RegisterOutput] => [{ kind: 'read' }, { kind: 'read', value }];
const write = (value: RegisterValue): [RegisterInput, RegisterOutput] => [{ kind: 'write', value }, { kind: 'write' }];
const cas = (expected: RegisterValue, value: RegisterValue, ok: boolean): [RegisterInput, RegisterOutput] => [
  { kind: 'cas', expected, value },
  { kind: 'cas', ok },
];

function op(client: string, [input, output]: [RegisterInput, RegisterOutput], invokeTime: number, returnTime: number): RegisterOperation {
  return done(client, input, invokeTime, returnTime, output);
}

/** A witness is a real linearization: respects real-time order, covers every known operation,
 *  and the model accepts it step by step. */
function expectValidWitness<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], order: readonly number[]): void {
  const byId = new Map(history.map((operation) => [operation.id, operation]));
  const placed = order.map((id) => byId.get(id) as Operation<I, O>);
  for (const operation of history) {
    if (!isUnknown(operation.output)) expect(order).toContain(operation.id);
  }
  placed.forEach((operation, position) => {
    for (const later of placed.slice(position + 1)) expect(happensBefore(later, operation)).toBe(false);
  });
  let state = model.init();
  for (const operation of placed) {
    const step = model.step(state, operation.input, operation.output);
    expect(step.ok).toBe(true);
    if (step.ok && 'next' in step) state = step.next;
  }
}

const register = registerModel();

describe('register histories that are not linearizable', () => {
  it('rejects a stale read after a completed write', () => {
    const history = [op('c1', write(1), 0, 10), op('c2', read(null), 20, 30)];
    const verdict = checkLinearizability(register, history);
    expect(verdict.result).toBe('illegal');
    expect(verdict.partitions[0]?.unplaceable).toBe(history[1]?.id);
    expect(verdict.explanation).toContain('is NOT linearizable');
    expect(verdict.explanation).toContain('Longest linearizable prefix found (1 operations');
    expect(verdict.explanation).toContain(`#${history[1]?.id} c2 [20, 30] read -> null`);
    expect(verdict.explanation).toContain('read -> null: impossible');
  });

  it('rejects two readers that see two writes in opposite orders', () => {
    const history = [
      op('w1', write(1), 0, 100),
      op('w2', write(2), 0, 100),
      op('r1', read(1), 10, 20),
      op('r1', read(2), 30, 40),
      op('r2', read(2), 10, 20),
      op('r2', read(1), 30, 40),
    ];
    expect(checkLinearizability(register, history).result).toBe('illegal');
    // The same two readers agreeing on the order is fine.
    const agreeing = [...history.slice(0, 4), op('r2', read(1), 10, 20), op('r2', read(2), 30, 40)];
    const verdict = checkLinearizability(register, agreeing);
    expect(verdict.result).toBe('ok');
    expectValidWitness(register, agreeing, verdict.partitions[0]?.linearization ?? []);
  });

  it('rejects a compare-and-set that succeeds twice from the same old value', () => {
    const zero = registerModel({ initial: 0 });
    const history = [op('c1', cas(0, 1, true), 0, 10), op('c2', cas(0, 2, true), 5, 15)];
    const verdict = checkLinearizability(zero, history);
    expect(verdict.result).toBe('illegal');
    expect(verdict.explanation).toContain('cas(0 => 2) -> true');
    // One of them failing is linearizable.
    const oneFails = [op('c1', cas(0, 1, true), 0, 10), op('c2', cas(0, 2, false), 5, 15)];
    expect(checkLinearizability(zero, oneFails).result).toBe('ok');
  });

  it('rejects a read of a value never written', () => {
    const history = [op('c1', write(1), 0, 10), op('c2', read(7), 0, 20), op('c3', write(2), 5, 30)];
    const verdict = checkLinearizability(register, history);
    expect(verdict.result).toBe('illegal');
    expect(verdict.explanation).toContain('read -> 7');
  });

  it('rejects a read that goes back in time after another read saw the new value', () => {
    const history = [op('c1', write(1), 0, 100), op('c2', read(1), 10, 20), op('c3', read(null), 30, 40)];
    expect(checkLinearizability(register, history).result).toBe('illegal');
  });
});

describe('register histories that are linearizable', () => {
  it('accepts a read concurrent with a write, seeing either value', () => {
    for (const seen of [null, 1]) {
      const history = [op('c1', write(1), 0, 10), op('c2', read(seen), 5, 15)];
      const verdict = checkLinearizability(register, history);
      expect(verdict.result).toBe('ok');
      expect(verdict.explanation).toBe('');
      expectValidWitness(register, history, verdict.partitions[0]?.linearization ?? []);
    }
  });

  it('accepts an empty history and one of unknown operations only', () => {
    expect(checkLinearizability(register, []).result).toBe('ok');
    const onlyLost = [lost('c1', { kind: 'write', value: 1 }, 0)];
    expect(checkLinearizability(register, onlyLost).result).toBe('ok');
  });

  it('takes a timed-out write as done when a later read sees its value', () => {
    const timedOut = lost('c1', { kind: 'write', value: 1 }, 0);
    const history = [timedOut, op('c2', read(1), 50, 60)];
    const verdict = checkLinearizability(register, history);
    expect(verdict.result).toBe('ok');
    expect(verdict.partitions[0]?.linearization).toEqual([timedOut.id, history[1]?.id]);
  });

  it('takes a timed-out write as not done when every later read misses it', () => {
    const timedOut = lost('c1', { kind: 'write', value: 1 }, 0);
    const history = [timedOut, op('c2', read(null), 50, 60), op('c2', read(null), 70, 80)];
    const verdict = checkLinearizability(register, history);
    expect(verdict.result).toBe('ok');
    expect(verdict.partitions[0]?.linearization).not.toContain(timedOut.id);
  });

  it('lets a timed-out write take effect late, but not undo itself afterwards', () => {
    const late = [lost('c1', { kind: 'write', value: 1 }, 0), op('c2', read(null), 10, 20), op('c2', read(1), 30, 40)];
    expect(checkLinearizability(register, late).result).toBe('ok');
    const undone = [lost('c1', { kind: 'write', value: 1 }, 0), op('c2', read(1), 10, 20), op('c2', read(null), 30, 40)];
    expect(checkLinearizability(register, undone).result).toBe('illegal');
  });

  it('never places an unknown operation before its invocation', () => {
    const history = [op('c2', read(1), 0, 10), lost('c1', { kind: 'write', value: 1 }, 20)];
    expect(checkLinearizability(register, history).result).toBe('illegal');
  });

  it('applies an unknown compare-and-set as the model would, or not at all', () => {
    const zero = registerModel({ initial: 0 });
    const swapped = [lost('c1', { kind: 'cas', expected: 0, value: 5 }, 0), op('c2', read(5), 10, 20)];
    expect(checkLinearizability(zero, swapped).result).toBe('ok');
    const notSwapped = [lost('c1', { kind: 'cas', expected: 0, value: 5 }, 0), op('c2', read(0), 10, 20)];
    expect(checkLinearizability(zero, notSwapped).result).toBe('ok');
    // The register held 3 for the whole life of the CAS: it cannot have swapped.
    const cannot = [
      op('c0', write(3), 0, 1),
      lost('c1', { kind: 'cas', expected: 0, value: 5 }, 2),
      op('c2', read(5), 10, 20),
    ];
    expect(checkLinearizability(zero, cannot).result).toBe('illegal');
  });
});

describe('real-time order at equal times', () => {
  const ordered = (operation: RegisterOperation, invokeOrder: number, returnOrder: number): RegisterOperation => ({
    ...operation,
    invokeOrder,
    returnOrder,
  });

  it('treats equal times as overlapping without recorder orders', () => {
    const history = [op('c1', write(1), 0, 10), op('c2', read(null), 10, 20)];
    expect(checkLinearizability(register, history).result).toBe('ok');
  });

  it('lets recorder orders decide equal times', () => {
    const [writeOperation, readOperation] = [op('c1', write(1), 0, 10), op('c2', read(null), 10, 20)];
    const returnedFirst = [ordered(writeOperation, 0, 1), ordered(readOperation, 2, 3)];
    expect(checkLinearizability(register, returnedFirst).result).toBe('illegal');
    const invokedFirst = [ordered(writeOperation, 0, 2), ordered(readOperation, 1, 3)];
    expect(checkLinearizability(register, invokedFirst).result).toBe('ok');
  });

  it('refuses a history where only some operations carry recorder orders', () => {
    const history = [ordered(op('c1', write(1), 0, 10), 0, 1), op('c2', read(1), 10, 20)];
    expect(() => checkLinearizability(register, history)).toThrow(/recorder orders/);
  });
});

describe('partitions (P-compositionality)', () => {
  it('checks each key alone and reports the failing one', () => {
    const keyed = keyedRegisterModel();
    const at = (key: string, [input, output]: [RegisterInput, RegisterOutput], from: number, to: number): Operation<KeyedRegisterInput, RegisterOutput> =>
      ({ id: idNext++, client: key, input: { ...input, key }, invokeTime: from, returnTime: to, output });
    const history: Operation<KeyedRegisterInput, RegisterOutput>[] = [
      at('a', write(1), 0, 10),
      at('b', write(1), 0, 10),
      at('a', read(1), 20, 30),
      at('b', read(null), 20, 30),
    ];
    const verdict = checkLinearizability(keyed, history);
    expect(verdict.result).toBe('illegal');
    expect(verdict.partitions.map((partition) => partition.result)).toEqual(['ok', 'illegal']);
    expect(verdict.explanation).toContain('b: read -> null');
    // Without partitioning, one register would see the keys interfere.
    expect(checkLinearizability(register, history).result).toBe('illegal');
  });

  it('refuses a partition that loses or repeats an operation', () => {
    const history = [op('c1', write(1), 0, 10), op('c2', read(1), 20, 30)];
    const dropping: Model<RegisterValue, RegisterInput, RegisterOutput> = { ...register, partition: (all) => [all.slice(1)] };
    expect(() => checkLinearizability(dropping, history)).toThrow(/every operation lands in a part/);
    const repeating: Model<RegisterValue, RegisterInput, RegisterOutput> = { ...register, partition: (all) => [all, all.slice(1)] };
    expect(() => checkLinearizability(repeating, history)).toThrow(/one part only/);
  });
});

describe('the state bound', () => {
  it('answers unknown-timeout, never ok, when the bound is reached', () => {
    // Twelve concurrent writes and a read that sees none of them: every subset gets explored.
    const history: RegisterOperation[] = [];
    for (let index = 0; index < 12; index++) history.push(op(`w${index}`, write(index), 0, 100));
    history.push(op('r', read(99), 0, 100));
    const verdict = checkLinearizability(register, history, { statesMaxPerPartition: 50 });
    expect(verdict.result).toBe('unknown-timeout');
    expect(verdict.partitions[0]?.statesExplored).toBe(50);
    expect(verdict.explanation).toContain('could not be decided');
    // With room, the same history is decided (a read of 99 is impossible).
    expect(checkLinearizability(register, history).result).toBe('illegal');
  });

  it('refuses a bound above the module limit', () => {
    expect(() => checkLinearizability(register, [], { statesMaxPerPartition: 1e9 })).toThrow(/within the limit/);
  });
});

describe('nondeterministic models', () => {
  // A counter whose `add` may add one or two (a lossy retransmission, say): reads pin it down.
  type CounterInput = { kind: 'add' } | { kind: 'read' };
  type CounterOutput = { kind: 'add' } | { kind: 'read'; value: number };
  const counter: Model<number, CounterInput, CounterOutput> = {
    name: 'sloppy-counter',
    init: () => 0,
    step: (state, input, output) => {
      if (input.kind === 'add') return { ok: true, choices: [state + 1, state + 2] };
      if (isUnknown(output)) return legal(state);
      return output.kind === 'read' && output.value === state ? legal(state) : { ok: false };
    },
    hash: (state) => String(state),
  };
  const at = (input: CounterInput, output: CounterOutput, from: number, to: number): Operation<CounterInput, CounterOutput> =>
    ({ id: idNext++, client: 'c', input, invokeTime: from, returnTime: to, output });

  it('keeps every possible state until a read decides', () => {
    const add = { kind: 'add' } as const;
    const fine = [at(add, add, 0, 1), at(add, add, 2, 3), at({ kind: 'read' }, { kind: 'read', value: 3 }, 4, 5)];
    expect(checkLinearizability(counter, fine).result).toBe('ok');
    const impossible = [at(add, add, 0, 1), at(add, add, 2, 3), at({ kind: 'read' }, { kind: 'read', value: 5 }, 4, 5)];
    const verdict = checkLinearizability(counter, impossible);
    expect(verdict.result).toBe('illegal');
    expect(verdict.explanation).toContain('one of {2, 3, 4}');
  });
});
