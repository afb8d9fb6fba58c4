/**
 * Histories of client operations, for the linearizability checker (linearizability.ts).
 *
 * An operation is an interval [invokeTime, returnTime] with the client's input and the output it
 * saw. Jepsen's and Porcupine's rule for operations whose outcome is unknown (a timeout,
 * CONNECTIONLOSS, a client that crashed while waiting) is kept strictly: such an operation is
 * recorded with `output: UNKNOWN` and `returnTime: Infinity`. It may have taken effect at any
 * moment after its invocation, or never; the checker considers both, and nothing ever guesses
 * an output for it.
 *
 * Real-time order: operation A happens before B when A returned before B was invoked. Equal
 * times are ambiguous (a virtual clock stands still within an event; a real clock has a finite
 * resolution), so the recorder also numbers every invoke and return in the order it saw them;
 * at equal times that order decides. Hand-made histories without that numbering treat equal
 * times as concurrent (Porcupine's rule), which can only accept more, never reject a correct run.
 */

import { assert } from '../core/assert.js';

/** The output of an operation whose outcome is unknown. `Symbol.for`, so that two copies of this
 *  module (a bundled test helper and the library) agree on it. */
export const UNKNOWN: unique symbol = Symbol.for('meshkeeper.testing.outcome-unknown');
export type Unknown = typeof UNKNOWN;

export interface Operation<Input, Output> {
  /** Unique within one history. */
  readonly id: number;
  /** Who issued it (a session, a tab, a simulated client). Display only: the checker needs no
   *  per-client order beyond what the times already say. */
  readonly client: string;
  readonly input: Input;
  readonly invokeTime: number;
  /** When the client saw the outcome; Infinity exactly when the outcome is unknown. */
  readonly returnTime: number;
  readonly output: Output | Unknown;
  /** The recorder's sequence number of the invocation (ties at equal times; one recorder only). */
  readonly invokeOrder?: number;
  /** The recorder's sequence number of the return; absent for unknown outcomes. */
  readonly returnOrder?: number;
}

export function isUnknown<Output>(output: Output | Unknown): output is Unknown {
  return output === UNKNOWN;
}

/** Asserts the shape of one operation (a malformed history is a bug in the test that made it). */
export function assertWellFormed<Input, Output>(operation: Operation<Input, Output>): void {
  const label = `operation #${operation.id}`;
  assert(Number.isInteger(operation.id), `${label}: id is an integer`);
  assert(Number.isFinite(operation.invokeTime), `${label}: invokeTime is finite`);
  if (isUnknown(operation.output)) {
    assert(operation.returnTime === Infinity, `${label}: an unknown outcome has returnTime Infinity`);
    assert(operation.returnOrder === undefined, `${label}: an unknown outcome has no returnOrder`);
  } else {
    assert(Number.isFinite(operation.returnTime), `${label}: a known outcome has a finite returnTime`);
    assert(operation.invokeTime <= operation.returnTime, `${label}: invokeTime <= returnTime`);
  }
  if (operation.invokeOrder !== undefined && operation.returnOrder !== undefined) {
    assert(operation.invokeOrder < operation.returnOrder, `${label}: invokeOrder < returnOrder`);
  }
}

/**
 * True when `a` returned before `b` was invoked, so every linearization puts `a` first. At equal
 * times, the recorder's order decides when both operations carry one; otherwise they overlap.
 */
export function happensBefore<I, O>(a: Operation<I, O>, b: Operation<I, O>): boolean {
  if (a.returnTime < b.invokeTime) return true;
  if (a.returnTime > b.invokeTime) return false;
  return a.returnOrder !== undefined && b.invokeOrder !== undefined && a.returnOrder < b.invokeOrder;
}

/** Caps one recorder: the checker's search is exponential in the concurrency of a partition, and
 *  a partition of more than some thousands of operations is rarely decidable within its state
 *  bound anyway; one million operations (~100 MB of records) is far above any useful test and
 *  catches a generator that never stops. */
export const HISTORY_OPERATIONS_MAX = 1_000_000;

