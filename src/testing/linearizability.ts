/**
 * A linearizability checker in the style of Jepsen's Knossos and Porcupine: the Wing–Gong search
 * with Lowe's memoization ("Testing for linearizability", Concurrency and Computation 2017, the
 * WGL algorithm), over a pure sequential model.
 *
 * Decisions, for the next reader:
 *
 * - A model's `step(state, input, output)` is pure and says whether `output` is possible for
 *   `input` in `state`, and which state follows. A nondeterministic model returns every possible
 *   next state (`choices`); the search then runs on *sets* of model states (the subset
 *   construction, as Porcupine's NondeterministicModel), so it never backtracks over a choice and
 *   stays exact: a linearization exists iff the set of reachable states never becomes empty.
 *
 * - Unknown outcomes (output UNKNOWN, returnTime Infinity): the model is asked for the effect the
 *   operation would have had in that state, with any output. Such an operation has no return
 *   event, so nothing ever forces it to be placed: the search may place it at any point after its
 *   invocation (it took effect there), or never (it did not take effect, or took effect after
 *   everything observed, which is the same to every observer). The search succeeds as soon as
 *   every operation with a known outcome is placed.
 *
 * - Cost of unknowns: an unplaced unknown operation stays placeable for the rest of the history,
 *   which in plain WGL multiplies the configurations by two for each one open. Three reductions,
 *   each sound on its own (argued where it is coded; cross-checked against plain WGL and a brute
 *   force in the tests), keep that in check:
 *     dominance (Memo): a configuration is skipped when one with the same known operations and
 *       states but a subset of its unknown operations placed was visited;
 *     overwritten unknowns (overwritesUnknown): an unknown operation placed right after another
 *       is skipped when the first one's effect made no difference;
 *     symmetry (Model.inputKey): of open unknown operations with equal inputs, only the earliest
 *       is tried.
 *   Each partition is searched first in time order (fast to find a witness) within a quarter of
 *   its bound, then, if undecided, with known operations first (fast to refute: dominating
 *   configurations come first). With many open unknown operations over a few values, refuting
 *   stays exponential in them and may answer 'unknown-timeout': write unique values in workloads.
 *
 * - The search is bounded: at most `statesMax` distinct configurations (placed operations, model
 *   states) per partition (LINEARIZABILITY_STATES_PER_PARTITION_MAX). Reaching it answers
 *   'unknown-timeout', never 'ok'.
 *
 * - P-compositionality (Herlihy & Wing): a model may split a history into independent parts (one
 *   per key or znode); each is checked alone, which is exponentially cheaper.
 */

import { assert } from '../core/assert.js';
import {
  type Operation,
  type Unknown,
  assertWellFormed,
  formatOperation,
  happensBefore,
  isUnknown,
} from './history.js';

export {
  UNKNOWN,
  HISTORY_OPERATIONS_MAX,
  HistoryRecorder,
  assertWellFormed,
  formatOperation,
  happensBefore,
  isUnknown,
} from './history.js';
export type { HistoryRecorderOptions, Operation, Unknown } from './history.js';

/** What a model says about one operation applied to one state. */
export type StepResult<State> =
  /** This output is impossible for this input in this state. */
  | { readonly ok: false }
  /** Possible, and the model moves to `next`. */
  | { readonly ok: true; readonly next: State }
  /** Possible, and the model may move to any of `choices` (non-empty): a nondeterministic step. */
  | { readonly ok: true; readonly choices: readonly State[] };

export interface Model<State, Input, Output> {
  /** For reports. */
  readonly name: string;
  init(): State;
  /** Pure. With `output === UNKNOWN`, returns the effect the operation would have had here
   *  (with whatever output): the checker itself covers "it never took effect". */
  step(state: State, input: Input, output: Output | Unknown): StepResult<State>;
  /** Equal hashes must mean equal states: the memo trusts it. */
  hash(state: State): string;
  /** Splits a history into parts that are checked independently (each from `init()`); every
   *  operation must land in exactly one part. Absent: the history is one part. */
  partition?(history: readonly Operation<Input, Output>[]): readonly (readonly Operation<Input, Output>[])[];
  describeOperation?(input: Input, output: Output | Unknown): string;
  describeState?(state: State): string;
  /** Optional: equal keys mean equal inputs (same effect in every state). With it, of several
   *  open unknown operations with one input only the earliest is tried (they are interchangeable
   *  once invoked), which keeps many timed-out writes of a few values cheap. */
  inputKey?(input: Input): string;
}

export const ILLEGAL: { readonly ok: false } = Object.freeze({ ok: false });

/** A deterministic legal step. */
export function legal<State>(next: State): StepResult<State> {
  return { ok: true, next };
}

/**
 * Explored configurations per partition. Each costs a memo entry (the run-length key of the placed
 * set plus the state's hash: ~150-200 bytes measured here) and ~4 µs, up to ~50 µs with hundreds
 * of open unknown operations to try from each; one million keeps one partition's check near
 * 200 MB and between seconds and a minute. A partition that needs more is too concurrent to
 * decide: fewer concurrent clients, shorter runs, unique written values, or a finer `partition`.
 */
