/**
 * A register workload on znodes, run by clients in tabs (through `window.keeper`) or in Node (a
 * `Keeper`), recorded as a history and checked with the linearizability checker (znodeModel:
 * getData with data and version, setData with a version as compare-and-set, create).
 *
 * Soundness of the recording: each operation's interval is taken in this (the test's) process
 * around the call — for a tab, around `page.evaluate`, which strictly contains the real call in the
 * page — so the intervals are wider than the truth and can only make the checker accept more,
 * never raise a false alarm. One process, one monotonic clock (performance.now), no clock skew
 * between tabs.
 *
 * Outcomes: success and the definite errors NONODE / NODEEXISTS / BADVERSION are known outputs;
 * CONNECTIONLOSS and OPERATIONTIMEOUT, a sync that failed before its read, and a tab that crashed
 * or closed under the call are unknown (returnTime Infinity: it may or may not have taken effect);
 * SESSIONEXPIRED means "no effect" (API.md), so the operation is left out of the history — if it
 * did take effect after all, its value shows up unexplained and the check fails, which is the
 * point. Any other error is counted as unexpected (the spec decides; the operation is treated as
 * unknown). Written values are unique, so a CAS (setData with the version a read returned) is a
 * compare-and-set on the value too, and the checker's search stays small.
 *
 * Events are logged as they happen and replayed into a HistoryRecorder at the end (so that
 * operations with no effect can be left out), in the order they happened.
 */
import type { Page } from '@playwright/test';
import type { Keeper } from '../client/index.js';
import { Prng } from '../core/prng.js';
import { HistoryRecorder, checkLinearizability, isUnknown, type LinearizabilityResult, type Operation } from './linearizability.js';
import { znodeModel, type ZnodeInput, type ZnodeOutput } from './models/znode.js';

/** Caps one workload's operations (a test that needs more should shard its keys). */
export const WORKLOAD_OPERATIONS_MAX = 20_000;
/** After the deadline, clients' last calls are awaited this long; still pending then: unknown. */
export const WORKLOAD_DRAIN_MS = 15_000;
/** Error codes whose outcome is unknown (API.md). */
export const UNKNOWN_OUTCOME_CODES: readonly string[] = ['CONNECTIONLOSS', 'OPERATIONTIMEOUT'];

/** The result of one call as a client saw it. */
export type ClientOutcome =
  | { readonly kind: 'ok'; readonly output: ZnodeOutput }
  /** The call may or may not have taken effect. `fatal`: the client is gone (stop using it). */
  | { readonly kind: 'unknown'; readonly reason: string; readonly fatal: boolean }
  /** Definitely no effect (SESSIONEXPIRED): left out of the history; the client is done. */
  | { readonly kind: 'no-effect'; readonly reason: string };

/** One operation as a client runs it: a znode call, `sync` first for a linearizable read. */
export type WorkloadCall = ZnodeInput & { readonly sync?: boolean };

export interface WorkloadClient {
  readonly name: string;
  run(call: WorkloadCall): Promise<ClientOutcome>;
}

type RawResult = { code: 'OK'; data?: string; version: number } | { error: string; message: string; beforeEffect: boolean };

function classify(raw: RawResult): ClientOutcome {
  if (!('error' in raw)) return { kind: 'ok', output: raw.data === undefined ? { code: 'OK', version: raw.version } : { code: 'OK', data: raw.data, version: raw.version } };
  if (raw.error === 'NONODE' || raw.error === 'NODEEXISTS' || raw.error === 'BADVERSION') return { kind: 'ok', output: { code: raw.error } };
  if (raw.error === 'SESSIONEXPIRED') return { kind: 'no-effect', reason: `${raw.error}: ${raw.message}` };
  if (UNKNOWN_OUTCOME_CODES.includes(raw.error)) return { kind: 'unknown', reason: `${raw.error}${raw.beforeEffect ? ' (in sync, before the read)' : ''}: ${raw.message}`, fatal: false };
  return { kind: 'unknown', reason: `unexpected ${raw.error}: ${raw.message}`, fatal: false };
}

