/**
 * The simulated clients of the Raft simulator (Jepsen's clients): each runs one operation at a
 * time against the keyed registers — reads through ReadIndex, writes and compare-and-sets proposed
 * on the replica it believes leads — and records it with HistoryRecorder on virtual time.
 *
 * Rules that keep the history honest:
 * - A write is retried only after an answer that it had no effect: the replica refused the
 *   proposal, or applied another entry at the index the proposal got (that entry is gone for good).
 *   After an attempt with no answer (the replica crashed, the request or reply was lost in a
 *   paused tab) nothing is retried: the operation ends UNKNOWN at its deadline. Nothing is guessed.
 * - A read may be retried freely (it changes nothing); the first answer counts, whichever attempt
 *   it came from, because every attempt lies inside the operation's interval.
 * - Values are unique (client name and a counter): the checker decides fastest that way.
 */

import { assert } from '../../core/assert.js';
import type { Prng } from '../../core/prng.js';
import type { HistoryRecorder } from '../../testing/history.js';
import type { KeyedRegisterInput, RegisterOutput } from '../../testing/models/register.js';
import type { RangeMs } from '../faults.js';
import type { RegisterCommand } from './register-machine.js';

export type WriteReply =
  /** The replica refused the proposal (not leader, transfer, limits): nothing was appended. */
  | { readonly kind: 'refused'; readonly leaderHint: string | null }
  /** The proposal's index holds another entry now: it will never apply. */
  | { readonly kind: 'lost'; readonly leaderHint: string | null }
  | { readonly kind: 'applied'; readonly changed: boolean };

export type ReadReply = { readonly kind: 'refused'; readonly leaderHint: string | null } | { readonly kind: 'value'; readonly value: string | null };

/** What a client needs of the simulated cluster. Replies arrive at most once per request. */
export interface ClientGateway {
  now(): number;
  /** Nodes a client may address (started and not retired). */
  addressableNodes(): readonly string[];
  submitWrite(client: string, node: string, command: RegisterCommand, reply: (answer: WriteReply) => void): void;
  submitRead(client: string, node: string, requestId: string, key: string, reply: (answer: ReadReply) => void): void;
  /** A client-side timer (clients never crash or pause). */
  timer(delayMs: number, label: string, action: () => void): void;
}

export interface ClientSettings {
  readonly keys: readonly string[];
  /** Between one operation's end and the next one's start. */
  readonly thinkMs: RangeMs;
  /** An operation without an answer by then ends UNKNOWN (reads: with no value). */
  readonly operationTimeoutMs: number;
  /** A read attempt without an answer by then is retried elsewhere. */
  readonly readAttemptMs: number;
  /** Between an answer that says "retry" and the retry. */
  readonly retryBackoffMs: RangeMs;
  /** Chances of each kind of operation; reads get the rest. */
  readonly writeProbability: number;
  readonly casProbability: number;
}

export interface ClientCounters {
  invoked: number;
  ok: number;
  unknown: number;
  attempts: number;
}

type History = HistoryRecorder<KeyedRegisterInput, RegisterOutput>;

/** Attempts of one operation: a bound on retries however the cluster answers. */
const ATTEMPTS_PER_OPERATION_MAX = 200;

interface Running {
  readonly historyId: number;
  readonly deadline: number;
  attempts: number;
  done: boolean;
}

export class SimClient {
  readonly name: string;
  private readonly prng: Prng;
  private readonly gateway: ClientGateway;
  private readonly history: History;
  private readonly settings: ClientSettings;
  private leaderGuess: string | null = null;
  private readonly lastSeen = new Map<string, string | null>();
  private sequence = 0;
  private stopAt = Infinity;
  private busy = false;
  /** Called once when the current operation ends, with whether its outcome is known. */
  private onFinished: ((known: boolean) => void) | null = null;
  /** Commands acknowledged to this client (their effect must be durable): id -> changed. */
  readonly acknowledged = new Map<string, boolean>();
  readonly counters: ClientCounters = { invoked: 0, ok: 0, unknown: 0, attempts: 0 };

  constructor(options: { name: string; prng: Prng; gateway: ClientGateway; history: History; settings: ClientSettings }) {
    this.name = options.name;
    this.prng = options.prng;
    this.gateway = options.gateway;
    this.history = options.history;
    this.settings = options.settings;
    assert(options.settings.keys.length > 0, 'clients use at least one key');
  }

  /** Starts the loop of operations after `delayMs`, until `stop`. */
  start(delayMs: number): void {
    this.gateway.timer(delayMs, `client ${this.name} start`, () => this.next());
  }

  /** No new operation after this time (the one running finishes). */
  stop(atMs: number): void {
    this.stopAt = atMs;
  }

  isBusy(): boolean {
    return this.busy;
  }