export const LINEARIZABILITY_STATES_PER_PARTITION_MAX = 1_000_000;

/** The most model states one nondeterministic step may leave the search in at once (the subset
 *  construction's set). Our models are deterministic; a model beyond this is a model bug. */
export const LINEARIZABILITY_STATE_CHOICES_MAX = 1024;

/** How many visited unknown sets (per known set and state) a configuration is compared with as
 *  possible subsets. Dominance is an optimization: missing one costs time, never soundness; but
 *  with many open unknown operations over a few values the sets form long antichains, and
 *  comparing with all of them cost more than exploring (measured: ~1 ms per state). */
export const LINEARIZABILITY_DOMINANCE_SCAN_MAX = 32;

/** Report sizes: enough context to read a failure, short enough to read it at all. */
const REPORT_PREFIX_LINES_MAX = 12;
const REPORT_CANDIDATES_MAX = 8;
const REPORT_EXCERPT_OPERATIONS_MAX = 24;

export type CheckVerdict = 'ok' | 'illegal' | 'unknown-timeout';

export interface PartitionResult {
  readonly index: number;
  readonly result: CheckVerdict;
  readonly operationCount: number;
  readonly statesExplored: number;
  /** 'ok': a witness, the ids in linearization order (an unknown operation absent from it did not
   *  take effect). Otherwise: the longest linearizable prefix found. */
  readonly linearization: readonly number[];
  /** Not 'ok': the operation that returned without any way to place it after that prefix (null
   *  when the search timed out before meeting one). */
  readonly unplaceable: number | null;
  /** Readable account of the failure; '' for 'ok'. */
  readonly explanation: string;
}

export interface LinearizabilityResult {
  /** 'illegal' if any partition is; else 'unknown-timeout' if any timed out; else 'ok'. */
  readonly result: CheckVerdict;
  readonly partitions: readonly PartitionResult[];
  /** The accounts of the partitions that are not 'ok' (illegal ones first); '' for 'ok'. */
  readonly explanation: string;
}

export interface CheckOptions {
  /** At most (and by default) LINEARIZABILITY_STATES_PER_PARTITION_MAX. */
  statesMaxPerPartition?: number;
  /** False: plain WGL, without the reductions for unknown operations (dominance, overwritten
   *  unknowns; see Memo). Same verdicts, far slower with open unknowns: for cross-checking. */
  unknownReductions?: boolean;
}

/** Checks that `history` is linearizable with respect to `model`. */
export function checkLinearizability<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): LinearizabilityResult {
  const statesMax = options.statesMaxPerPartition ?? LINEARIZABILITY_STATES_PER_PARTITION_MAX;
  assert(Number.isInteger(statesMax), 'statesMaxPerPartition is an integer');
  assert(statesMax >= 1, 'statesMaxPerPartition >= 1');
  assert(statesMax <= LINEARIZABILITY_STATES_PER_PARTITION_MAX, 'statesMaxPerPartition within the limit');
  assertHistory(history);

  const parts = model.partition === undefined ? [history] : model.partition(history);
  assertPartitioned(history, parts);
  const reductions = options.unknownReductions ?? true;
  const partitions = parts.map((part, index) => checkPartition(model, part, index, statesMax, reductions));

  const illegal = partitions.filter((partition) => partition.result === 'illegal');
  const timedOut = partitions.filter((partition) => partition.result === 'unknown-timeout');
  const result: CheckVerdict = illegal.length > 0 ? 'illegal' : timedOut.length > 0 ? 'unknown-timeout' : 'ok';
  const explanation = [...illegal, ...timedOut].map((partition) => partition.explanation).join('\n\n');
  return { result, partitions, explanation };
}

function assertHistory<I, O>(history: readonly Operation<I, O>[]): void {
  const ids = new Set<number>();
  let ordered = 0;
  for (const operation of history) {
    assertWellFormed(operation);
    assert(!ids.has(operation.id), `operation ids are unique (#${operation.id} repeats)`);
    ids.add(operation.id);
    if (operation.invokeOrder !== undefined) ordered += 1;
    const returnOrdered = operation.returnOrder !== undefined;
    const returnExpected = operation.invokeOrder !== undefined && !isUnknown(operation.output);
    assert(returnOrdered === returnExpected, `#${operation.id}: a recorded operation has both orders`);
  }
  // One recorder's numbering or none: orders of two recorders do not compare.
  assert(ordered === 0 || ordered === history.length, 'every operation carries recorder orders, or none does');
}

function assertPartitioned<I, O>(
  history: readonly Operation<I, O>[],
  parts: readonly (readonly Operation<I, O>[])[],
): void {
  const seen = new Set<number>();
  for (const part of parts) {
    for (const operation of part) {
      assert(!seen.has(operation.id), `partition: #${operation.id} lands in one part only`);
      seen.add(operation.id);
    }
  }
  assert(seen.size === history.length, 'partition: every operation lands in a part');
}