/** Runs calls in a tab through `window.keeper`. A page that crashes or closes under a call makes
 *  it unknown, and the client is gone. */
export function tabClient(tab: { readonly name: string; readonly page: Page }): WorkloadClient {
  return {
    name: tab.name,
    run: async (call) => {
      try {
        const raw = await tab.page.evaluate(async (call): Promise<RawResult> => {
          const keeper = window.keeper;
          if (keeper === undefined) return { error: 'NOKEEPER', message: 'no window.keeper', beforeEffect: true };
          const failed = (error: unknown, beforeEffect: boolean): RawResult => {
            const code = (error as { code?: unknown }).code;
            return { error: typeof code === 'string' ? code : 'THROWN', message: error instanceof Error ? error.message : String(error), beforeEffect };
          };
          if (call.kind === 'getData' && call.sync === true) {
            try {
              await keeper.sync(call.path);
            } catch (error) {
              return failed(error, true);
            }
          }
          try {
            switch (call.kind) {
              case 'getData': {
                const { data, stat } = await keeper.getData(call.path);
                return { code: 'OK', data: new TextDecoder().decode(data), version: stat.version };
              }
              case 'setData':
                return { code: 'OK', version: (await keeper.setData(call.path, call.data, call.version)).version };
              case 'create':
                await keeper.create(call.path, call.data);
                return { code: 'OK', version: 0 };
              default:
                return { error: 'BADARGUMENTS', message: `workload call ${call.kind} not supported in tabs`, beforeEffect: true };
            }
          } catch (error) {
            return failed(error, false);
          }
        }, call);
        return classify(raw);
      } catch (error) {
        return { kind: 'unknown', reason: `page gone: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, fatal: true };
      }
    },
  };
}

/** Runs calls on a Keeper in this process (a Node client). */
export function keeperClient(name: string, keeper: Keeper): WorkloadClient {
  const failed = (error: unknown, beforeEffect: boolean): RawResult => {
    const code = (error as { code?: unknown }).code;
    return { error: typeof code === 'string' ? code : 'THROWN', message: error instanceof Error ? error.message : String(error), beforeEffect };
  };
  return {
    name,
    run: async (call) => {
      if (call.kind === 'getData' && call.sync === true) {
        try {
          await keeper.sync(call.path);
        } catch (error) {
          return classify(failed(error, true));
        }
      }
      try {
        switch (call.kind) {
          case 'getData': {
            const { data, stat } = await keeper.getData(call.path);
            return classify({ code: 'OK', data: new TextDecoder().decode(data), version: stat.version });
          }
          case 'setData':
            return classify({ code: 'OK', version: (await keeper.setData(call.path, call.data, call.version)).version });
          case 'create':
            await keeper.create(call.path, call.data);
            return classify({ code: 'OK', version: 0 });
          default:
            return classify({ error: 'BADARGUMENTS', message: `workload call ${call.kind} not supported`, beforeEffect: true });
        }
      } catch (error) {
        return classify(failed(error, false));
      }
    },
  };
}

export interface RegisterWorkloadOptions {
  /** The znodes used as registers (created by `setup`); their parent must exist. */
  paths: readonly string[];
  /** Seeds every client's choices (client k uses seed + k). */
  seed: number;
  /** Per client. */
  operationsPerClientMax: number;
  /** Clients start no operation after this many ms from `start`. */
  durationMs: number;
  /** A pause of up to this many ms between a client's operations (default 20). */
  thinkMsMax?: number;
  /** Chances of read / blind write / CAS (read then setData with its version); default 0.4/0.2/0.4. */
  mix?: { read: number; write: number; cas: number };
}

interface LoggedEvent {
  readonly time: number;
  readonly kind: 'invoke' | 'ok' | 'unknown';
  readonly op: number;
  readonly client?: string;
  readonly input?: ZnodeInput;
  readonly output?: ZnodeOutput;
}

export interface WorkloadResult {
  readonly seed: number;
  readonly history: Operation<ZnodeInput, ZnodeOutput>[];
  readonly operations: number;
  /** Operations whose outcome is unknown (in the history with returnTime Infinity). */
  readonly unknown: number;
  /** SESSIONEXPIRED answers, left out of the history. */
  readonly noEffect: number;
  /** Errors that are neither known outputs nor documented unknowns (should be empty). */
  readonly unexpected: readonly string[];
  /** Known outcomes by code, and unknown ones by reason's code. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly perClient: Readonly<Record<string, number>>;
}

/** A register workload: `setup` creates the registers, `addClient` starts a client's loop (any
 *  time, e.g. a replacement tab), `finish` waits for the loops and returns the history. */
export class RegisterWorkload {
  private readonly options: RegisterWorkloadOptions;
  private readonly events: LoggedEvent[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly clients: string[] = [];
  private readonly noEffectOps = new Set<number>();
  private readonly unexpected: string[] = [];
  private readonly outcomes: Record<string, number> = {};
  private readonly perClient: Record<string, number> = {};
  private opNext = 0;
  private deadline = Infinity;
  private recording = true;

  constructor(options: RegisterWorkloadOptions) {
    if (options.paths.length === 0) throw new Error('workload: at least one path');
    if (options.operationsPerClientMax < 1) throw new Error('workload: operationsPerClientMax >= 1');
    this.options = options;
  }

  /** Creates every register with an initial value (recorded), retrying unknown outcomes with a
   *  fresh create (NODEEXISTS then tells it happened). */
  async setup(client: WorkloadClient, attemptsMax = 10): Promise<void> {
    for (const path of this.options.paths) {
      let done = false;
      for (let attempt = 0; attempt < attemptsMax && !done; attempt++) {
        const outcome = await this.call(client, { kind: 'create', path, data: `${path}@init` });
        done = outcome.kind === 'ok';
      }
      if (!done) throw new Error(`workload: could not create ${path} in ${attemptsMax} attempts`);
    }
  }

  /** Starts the clock for `durationMs`. */
  start(): void {
    this.deadline = performance.now() + this.options.durationMs;
  }

  addClient(client: WorkloadClient): void {
    if (this.deadline === Infinity) throw new Error('workload: start() before addClient()');
    const index = this.clients.length;
    this.clients.push(client.name);
    this.loops.push(this.loop(client, new Prng((this.options.seed + index) | 0)));
  }

  /** Waits for every loop (at most WORKLOAD_DRAIN_MS after the deadline), then the history. */
  async finish(): Promise<WorkloadResult> {
    const remaining = Math.max(0, this.deadline - performance.now()) + WORKLOAD_DRAIN_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(this.loops), new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining)))]);
    clearTimeout(timer);
    this.recording = false;
    return this.result();
  }

  private async loop(client: WorkloadClient, prng: Prng): Promise<void> {
    const mix = this.options.mix ?? { read: 0.4, write: 0.2, cas: 0.4 };
    const total = mix.read + mix.write + mix.cas;
    const thinkMsMax = this.options.thinkMsMax ?? 20;
    let writes = 0;
    for (let ops = 0; ops < this.options.operationsPerClientMax && performance.now() < this.deadline; ) {
      const path = this.options.paths[prng.int(0, this.options.paths.length - 1)]!;
      const pick = prng.float() * total;
      let outcome: ClientOutcome;
      if (pick < mix.read) {
        outcome = await this.call(client, { kind: 'getData', path, sync: true });
        ops += 1;
      } else if (pick < mix.read + mix.write) {
        writes += 1;
        outcome = await this.call(client, { kind: 'setData', path, data: `${client.name}#${writes}`, version: -1 });
        ops += 1;
      } else {
        outcome = await this.call(client, { kind: 'getData', path, sync: true });
        ops += 1;
        if (outcome.kind === 'ok' && outcome.output.code === 'OK' && outcome.output.version !== undefined && ops < this.options.operationsPerClientMax) {
          writes += 1;
          outcome = await this.call(client, { kind: 'setData', path, data: `${client.name}#${writes}`, version: outcome.output.version });
          ops += 1;
        }
      }
      if (outcome.kind === 'no-effect' || (outcome.kind === 'unknown' && outcome.fatal)) return;
      if (thinkMsMax > 0) await new Promise((resolve) => setTimeout(resolve, prng.int(0, thinkMsMax)));
    }
  }

  private async call(client: WorkloadClient, call: WorkloadCall): Promise<ClientOutcome> {
    if (this.opNext >= WORKLOAD_OPERATIONS_MAX) throw new Error(`workload: more than ${WORKLOAD_OPERATIONS_MAX} operations`);
    const op = this.opNext++;
    const input = toInput(call);
    this.log({ time: performance.now(), kind: 'invoke', op, client: client.name, input });
    this.perClient[client.name] = (this.perClient[client.name] ?? 0) + 1;
    const outcome = await client.run(call);
    if (outcome.kind === 'ok') {
      this.log({ time: performance.now(), kind: 'ok', op, output: outcome.output });
      this.count(outcome.output.code);
    } else if (outcome.kind === 'unknown') {
      this.log({ time: performance.now(), kind: 'unknown', op });
      this.count(`unknown ${outcome.reason.split(':')[0]}`);
      if (outcome.reason.startsWith('unexpected')) this.unexpected.push(`${client.name} ${input.kind} ${input.path}: ${outcome.reason}`);
    } else {
      this.noEffectOps.add(op);
      this.count('SESSIONEXPIRED (no effect)');
    }
    return outcome;
  }

  private log(event: LoggedEvent): void {
    if (this.recording) this.events.push(event);
  }

  private count(key: string): void {
    this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
  }

  private result(): WorkloadResult {
    let now = 0;
    const recorder = new HistoryRecorder<ZnodeInput, ZnodeOutput>({ clock: () => now, operationsMax: WORKLOAD_OPERATIONS_MAX });
    const ids = new Map<number, number>();
    for (const event of this.events) {
      if (this.noEffectOps.has(event.op)) continue;
      now = event.time;
      if (event.kind === 'invoke') ids.set(event.op, recorder.invoke(event.client!, event.input!));
      else if (event.kind === 'ok') recorder.ok(ids.get(event.op)!, event.output!);
      else recorder.unknown(ids.get(event.op)!);
    }
    const history = recorder.history();
    return {
      seed: this.options.seed,
      history,
      operations: history.length,
      unknown: history.filter((operation) => isUnknown(operation.output)).length,
      noEffect: this.noEffectOps.size,
      unexpected: [...this.unexpected],
      outcomes: { ...this.outcomes },
      perClient: { ...this.perClient },
    };
  }
}

function toInput(call: WorkloadCall): ZnodeInput {
  switch (call.kind) {
    case 'getData':
      return { kind: 'getData', path: call.path };
    default: {
      const { sync: _sync, ...input } = call as WorkloadCall & { sync?: boolean };
      return input as ZnodeInput;
    }
  }
}

/** Checks a recorded znode history (per path) for linearizability. */
export function checkZnodeHistory(history: readonly Operation<ZnodeInput, ZnodeOutput>[]): LinearizabilityResult {
  return checkLinearizability(znodeModel(), history);
}

/** One line for reports: size, unknowns, seed, outcomes. */
export function describeWorkload(result: WorkloadResult): string {
  const outcomes = Object.entries(result.outcomes).sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${key} ${count}`).join(', ');
  return `history ${result.operations} operations (${result.unknown} unknown outcomes, ${result.noEffect} SESSIONEXPIRED left out), seed ${result.seed}; outcomes: ${outcomes}; per client: ${JSON.stringify(result.perClient)}`;
}