  private next(): void {
    if (this.gateway.now() >= this.stopAt) return;
    const roll = this.prng.float();
    const key = this.prng.pick(this.settings.keys);
    if (roll < this.settings.writeProbability) this.write(key, null);
    else if (roll < this.settings.writeProbability + this.settings.casProbability) this.write(key, { expected: this.lastSeen.get(key) ?? null });
    else this.read(key);
  }

  /** Runs one write now, outside the loop, and stops the loop (the liveness probe). `onDone`
   *  says whether its outcome is known (false: it timed out). */
  probeWrite(key: string, onDone: (known: boolean) => void): void {
    assert(!this.busy, 'one operation at a time per client');
    this.stopAt = this.gateway.now();
    this.onFinished = onDone;
    this.write(key, null);
  }

  private begin(input: KeyedRegisterInput): Running {
    assert(!this.busy, 'one operation at a time per client');
    this.busy = true;
    this.counters.invoked += 1;
    const historyId = this.history.invoke(this.name, input);
    return { historyId, deadline: this.gateway.now() + this.settings.operationTimeoutMs, attempts: 0, done: false };
  }

  private finish(running: Running, output: RegisterOutput | null): void {
    if (running.done) return;
    running.done = true;
    this.busy = false;
    if (output === null) {
      this.history.unknown(running.historyId);
      this.counters.unknown += 1;
    } else {
      this.history.ok(running.historyId, output);
      this.counters.ok += 1;
    }
    const onFinished = this.onFinished;
    this.onFinished = null;
    onFinished?.(output !== null);
    this.gateway.timer(this.prng.int(this.settings.thinkMs.min, this.settings.thinkMs.max), `client ${this.name} think`, () => this.next());
  }

  private target(preferLeader: boolean): string | null {
    const nodes = this.gateway.addressableNodes();
    if (nodes.length === 0) return null;
    if (preferLeader && this.leaderGuess !== null && nodes.includes(this.leaderGuess)) return this.leaderGuess;
    return this.prng.pick(nodes);
  }

  private backoff(running: Running, retry: () => void): void {
    const delay = this.prng.int(this.settings.retryBackoffMs.min, this.settings.retryBackoffMs.max);
    if (this.gateway.now() + delay >= running.deadline || running.attempts >= ATTEMPTS_PER_OPERATION_MAX) return; // the deadline ends it
    this.gateway.timer(delay, `client ${this.name} retry`, () => {
      if (!running.done) retry();
    });
  }

  /** A write, or a CAS when `cas` is given. */
  private write(key: string, cas: { readonly expected: string | null } | null): void {
    const value = `${this.name}:${this.sequence++}`;
    const input: KeyedRegisterInput = cas !== null ? { kind: 'cas', key, expected: cas.expected, value } : { kind: 'write', key, value };
    const running = this.begin(input);
    this.gateway.timer(this.settings.operationTimeoutMs, `client ${this.name} timeout`, () => this.finish(running, null));
    const attempt = (): void => {
      const node = this.target(true);
      if (node === null) return this.backoff(running, attempt);
      running.attempts += 1;
      this.counters.attempts += 1;
      const id = `${this.name}.${running.historyId}.${running.attempts}`;
      const command: RegisterCommand = cas !== null ? { kind: 'cas', id, key, expected: cas.expected, value } : { kind: 'write', id, key, value };
      this.gateway.submitWrite(this.name, node, command, (answer) => {
        if (running.done) return;
        if (answer.kind === 'applied') {
          this.acknowledged.set(id, answer.changed);
          this.leaderGuess = node;
          if (answer.changed) this.lastSeen.set(key, value);
          return this.finish(running, cas !== null ? { kind: 'cas', ok: answer.changed } : { kind: 'write' });
        }
        this.leaderGuess = answer.leaderHint;
        this.backoff(running, attempt);
      });
    };
    attempt();
  }

  private read(key: string): void {
    const running = this.begin({ kind: 'read', key });
    this.gateway.timer(this.settings.operationTimeoutMs, `client ${this.name} timeout`, () => this.finish(running, null));
    const attempt = (): void => {
      const node = this.target(this.prng.chance(0.5));
      if (node === null) return this.backoff(running, attempt);
      running.attempts += 1;
      this.counters.attempts += 1;
      const requestId = `${this.name}.${running.historyId}.${running.attempts}`;
      const tries = running.attempts;
      this.gateway.submitRead(this.name, node, requestId, key, (answer) => {
        if (running.done) return;
        if (answer.kind === 'value') {
          this.lastSeen.set(key, answer.value);
          return this.finish(running, { kind: 'read', value: answer.value });
        }
        this.leaderGuess = answer.leaderHint;
        if (running.attempts === tries) this.backoff(running, attempt);
      });
      this.gateway.timer(this.settings.readAttemptMs, `client ${this.name} read-attempt`, () => {
        if (!running.done && running.attempts === tries && running.attempts < ATTEMPTS_PER_OPERATION_MAX) attempt();
      });
    };
    attempt();
  }
}