// ---------------------------------------------------------------------------------------------
// Sets of model states (the subset construction) with a canonical key.

interface StateSet<State> {
  readonly states: readonly State[];
  /** Canonical and unambiguous: the sorted, length-prefixed hashes of the states. */
  readonly key: string;
}

function stateSetOf<State>(model: Model<State, unknown, unknown>, states: readonly State[]): StateSet<State> | null {
  if (states.length === 1) {
    // The common case (a deterministic model), without the set's bookkeeping.
    const only = states[0] as State;
    const hash = model.hash(only);
    return { states, key: `${hash.length}:${hash}` };
  }
  const byHash = new Map<string, State>();
  for (const state of states) byHash.set(model.hash(state), state);
  if (byHash.size === 0) return null;
  assert(byHash.size <= LINEARIZABILITY_STATE_CHOICES_MAX, 'a step leaves at most LINEARIZABILITY_STATE_CHOICES_MAX states');
  const hashes = [...byHash.keys()].sort();
  return {
    states: hashes.map((hash) => byHash.get(hash) as State),
    key: hashes.map((hash) => `${hash.length}:${hash}`).join(''),
  };
}

function stepSet<State, Input, Output>(
  model: Model<State, Input, Output>,
  set: StateSet<State>,
  operation: Operation<Input, Output>,
): StateSet<State> | null {
  if (set.states.length === 1) {
    const step = model.step(set.states[0] as State, operation.input, operation.output);
    if (!step.ok) return null;
    if ('next' in step) return stateSetOf(model as Model<State, unknown, unknown>, [step.next]);
  }
  const next: State[] = [];
  for (const state of set.states) {
    const step = model.step(state, operation.input, operation.output);
    if (!step.ok) continue;
    if ('next' in step) {
      next.push(step.next);
    } else {
      assert(step.choices.length > 0, 'a legal nondeterministic step has at least one choice');
      next.push(...step.choices);
    }
  }
  return stateSetOf(model as Model<State, unknown, unknown>, next);
}

// ---------------------------------------------------------------------------------------------
// The search over one partition.

/**
 * A set of operations (by index) as 16-bit words. Its `runKey` is run-length encoded: known
 * operations are numbered in invocation order and the search places them roughly in that order,
 * so a placed set is long runs of full and empty words around a short window, and its key stays
 * short however long the history (a plain bitset key made a 20,000-operation partition cost
 * 2.5 KB per state).
 */
class Bitset {
  readonly words: Uint16Array;
  private cache: { raw: string; fold: number } | null = null;
  constructor(size: number) {
    this.words = new Uint16Array(Math.ceil(size / 16));
  }
  set(index: number): void {
    this.words[index >>> 4] = (this.words[index >>> 4] ?? 0) | (1 << (index & 15));
    this.cache = null;
  }
  clear(index: number): void {
    this.words[index >>> 4] = (this.words[index >>> 4] ?? 0) & ~(1 << (index & 15));
    this.cache = null;
  }
  /**
   * Canonical and unambiguous: two-character tokens, 'F' + run length of full words, 'E' + run
   * length of empty words (runs split at 0xffff), 'L' + a mixed word; no trailing empty run; and
   * a '|' after the last token, which no token starts with.
   */
  runKey(): string {
    let out = '';
    const words = this.words;
    let position = 0;
    while (position < words.length) {
      const word = words[position] ?? 0;
      if (word !== 0 && word !== 0xffff) {
        out += 'L' + String.fromCharCode(word);
        position += 1;
        continue;
      }
      let run = 1;
      while (run < 0xffff && position + run < words.length && words[position + run] === word) run += 1;
      if (word === 0 && position + run === words.length) break;
      out += (word === 0 ? 'E' : 'F') + String.fromCharCode(run);
      position += run;
    }
    return out + '|';
  }
  /** This set plus `extra` (-1: none), as the memo keeps unknown sets: the words as a string,
   *  one character each, and their fold (see foldOf). Built from a cache of this set's own, so
   *  that trying each open unknown operation from one configuration stays cheap. */
  keyWith(extra: number): { raw: string; fold: number } {
    if (this.cache === null) {
      const chunk = 4096; // below every engine's argument-count limit for fromCharCode
      let raw = '';
      for (let start = 0; start < this.words.length; start += chunk) {
        raw += String.fromCharCode(...this.words.subarray(start, start + chunk));
      }
      this.cache = { raw, fold: foldOf(this.words) };
    }
    if (extra === -1) return this.cache;
    const word = extra >>> 4;
    const bit = 1 << (extra & 15);
    const raw = this.cache.raw;
    return {
      raw: raw.slice(0, word) + String.fromCharCode((raw.charCodeAt(word) | bit) & 0xffff) + raw.slice(word + 1),
      fold: this.cache.fold | (bit << ((word & 1) * 16)),
    };
  }
}

