/**
 * A reference linearizability oracle for tiny histories, by the definition and nothing cleverer:
 * try every subset of the unknown-outcome operations as "took effect", every order of the chosen
 * operations that respects real-time order, and run the model along it. It exists to check the
 * real checker (linearizability.ts) in randomized tests; it shares no search code with it.
 */

import { assert } from '../core/assert.js';
import { type Operation, happensBefore, isUnknown } from './history.js';
import type { Model } from './linearizability.js';

/** 9! = 362,880 orders per subset: the largest part that still takes well under a second. */
export const BRUTE_FORCE_OPERATIONS_MAX = 9;

export function bruteForceLinearizable<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
): boolean {
  const parts = model.partition === undefined ? [history] : model.partition(history);
  return parts.every((part) => partLinearizable(model, part));
}

function partLinearizable<State, Input, Output>(
  model: Model<State, Input, Output>,
  part: readonly Operation<Input, Output>[],
): boolean {
  assert(part.length <= BRUTE_FORCE_OPERATIONS_MAX, `brute force takes at most ${BRUTE_FORCE_OPERATIONS_MAX} operations`);
  const known = part.filter((operation) => !isUnknown(operation.output));
  const unknown = part.filter((operation) => isUnknown(operation.output));
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...known, ...unknown.filter((_, bit) => (mask & (1 << bit)) !== 0)];
    if (someOrderWorks(model, chosen, [model.init()])) return true;
  }
  return false;
}

/** Tries every operation of `remaining` whose real-time predecessors are all placed as the next
 *  one, from `states` (every state the order so far may have left the model in). */
function someOrderWorks<State, Input, Output>(
  model: Model<State, Input, Output>,
  remaining: readonly Operation<Input, Output>[],
  states: readonly State[],
): boolean {
  if (remaining.length === 0) return true;
  for (const operation of remaining) {
    const rest = remaining.filter((other) => other !== operation);
    if (rest.some((other) => happensBefore(other, operation))) continue;
    const next: State[] = [];
    for (const state of states) {
      const step = model.step(state, operation.input, operation.output);
      if (step.ok) next.push(...('next' in step ? [step.next] : step.choices));
    }
    if (next.length > 0 && someOrderWorks(model, rest, next)) return true;
  }
  return false;
}
