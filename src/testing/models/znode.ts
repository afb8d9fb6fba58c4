/**
 * The versioned znode model: ZooKeeper's create / getData / exists / setData / delete on single
 * znodes, with data versions, for checking ZooKeeper histories. Each path is an independent
 * object (checked alone, by P-compositionality).
 *
 * Semantics (ZooKeeper 3.9 programmer's guide; DataTree / PrepRequestProcessor):
 * - create: NODEEXISTS if the node exists, else it exists with version 0.
 * - getData / exists: NONODE if absent (exists() answers null; record that as NONODE), else the
 *   data and version.
 * - setData(version): NONODE if absent; BADVERSION unless version is -1 or the current one; else
 *   the data is replaced and the version goes up by one (the answer's Stat has the new version).
 * - delete(version): NONODE if absent; BADVERSION unless version is -1 or the current one.
 * - A deleted and re-created node starts again at version 0.
 *
 * Not modelled (out of scope for a per-path model): parents (create is assumed to have its parent;
 * NONODE for a missing parent is rejected), children (NOTEMPTY), ephemerals and sequential names.
 * Data is a string: record bytes as hex or UTF-8. Optional output fields are checked when present.
 */

import { ILLEGAL, type Model, type StepResult, legal, partitionBy } from '../linearizability.js';
import { type Unknown, isUnknown } from '../history.js';
import { unreachable } from '../../core/assert.js';

/** A znode's observable state: absent, or present with data and data version. */
export type ZnodeState =
  | { readonly exists: false }
  | { readonly exists: true; readonly data: string; readonly version: number };

export type ZnodeInput =
  | { readonly kind: 'create'; readonly path: string; readonly data: string }
  | { readonly kind: 'getData'; readonly path: string }
  | { readonly kind: 'exists'; readonly path: string }
  /** version -1 matches any. */
  | { readonly kind: 'setData'; readonly path: string; readonly data: string; readonly version: number }
  /** version -1 matches any. */
  | { readonly kind: 'delete'; readonly path: string; readonly version: number };

export type ZnodeErrorCode = 'NONODE' | 'NODEEXISTS' | 'BADVERSION';

/** What the client saw. `data` and `version` (from the Stat) are compared when present. */
export type ZnodeOutput =
  | { readonly code: 'OK'; readonly data?: string; readonly version?: number }
  | { readonly code: ZnodeErrorCode };

const ABSENT: ZnodeState = Object.freeze({ exists: false });

function present(data: string, version: number): ZnodeState {
  return { exists: true, data, version };
}

function versionMatches(expected: number, actual: number): boolean {
  return expected === -1 || expected === actual;
}

/** The one outcome ZooKeeper gives for `input` in `state`: the code, what a reader sees, and the
 *  state after. Every step below compares against it, so the semantics live in one place. */
export function znodeApply(state: ZnodeState, input: ZnodeInput): { output: ZnodeOutput; next: ZnodeState } {
  switch (input.kind) {
    case 'create':
      if (state.exists) return { output: { code: 'NODEEXISTS' }, next: state };
      return { output: { code: 'OK', version: 0 }, next: present(input.data, 0) };
    case 'getData':
      if (!state.exists) return { output: { code: 'NONODE' }, next: state };
      return { output: { code: 'OK', data: state.data, version: state.version }, next: state };
    case 'exists':
      if (!state.exists) return { output: { code: 'NONODE' }, next: state };
      return { output: { code: 'OK', version: state.version }, next: state };
    case 'setData': {
      if (!state.exists) return { output: { code: 'NONODE' }, next: state };
      if (!versionMatches(input.version, state.version)) return { output: { code: 'BADVERSION' }, next: state };
      const version = state.version + 1;
      return { output: { code: 'OK', version }, next: present(input.data, version) };
    }
    case 'delete':
      if (!state.exists) return { output: { code: 'NONODE' }, next: state };
      if (!versionMatches(input.version, state.version)) return { output: { code: 'BADVERSION' }, next: state };
      return { output: { code: 'OK' }, next: ABSENT };
    default:
      return unreachable(input, 'znode input kind');
  }
}

/** True when the observed output agrees with the expected one (optional fields when present). */
function agrees(observed: ZnodeOutput, expected: ZnodeOutput): boolean {
  if (observed.code !== expected.code) return false;
  if (observed.code !== 'OK' || expected.code !== 'OK') return true;
  if (observed.data !== undefined && observed.data !== expected.data) return false;
  if (observed.version !== undefined && observed.version !== expected.version) return false;
  return true;
}

function stepZnode(state: ZnodeState, input: ZnodeInput, output: ZnodeOutput | Unknown): StepResult<ZnodeState> {
  const expected = znodeApply(state, input);
  if (isUnknown(output)) return legal(expected.next);
  return agrees(output, expected.output) ? legal(expected.next) : ILLEGAL;
}

function describeOutput(output: ZnodeOutput | Unknown): string {
  if (isUnknown(output)) return 'unknown';
  if (output.code !== 'OK') return output.code;
  const parts: string[] = [];
  if (output.data !== undefined) parts.push(`data=${JSON.stringify(output.data)}`);
  if (output.version !== undefined) parts.push(`version=${output.version}`);
  return parts.length === 0 ? 'OK' : `OK ${parts.join(' ')}`;
}

export function describeZnodeOperation(input: ZnodeInput, output: ZnodeOutput | Unknown): string {
  const result = describeOutput(output);
  switch (input.kind) {
    case 'create':
      return `create(${input.path}, ${JSON.stringify(input.data)}) -> ${result}`;
    case 'getData':
      return `getData(${input.path}) -> ${result}`;
    case 'exists':
      return `exists(${input.path}) -> ${result}`;
    case 'setData':
      return `setData(${input.path}, ${JSON.stringify(input.data)}, version=${input.version}) -> ${result}`;
    case 'delete':
      return `delete(${input.path}, version=${input.version}) -> ${result}`;
    default:
      return unreachable(input, 'znode input kind');
  }
}

export function describeZnodeState(state: ZnodeState): string {
  return state.exists ? `{data=${JSON.stringify(state.data)} version=${state.version}}` : 'absent';
}

/** Versioned znodes, partitioned per path; every path starts absent. */
export function znodeModel(): Model<ZnodeState, ZnodeInput, ZnodeOutput> {
  return {
    name: 'znode',
    init: () => ABSENT,
    step: stepZnode,
    hash: (state) => (state.exists ? `${state.version}:${state.data}` : '-'),
    partition: (history) => partitionBy(history, (input) => input.path),
    describeOperation: describeZnodeOperation,
    describeState: describeZnodeState,
    inputKey: (input) => JSON.stringify(input),
  };
}