/**
 * The configurations visited: (known operations placed, unknown operations placed, state set).
 * Unknown operations have no return, so they never constrain what may be placed: every way to
 * complete a configuration is also a way to complete one with the same known set and state but
 * fewer unknown operations placed. So a configuration is skipped when a visited one dominates it
 * (same known set and state, a subset of its unknowns), not only when it was visited itself (the
 * 'known-first' order makes the dominating configurations tend to come first). Without this,
 * every open unknown operation doubles the states to refute.
 */
class Memo {
  /** Known set key -> state set key -> the unknown sets visited with them. */
  private readonly visited = new Map<string, Map<string, VisitedUnknowns>>();
  size = 0;

  /** The visits with one known set (looked up once per configuration, not once per attempt). */
  withKnown(knownKey: string): Map<string, VisitedUnknowns> {
    let byState = this.visited.get(knownKey);
    if (byState === undefined) {
      byState = new Map();
      this.visited.set(knownKey, byState);
    }
    return byState;
  }

  /** True when a visited configuration has these known set and states and a subset of these
   *  unknowns (searched among the first LINEARIZABILITY_DOMINANCE_SCAN_MAX, exactly among all). */
  static dominates(byState: Map<string, VisitedUnknowns>, stateKey: string, unknowns: { raw: string; fold: number }, subsets: boolean): boolean {
    const visited = byState.get(stateKey);
    if (visited === undefined) return false;
    if (subsets) {
      for (const subset of visited.scanned) {
        // A subset's fold is within the set's fold: a cheap test that rejects most candidates.
        if ((subset.fold & ~unknowns.fold) === 0 && isSubset(subset.raw, unknowns.raw)) return true;
      }
    }
    return visited.all.has(unknowns.raw);
  }

  add(byState: Map<string, VisitedUnknowns>, stateKey: string, unknowns: { raw: string; fold: number }): void {
    let visited = byState.get(stateKey);
    if (visited === undefined) {
      visited = { all: new Set(), scanned: [] };
      byState.set(stateKey, visited);
    }
    visited.all.add(unknowns.raw);
    if (visited.scanned.length < LINEARIZABILITY_DOMINANCE_SCAN_MAX) visited.scanned.push(unknowns);
    this.size += 1;
  }
}

interface VisitedUnknowns {
  /** Every unknown set visited (exact matches: each configuration is visited once). */
  all: Set<string>;
  /** The first ones visited (with their folds), tried as subsets. */
  scanned: { raw: string; fold: number }[];
}

/** The words OR-ed into 32 bits: if A is a subset of B, fold(A) is a subset of fold(B). */
function foldOf(words: Uint16Array): number {
  let fold = 0;
  for (let index = 0; index < words.length; index++) fold |= (words[index] ?? 0) << ((index & 1) * 16);
  return fold;
}

function isSubset(subset: string, set: string): boolean {
  for (let index = 0; index < subset.length; index++) {
    if ((subset.charCodeAt(index) & ~set.charCodeAt(index)) !== 0) return false;
  }
  return true;
}

/**
 * The history's events in time order, as two doubly linked lists over the same nodes: the calls
 * and returns of known-outcome operations, and the calls of unknown-outcome ones (which have no
 * return). A node's index is its rank in time order, so "invoked before that return" is a
 * comparison of indexes. Placing an operation unlinks its call (and return); backtracking relinks
 * them (dancing links: undone in reverse order, so the stale pointers are the right ones).
 * Keeping open unknown calls on a list of their own spares every scan of the known window from
 * walking past them.
 */
class EventList {
  /** The head sentinels of the two lists. */
  readonly knownHead = 0;
  readonly unknownHead: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** The operation (index into the partition) of each node. */
  readonly operation: Int32Array;
  /** 1 for a call node. */
  readonly isCall: Uint8Array;
  /** For a known call node: its return node; -1 otherwise. */
  readonly returnNode: Int32Array;

  constructor(operations: readonly Operation<unknown, unknown>[]) {
    interface Event { operation: number; call: boolean; time: number; order: number | undefined }
    const events: Event[] = [];
    operations.forEach((operation, index) => {
      events.push({ operation: index, call: true, time: operation.invokeTime, order: operation.invokeOrder });
      if (!isUnknown(operation.output)) {
        events.push({ operation: index, call: false, time: operation.returnTime, order: operation.returnOrder });
      }
    });
    events.sort((a, b) => {
      if (a.time !== b.time) return a.time - b.time;
      if (a.order !== undefined && b.order !== undefined) return a.order - b.order;
      if (a.call !== b.call) return a.call ? -1 : 1; // equal times without orders overlap
      return a.operation - b.operation;
    });
    const size = events.length + 2;
    this.unknownHead = events.length + 1;
    this.next = new Int32Array(size).fill(-1);
    this.prev = new Int32Array(size).fill(-1);
    this.operation = new Int32Array(size).fill(-1);
    this.isCall = new Uint8Array(size);
    this.returnNode = new Int32Array(size).fill(-1);
    const callNodeOf = new Int32Array(operations.length).fill(-1);
    let knownTail = this.knownHead;
    let unknownTail = this.unknownHead;
    events.forEach((event, position) => {
      const node = position + 1;
      this.operation[node] = event.operation;
      this.isCall[node] = event.call ? 1 : 0;
      const unknown = isUnknown(operations[event.operation]?.output);
      if (event.call) {
        callNodeOf[event.operation] = node;
      } else {
        const call = callNodeOf[event.operation] ?? -1;
        assert(call !== -1, 'an operation is invoked before it returns');
        this.returnNode[call] = node;
      }
      const tail = unknown ? unknownTail : knownTail;
      this.next[tail] = node;
      this.prev[node] = tail;
      if (unknown) unknownTail = node;
      else knownTail = node;
    });
  }

