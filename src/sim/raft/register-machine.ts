/**
 * The state machine the Raft simulator replicates: keyed string registers with write and
 * compare-and-set, plus the table of every command's result (ZooKeeper keeps the equivalent in its
 * sessions table). The result table is what makes "an acknowledged write is in the final state"
 * checkable after later writes overwrote its value, and what lets a restarted server answer for a
 * command it can no longer see in its log.
 *
 * The state hash is a sum of per-register and per-result hashes kept up to date on every apply
 * (ZooKeeper 3.6+'s digest idea), so comparing replicas at every applied index costs O(1); a
 * restore recomputes it from the restored state, which also checks the snapshot path.
 */

import { assert, unreachable } from '../../core/assert.js';
import type { Entry, Snapshot } from '../../core/consensus/index.js';
import type { StateMachine } from '../../peer/interfaces.js';
import { hashString, sumHash } from './hash.js';

/** A command's bytes: JSON of a few short strings, far below any limit. A larger one is a bug. */
export const REGISTER_COMMAND_BYTES_MAX = 1024;

export type RegisterCommand =
  | { readonly kind: 'write'; readonly id: string; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly id: string; readonly key: string; readonly expected: string | null; readonly value: string };

/** What applying a command did: a write always sets; a CAS sets only when it matched. */
export interface CommandResult {
  readonly id: string;
  readonly changed: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRegisterCommand(command: RegisterCommand): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(command));
  assert(bytes.length <= REGISTER_COMMAND_BYTES_MAX, `a register command within ${REGISTER_COMMAND_BYTES_MAX} bytes`);
  return bytes;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** The command in `bytes`, or null when they are not one (only the simulator's clients write
 *  entries, so null means corruption somewhere: the caller treats it as a bug). */
export function decodeRegisterCommand(bytes: Uint8Array): RegisterCommand | null {
  if (bytes.length > REGISTER_COMMAND_BYTES_MAX) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const c = parsed as Record<string, unknown>;
  if (!isString(c.id) || !isString(c.key) || !isString(c.value)) return null;
  if (c.kind === 'write') return { kind: 'write', id: c.id, key: c.key, value: c.value };
  if (c.kind === 'cas' && (c.expected === null || isString(c.expected))) {
    return { kind: 'cas', id: c.id, key: c.key, expected: c.expected, value: c.value };
  }
  return null;
}

interface SnapshotContents {
  readonly registers: [string, string][];
  readonly results: [string, boolean][];
}

const registerHash = (key: string, value: string): number => hashString(`r\u0000${key}\u0000${value}`);
const resultHash = (id: string, changed: boolean): number => hashString(`c\u0000${id}\u0000${changed ? 1 : 0}`);

export class RegisterMachine implements StateMachine {
  private registers = new Map<string, string>();
  private results = new Map<string, boolean>();
  private hash = 0;
  private last: CommandResult | null = null;

  apply(entry: Entry): void {
    assert(entry.kind === 'normal', 'only normal entries reach the state machine');
    const command = decodeRegisterCommand(entry.data);
    assert(command !== null, `entry ${entry.index} holds a register command`);
    let changed: boolean;
    switch (command.kind) {
      case 'write':
        changed = true;
        break;
      case 'cas':
        changed = (this.registers.get(command.key) ?? null) === command.expected;
        break;
      default:
        unreachable(command, 'register command kind');
    }
    if (changed) this.set(command.key, command.value);
    // A command applied twice would be a Raft bug: the state machine safety checker names it.
    const before = this.results.get(command.id);
    if (before !== undefined) this.hash = sumHash(this.hash, resultHash(command.id, before), -1);
    this.results.set(command.id, changed);
    this.hash = sumHash(this.hash, resultHash(command.id, changed), 1);
    this.last = { id: command.id, changed };
  }

  private set(key: string, value: string): void {
    const old = this.registers.get(key);
    if (old !== undefined) this.hash = sumHash(this.hash, registerHash(key, old), -1);
    this.registers.set(key, value);
    this.hash = sumHash(this.hash, registerHash(key, value), 1);
  }

  restore(snapshot: Snapshot): void {
    this.registers = new Map();
    this.results = new Map();
    this.hash = 0;
    this.last = null;
    if (snapshot.data.length === 0) return;
    const parsed = JSON.parse(decoder.decode(snapshot.data)) as SnapshotContents;
    assert(Array.isArray(parsed.registers) && Array.isArray(parsed.results), 'a register snapshot');
    for (const [key, value] of parsed.registers) this.set(key, value);
    for (const [id, changed] of parsed.results) {
      this.results.set(id, changed);
      this.hash = sumHash(this.hash, resultHash(id, changed), 1);
    }
  }

  snapshot(): Uint8Array {
    const contents: SnapshotContents = { registers: [...this.registers], results: [...this.results] };
    return encoder.encode(JSON.stringify(contents));
  }

  /** The register's value; null before any write. */
  read(key: string): string | null {
    return this.registers.get(key) ?? null;
  }

  /** Whether command `id` was applied, and what it did; undefined if it never was. */
  resultOf(id: string): boolean | undefined {
    return this.results.get(id);
  }

  /** The command the last `apply` applied (the replica's applied event reads it). */
  lastApplied(): CommandResult | null {
    return this.last;
  }

  stateHash(): number {
    return this.hash;
  }

  commandCount(): number {
    return this.results.size;
  }
}
