/**
 * Registers for the linearizability checker: one register with read / write / compare-and-set,
 * and a map of independent registers (checked per key, by P-compositionality).
 *
 * Values are strings, numbers or null (null is the value no write has set yet, unless `initial`
 * says otherwise); distinct JSON means distinct values, so 1 and "1" differ.
 */

import { ILLEGAL, type Model, type StepResult, legal, partitionBy } from '../linearizability.js';
import { type Unknown, isUnknown } from '../history.js';
import { unreachable } from '../../core/assert.js';

export type RegisterValue = string | number | null;

export type RegisterInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: RegisterValue }
  /** Sets `value` if the register holds `expected`. */
  | { readonly kind: 'cas'; readonly expected: RegisterValue; readonly value: RegisterValue };

export type RegisterOutput =
  | { readonly kind: 'read'; readonly value: RegisterValue }
  | { readonly kind: 'write' }
  | { readonly kind: 'cas'; readonly ok: boolean };

export interface RegisterModelOptions {
  /** The value before any write; null by default. */
  initial?: RegisterValue;
}

function stepRegister(state: RegisterValue, input: RegisterInput, output: RegisterOutput | Unknown): StepResult<RegisterValue> {
  if (!isUnknown(output) && output.kind !== input.kind) return ILLEGAL;
  switch (input.kind) {
    case 'read':
      if (isUnknown(output)) return legal(state);
      return output.kind === 'read' && output.value === state ? legal(state) : ILLEGAL;
    case 'write':
      return legal(input.value);
    case 'cas': {
      const swaps = input.expected === state;
      if (isUnknown(output)) return legal(swaps ? input.value : state);
      if (output.kind !== 'cas' || output.ok !== swaps) return ILLEGAL;
      return legal(swaps ? input.value : state);
    }
    default:
      return unreachable(input, 'register input kind');
  }
}

export function describeRegisterOperation(input: RegisterInput, output: RegisterOutput | Unknown): string {
  const shown = isUnknown(output) ? 'unknown' : output.kind === 'read' ? JSON.stringify(output.value) : output.kind === 'cas' ? String(output.ok) : 'ok';
  switch (input.kind) {
    case 'read':
      return `read -> ${shown}`;
    case 'write':
      return `write(${JSON.stringify(input.value)}) -> ${shown}`;
    case 'cas':
      return `cas(${JSON.stringify(input.expected)} => ${JSON.stringify(input.value)}) -> ${shown}`;
    default:
      return unreachable(input, 'register input kind');
  }
}

/** One register. */
export function registerModel(options: RegisterModelOptions = {}): Model<RegisterValue, RegisterInput, RegisterOutput> {
  const initial = options.initial ?? null;
  return {
    name: 'register',
    init: () => initial,
    step: stepRegister,
    hash: (state) => JSON.stringify(state),
    describeOperation: describeRegisterOperation,
    describeState: (state) => JSON.stringify(state),
    inputKey: (input) => JSON.stringify(input),
  };
}

export type KeyedRegisterInput = RegisterInput & { readonly key: string };

/** Independent registers by key: each key's operations are checked alone, from `initial`. */
export function keyedRegisterModel(options: RegisterModelOptions = {}): Model<RegisterValue, KeyedRegisterInput, RegisterOutput> {
  const initial = options.initial ?? null;
  return {
    name: 'keyed-register',
    init: () => initial,
    step: stepRegister,
    hash: (state) => JSON.stringify(state),
    partition: (history) => partitionBy(history, (input) => input.key),
    describeOperation: (input, output) => `${input.key}: ${describeRegisterOperation(input, output)}`,
    describeState: (state) => JSON.stringify(state),
    inputKey: (input) => JSON.stringify(input),
  };
}