  after(node: number): number {
    return this.next[node] ?? -1;
  }

  lift(call: number): void {
    this.unlink(call);
    const ret = this.returnNode[call] ?? -1;
    if (ret !== -1) this.unlink(ret);
  }

  unlift(call: number): void {
    const ret = this.returnNode[call] ?? -1;
    if (ret !== -1) this.relink(ret);
    this.relink(call);
  }

  private unlink(node: number): void {
    const before = this.prev[node] ?? -1;
    const after = this.next[node] ?? -1;
    this.next[before] = after;
    if (after !== -1) this.prev[after] = before;
  }

  private relink(node: number): void {
    const before = this.prev[node] ?? -1;
    const after = this.next[node] ?? -1;
    this.next[before] = node;
    if (after !== -1) this.prev[after] = node;
  }
}

interface SearchOutcome<State> {
  result: CheckVerdict;
  statesExplored: number;
  /** Indexes into the partition: the witness, or the longest prefix found. */
  linearization: number[];
  /** The state set after `linearization`. */
  states: StateSet<State>;
  /** Index of the operation that could not be placed, or -1. */
  unplaceable: number;
}

interface Placement<State> {
  /** The call node placed. */
  call: number;
  /** The states before it. */
  states: StateSet<State>;
  /** The memo's visits with the known set before it. */
  visited: Map<string, VisitedUnknowns>;
  /** An unknown-outcome operation (on the unknown list). */
  unknown: boolean;
  /** The cursors when it was placed. */
  cursorKnown: number;
  cursorUnknown: number;
}

/**
 * True when `operation` (unknown), placed right after another unknown operation, leaves the same
 * states as it would have without that one: the pair is then dominated by `operation` alone, placed
 * from the same configuration (same known set, same states, one unknown fewer), which that
 * configuration's scan tries too. Without this, a run of open unknown writes would be tried in
 * every combination before the memo could see that the later ones dominate.
 */
function overwritesUnknown<State, Input, Output>(
  model: Model<State, Input, Output>,
  top: Placement<State> | undefined,
  operation: Operation<Input, Output>,
  next: StateSet<State>,
): boolean {
  if (top === undefined || !top.unknown) return false;
  const without = stepSet(model, top.states, operation);
  return without !== null && without.key === next.key;
}

/**
 * The order in which a configuration's candidates are tried. Either is complete; they differ in
 * speed. 'time' (Lowe's WGL: earliest invocation first) finds a witness fastest, since real
 * histories linearize roughly in time order. 'known-first' (known operations of the window, then
 * the open unknown ones) refutes fastest, since it visits configurations with fewer unknowns
 * placed first, which then dominate the rest (see Memo).
 */
type ScanOrder = 'time' | 'known-first';

/** The share of a partition's state bound the 'time' pass may use before the 'known-first' pass
 *  takes the rest: most correct histories need far less, and a refutation pays at most this. */
const TIME_ORDER_BUDGET_SHARE = 0.25;

/**
 * WGL over one partition. From each configuration it tries the calls invoked before the first
 * pending return, in `order`, and backtracks when none of them leads anywhere. Two cursors walk
 * the two lists of EventList: in 'time' order in step, as one list; in 'known-first' order the
 * known one up to the first pending return, then the unknown one up to the same point.
 */