export interface HistoryRecorderOptions {
  /** The time source: the simulator's virtual clock, or `performance.now` in a Playwright test.
   *  Must never go backwards (so prefer a monotonic clock to Date.now). */
  clock: () => number;
  /** At most HISTORY_OPERATIONS_MAX. */
  operationsMax?: number;
}

interface PendingOperation<Input> {
  client: string;
  input: Input;
  invokeTime: number;
  invokeOrder: number;
}

/**
 * Records a history as it happens: `invoke` when a client sends a request, then exactly one of
 * `ok` (the client saw the result, success or a definite error such as BADVERSION) or `unknown`
 * (timeout, connection loss: it may or may not have happened). Operations still pending when the
 * history is taken count as unknown.
 */
export class HistoryRecorder<Input, Output> {
  private readonly clock: () => number;
  private readonly operationsMax: number;
  private readonly pending = new Map<number, PendingOperation<Input>>();
  private readonly finished: Operation<Input, Output>[] = [];
  private idNext = 0;
  private orderNext = 0;
  private timeLast = -Infinity;

  constructor(options: HistoryRecorderOptions) {
    const operationsMax = options.operationsMax ?? HISTORY_OPERATIONS_MAX;
    assert(Number.isInteger(operationsMax), 'operationsMax is an integer');
    assert(operationsMax >= 1, 'operationsMax >= 1');
    assert(operationsMax <= HISTORY_OPERATIONS_MAX, 'operationsMax <= HISTORY_OPERATIONS_MAX');
    this.clock = options.clock;
    this.operationsMax = operationsMax;
  }

  /** Records an invocation now; returns the operation's id for `ok` / `unknown`. */
  invoke(client: string, input: Input): number {
    assert(this.idNext < this.operationsMax, `history holds at most ${this.operationsMax} operations`);
    const id = this.idNext++;
    this.pending.set(id, { client, input, invokeTime: this.now(), invokeOrder: this.orderNext++ });
    return id;
  }

  /** The client saw `output` (a success or a definite failure). */
  ok(id: number, output: Output): void {
    assert(!isUnknown(output), 'ok() takes a known output; use unknown() otherwise');
    const started = this.take(id);
    this.finished.push({
      id,
      client: started.client,
      input: started.input,
      invokeTime: started.invokeTime,
      returnTime: this.now(),
      output,
      invokeOrder: started.invokeOrder,
      returnOrder: this.orderNext++,
    });
  }

  /** The outcome is unknown (timeout, connection loss): it may or may not have taken effect. */
  unknown(id: number): void {
    const started = this.take(id);
    this.finished.push(unknownOperation(id, started));
  }

  /** How many operations are invoked and not yet finished. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Every operation so far, ordered by id; those still pending are reported as unknown. */
  history(): Operation<Input, Output>[] {
    const all: Operation<Input, Output>[] = [...this.finished];
    for (const [id, started] of this.pending) all.push(unknownOperation(id, started));
    return all.sort((a, b) => a.id - b.id);
  }

  private take(id: number): PendingOperation<Input> {
    const started = this.pending.get(id);
    assert(started !== undefined, `operation #${id} is pending (finished once, after invoke)`);
    this.pending.delete(id);
    return started;
  }

  private now(): number {
    const time = this.clock();
    assert(Number.isFinite(time), 'the clock gives finite times');
    assert(time >= this.timeLast, 'the clock never goes backwards (use a monotonic clock)');
    this.timeLast = time;
    return time;
  }
}

function unknownOperation<Input, Output>(id: number, started: PendingOperation<Input>): Operation<Input, Output> {
  return {
    id,
    client: started.client,
    input: started.input,
    invokeTime: started.invokeTime,
    returnTime: Infinity,
    output: UNKNOWN,
    invokeOrder: started.invokeOrder,
  };
}

/** One line for an operation: `#3 c1 [10, 25] <what happened>`. */
export function formatOperation<I, O>(operation: Operation<I, O>, what: string): string {
  const end = operation.returnTime === Infinity ? '∞)' : `${operation.returnTime}]`;
  return `#${operation.id} ${operation.client} [${operation.invokeTime}, ${end} ${what}`;
}