class Search<State, Input, Output> {
  private readonly list: EventList;
  /** 1 for an unknown-outcome operation. */
  private readonly unknownAt: Uint8Array;
  /** Known and unknown operations are numbered apart, each in invocation order. */
  private readonly slot: Int32Array;
  private readonly placedKnown: Bitset;
  private readonly placedUnknown: Bitset;
  private readonly memo = new Memo();
  private readonly stack: Placement<State>[] = [];
  private current: StateSet<State>;
  /** The memo's visits with the current known set. */
  private visitedHere: Map<string, VisitedUnknowns>;
  private knownRemaining: number;
  private best: { linearization: number[]; states: StateSet<State>; unplaceable: number } | null = null;
  /** Where the scan is on the known list and on the unknown list. */
  private cursorKnown: number;
  private cursorUnknown: number;
  /** Unknown operations with equal inputs (model.inputKey), for the symmetry reduction: their
   *  class (-1: none), each class's members in invocation order, and how many are placed (always
   *  the first ones, as only the first unplaced member is ever tried). */
  private readonly classOf: Int32Array;
  private readonly classMembers: number[][] = [];
  private readonly classPlaced: number[] = [];

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly operations: readonly Operation<Input, Output>[],
    private readonly statesMax: number,
    private readonly reductions: boolean,
    private readonly order: ScanOrder,
  ) {
    this.list = new EventList(operations as readonly Operation<unknown, unknown>[]);
    this.unknownAt = Uint8Array.from(operations, (operation) => (isUnknown(operation.output) ? 1 : 0));
    this.slot = new Int32Array(operations.length);
    let knownCount = 0;
    let unknownCount = 0;
    this.unknownAt.forEach((unknown, index) => {
      this.slot[index] = unknown === 1 ? unknownCount++ : knownCount++;
    });
    this.placedKnown = new Bitset(knownCount);
    this.placedUnknown = new Bitset(unknownCount);
    this.knownRemaining = knownCount;
    const initial = stateSetOf(model as Model<State, unknown, unknown>, [model.init()]);
    assert(initial !== null, 'the model has an initial state');
    this.current = initial;
    this.visitedHere = this.memo.withKnown(this.placedKnown.runKey());
    this.memo.add(this.visitedHere, initial.key, this.placedUnknown.keyWith(-1));
    this.cursorKnown = this.list.after(this.list.knownHead);
    this.cursorUnknown = this.list.after(this.list.unknownHead);
    this.classOf = new Int32Array(operations.length).fill(-1);
    if (reductions && model.inputKey !== undefined) this.classifyUnknowns(model.inputKey.bind(model));
  }

  private classifyUnknowns(inputKey: (input: Input) => string): void {
    const classByKey = new Map<string, number>();
    this.operations.forEach((operation, index) => {
      if (this.unknownAt[index] !== 1) return;
      const key = inputKey(operation.input);
      let id = classByKey.get(key);
      if (id === undefined) {
        id = this.classMembers.length;
        classByKey.set(key, id);
        this.classMembers.push([]);
        this.classPlaced.push(0);
      }
      this.classOf[index] = id;
      this.classMembers[id]?.push(index); // operations are in invocation order
    });
  }

  /** False for an unknown operation whose class has an earlier member unplaced. */
  private firstOfClass(index: number): boolean {
    const id = this.classOf[index] ?? -1;
    if (id === -1) return true;
    return this.classMembers[id]?.[this.classPlaced[id] ?? 0] === index;
  }

  private countPlaced(index: number, delta: 1 | -1): void {
    const id = this.classOf[index] ?? -1;
    if (id !== -1) this.classPlaced[id] = (this.classPlaced[id] ?? 0) + delta;
  }

  run(): SearchOutcome<State> {
    // Each pass places an operation (adds a memo entry: at most statesMax), backtracks one (at
    // most as often as it placed), or moves a cursor one node along a list of at most 2n nodes
    // between those.
    const passesMax = (2 * this.statesMax + 2) * (2 * this.operations.length + 2);
    for (let passes = 0; ; passes++) {
      assert(passes <= passesMax, 'the search is bounded by its memo');
      if (this.knownRemaining === 0) return this.outcome('ok', this.prefix());
      const known = this.cursorKnown;
      const unknown = this.cursorUnknown;
      assert(known !== -1, 'a known operation is unplaced, so its return is still ahead');
      const atCall = this.list.isCall[known] === 1;
      const unknownFirst = unknown !== -1 && unknown < known && (!atCall || this.order === 'time');
      if (unknownFirst || atCall) {
        const placed = this.tryPlace(unknownFirst ? unknown : known, unknownFirst);
        if (placed === 'full') return this.outcome('unknown-timeout', this.best ?? this.prefix());
        if (placed === 'skipped' && unknownFirst) this.cursorUnknown = this.list.after(unknown);
        if (placed === 'skipped' && !unknownFirst) this.cursorKnown = this.list.after(known);
      } else if (!this.backtrack(known)) {
        return this.outcome('illegal', this.best ?? this.prefix());
      }
    }
  }

  /** Places the operation of call node `call` if the model allows it and no visited
   *  configuration dominates the one it leads to. */
  private tryPlace(call: number, unknown: boolean): 'placed' | 'skipped' | 'full' {
    const index = this.list.operation[call] ?? -1;
    const operation = this.operations[index];
    assert(operation !== undefined, 'every node names an operation');
    if (unknown && !this.firstOfClass(index)) return 'skipped';
    const next = stepSet(this.model, this.current, operation);
    if (next === null) return 'skipped';
    if (this.reductions && unknown && overwritesUnknown(this.model, this.stack[this.stack.length - 1], operation, next)) return 'skipped';
    const slot = this.slot[index] ?? -1;
    // Placing an unknown operation keeps the known set, and so the memo's visits with it.
    let visitedThere = this.visitedHere;
    if (!unknown) {
      this.placedKnown.set(slot);
      visitedThere = this.memo.withKnown(this.placedKnown.runKey());
      this.placedKnown.clear(slot);
    }
    const unknowns = this.placedUnknown.keyWith(unknown ? slot : -1);
    if (Memo.dominates(visitedThere, next.key, unknowns, this.reductions)) return 'skipped';
    if (this.memo.size >= this.statesMax) return 'full';
    this.memo.add(visitedThere, next.key, unknowns);
    this.bitsOf(index).set(slot);
    this.stack.push({
      call,
      states: this.current,
      visited: this.visitedHere,
      unknown,
      cursorKnown: this.cursorKnown,
      cursorUnknown: this.cursorUnknown,
    });
    this.current = next;
    this.visitedHere = visitedThere;
    this.list.lift(call);
    if (!unknown) this.knownRemaining -= 1;
    if (unknown) this.countPlaced(index, 1);
    this.cursorKnown = this.list.after(this.list.knownHead);
    this.cursorUnknown = this.list.after(this.list.unknownHead);
    return 'placed';
  }

  /** Nothing lets the operation returning at `returnNode` take effect in time: undoes the last
   *  placement and resumes the scan after it. False when there is none to undo. */
  private backtrack(returnNode: number): boolean {
    const blocked = this.list.operation[returnNode] ?? -1;
    if (this.best === null || this.stack.length > this.best.linearization.length) {
      this.best = { ...this.prefix(), unplaceable: blocked };
    }
    const top = this.stack.pop();
    if (top === undefined) return false;
    const undone = this.list.operation[top.call] ?? -1;
    this.current = top.states;
    this.visitedHere = top.visited;
    this.bitsOf(undone).clear(this.slot[undone] ?? -1);
    this.list.unlift(top.call);
    if (!top.unknown) this.knownRemaining += 1;
    if (top.unknown) this.countPlaced(undone, -1);
    // The lists are as they were when it was placed, so are the cursors; step past it.
    this.cursorKnown = top.unknown ? top.cursorKnown : this.list.after(top.call);
    this.cursorUnknown = top.unknown ? this.list.after(top.call) : top.cursorUnknown;
    return true;
  }

  private bitsOf(index: number): Bitset {
    return this.unknownAt[index] === 1 ? this.placedUnknown : this.placedKnown;
  }

  /** The placements so far, with the states after them. */
  private prefix(): { linearization: number[]; states: StateSet<State>; unplaceable: number } {
    return { linearization: this.stack.map((entry) => this.list.operation[entry.call] ?? -1), states: this.current, unplaceable: -1 };
  }

  private outcome(result: CheckVerdict, found: { linearization: number[]; states: StateSet<State>; unplaceable: number }): SearchOutcome<State> {
    return { result, statesExplored: this.memo.size, ...found };
  }
}

function checkPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  unordered: readonly Operation<Input, Output>[],
  index: number,
  statesMax: number,
  reductions: boolean,
): PartitionResult {
  // Numbered by invocation, as the search meets them (see Bitset.runKey and Search.classOf).
  const operations = [...unordered].sort(
    (a, b) => a.invokeTime - b.invokeTime || (a.invokeOrder ?? 0) - (b.invokeOrder ?? 0) || a.id - b.id,
  );
  // A 'time' pass within a share of the bound; if it cannot decide, a 'known-first' pass with
  // the rest (each pass is exact on its own: see ScanOrder).
  const timeBudget = Math.max(1, Math.floor(statesMax * TIME_ORDER_BUDGET_SHARE));
  const first = new Search(model, operations, timeBudget, reductions, 'time').run();
  let outcome = first;
  if (first.result === 'unknown-timeout' && statesMax > timeBudget) {
    const second = new Search(model, operations, statesMax - timeBudget, reductions, 'known-first').run();
    const best = second.linearization.length >= first.linearization.length ? second : first;
    outcome = { ...best, result: second.result, statesExplored: first.statesExplored + second.statesExplored };
  }
  const idOf = (position: number): number => {
    const operation = operations[position];
    assert(operation !== undefined, 'a search index names an operation');
    return operation.id;
  };
  return {
    index,
    result: outcome.result,
    operationCount: operations.length,
    statesExplored: outcome.statesExplored,
    linearization: outcome.linearization.map(idOf),
    unplaceable: outcome.unplaceable === -1 ? null : idOf(outcome.unplaceable),
    explanation: outcome.result === 'ok' ? '' : explain(model, operations, index, outcome),
  };
}

// ---------------------------------------------------------------------------------------------
// Reports.

function describeOperation<State, Input, Output>(model: Model<State, Input, Output>, operation: Operation<Input, Output>): string {
  if (model.describeOperation !== undefined) return model.describeOperation(operation.input, operation.output);
  const output = isUnknown(operation.output) ? 'unknown' : printable(operation.output);
  return `${printable(operation.input)} -> ${output}`;
}

function describeStates<State>(model: Model<State, unknown, unknown>, set: StateSet<State>): string {
  const describe = (state: State): string => (model.describeState === undefined ? printable(state) : model.describeState(state));
  return set.states.length === 1 ? describe(set.states[0] as State) : `one of {${set.states.map(describe).join(', ')}}`;
}

function printable(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function explain<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  partitionIndex: number,
  outcome: SearchOutcome<State>,
): string {
  const anyModel = model as Model<State, unknown, unknown>;
  const line = (operation: Operation<Input, Output>): string => formatOperation(operation, describeOperation(model, operation));
  const verdict = outcome.result === 'illegal' ? 'is NOT linearizable' : 'could not be decided (state bound reached)';
  const out: string[] = [
    `${model.name}: partition ${partitionIndex} ${verdict}: ${operations.length} operations, ${outcome.statesExplored} states explored.`,
    `Longest linearizable prefix found (${outcome.linearization.length} operations, in linearization order):`,
  ];
  const skipped = Math.max(0, outcome.linearization.length - REPORT_PREFIX_LINES_MAX);
  if (skipped > 0) out.push(`  … ${skipped} earlier`);
  for (const position of outcome.linearization.slice(skipped)) {
    const operation = operations[position];
    if (operation !== undefined) out.push(`  ${line(operation)}`);
  }
  out.push(`Model state after it: ${describeStates(anyModel, outcome.states)}`);

  const blocked = operations[outcome.unplaceable];
  if (blocked !== undefined) {
    out.push(`It returned at ${blocked.returnTime}, so it must take effect before anything later, yet cannot follow that prefix:`);
    out.push(`  ${line(blocked)}`);
  }
  out.push(...explainCandidates(model, operations, outcome));
  out.push(...excerpt(operations, outcome, line));
  return out.join('\n');
}

/** The operations that could come next after the prefix, and what the model says of each. */
function explainCandidates<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  outcome: SearchOutcome<State>,
): string[] {
  const placed = new Set(outcome.linearization);
  const unplaced = operations.filter((_, position) => !placed.has(position));
  const candidates = unplaced.filter((operation) => !unplaced.some((other) => happensBefore(other, operation)));
  candidates.sort((a, b) => a.invokeTime - b.invokeTime || a.id - b.id);
  const out = ['Operations that could come next, from that state:'];
  for (const operation of candidates.slice(0, REPORT_CANDIDATES_MAX)) {
    const next = stepSet(model, outcome.states, operation);
    const verdict = next === null
      ? 'impossible'
      : `possible -> ${describeStates(model as Model<State, unknown, unknown>, next)}, but no complete order follows`;
    out.push(`  #${operation.id} ${describeOperation(model, operation)}: ${verdict}`);
  }
  if (candidates.length > REPORT_CANDIDATES_MAX) out.push(`  … ${candidates.length - REPORT_CANDIDATES_MAX} more`);
  return out;
}

/** The operations around the failure, in invocation order. */
function excerpt<State, Input, Output>(
  operations: readonly Operation<Input, Output>[],
  outcome: SearchOutcome<State>,
  line: (operation: Operation<Input, Output>) => string,
): string[] {
  const blocked = operations[outcome.unplaceable];
  const recent = outcome.linearization.slice(-3).map((position) => operations[position]);
  const anchors = [...recent, blocked].filter((operation) => operation !== undefined);
  if (anchors.length === 0) return [];
  const from = Math.min(...anchors.map((operation) => operation.invokeTime));
  const to = blocked === undefined ? Infinity : blocked.returnTime;
  const window = operations
    .filter((operation) => operation.invokeTime <= to && operation.returnTime >= from)
    .sort((a, b) => a.invokeTime - b.invokeTime || a.id - b.id);
  const out = [`History excerpt (operations overlapping [${from}, ${to}], by invocation):`];
  for (const operation of window.slice(0, REPORT_EXCERPT_OPERATIONS_MAX)) {
    out.push(`  ${operation === blocked ? '>' : ' '} ${line(operation)}`);
  }
  if (window.length > REPORT_EXCERPT_OPERATIONS_MAX) out.push(`    … ${window.length - REPORT_EXCERPT_OPERATIONS_MAX} more`);
  return out;
}

/** Splits a history by a key of each input, parts in order of first appearance (for `partition`). */
export function partitionBy<Input, Output>(
  history: readonly Operation<Input, Output>[],
  keyOf: (input: Input) => string,
): Operation<Input, Output>[][] {
  const parts = new Map<string, Operation<Input, Output>[]>();
  for (const operation of history) {
    const key = keyOf(operation.input);
    const part = parts.get(key);
    if (part === undefined) parts.set(key, [operation]);
    else part.push(operation);
  }
  return [...parts.values()];
}
