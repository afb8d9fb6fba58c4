/**
 * keeper.locks: the Web Locks API (https://w3c.github.io/web-locks/, `navigator.locks`), but
 * ensemble-wide — across tabs, browsers, devices and Node peers — on the read-write lock recipe.
 *
 *   await keeper.locks.request('printer', async (lock) => { … });           // exclusive
 *   await keeper.locks.request('catalog', { mode: 'shared' }, async (lock) => { … });
 *   const { held, pending } = await keeper.locks.query();
 *
 * A web app switches from navigator.locks by changing that one identifier. What carries over from
 * the spec: the two modes, `ifAvailable` (the callback gets null when the lock is not grantable at
 * once), `steal` (breaks the current holders: their request promises reject with an AbortError;
 * their callbacks are not stopped), `signal` (aborting a waiting request rejects it with the
 * signal's reason and removes it from the queue; after the grant the signal is ignored), the lock
 * held while the callback's promise is pending, the request's promise settling with the callback's
 * outcome after the lock is released, the option errors (TypeError for wrong types,
 * NotSupportedError for a name starting with '-', steal with ifAvailable, steal with mode shared,
 * signal with steal or ifAvailable), and query()'s `{ held, pending }` of `{ name, mode, clientId }`.
 * Beyond the spec: the granted lock carries a fencing `token` (see lock.ts), and a holder whose
 * session ends loses the lock (its request rejects with SESSIONEXPIRED).
 *
 * Layout (reserved): `/meshkeeper/locks/<encoded name>` per name (containers: swept when empty),
 * holding one ephemeral-sequential node per request — `_c_<id>-write-<seq>` (exclusive),
 * `_c_<id>-read-<seq>` (shared), `_c_<id>-steal-<seq>` (exclusive with steal). A name is encoded
 * as `n-` + its UTF-16 code units, [A-Za-z0-9_.~-] kept, others as %XX / %uXXXX: lossless for any
 * string (lone surrogates included) and a valid znode name ('' and '..' too). `clientId` is the
 * holder's session id (its node's ephemeralOwner; this keeper's is `keeper.sessionId`).
 *
 * Grants are fenced (internal/participant.ts): a request that finds itself grantable confirms with
 * multi([check(dir version), setData(node, 'held')]), so every granted request is marked (query()
 * reads held/pending from the marks, exactly), and a steal works as follows: its node sorts before
 * every non-steal node (the spec puts a stealing request at the front of the queue); it bumps the
 * directory's version (grants decided on an older listing fail their check and look again, now
 * behind it), then deletes the earlier steal nodes and every marked node (their holders' watches
 * fire: their requests reject with AbortError), and then holds. Pending requests keep their place.
 */

import type { RecipeKeeper } from './keeper-like.js';
import { KeeperError } from '../index.js';
import { LOCK_NAME_UNITS_MAX, NODE_RECREATE_RETRIES_MAX } from './constants.js';
import { abortError, abortReason } from './errors.js';
import { Bound, runBounded } from './internal/bound.js';
import { exclusiveDecide, HELD_MARK, NodeVanished, Participant, READ_KIND, sharedDecide, type Decide, type LostReason } from './internal/participant.js';
import { bySequence, childrenOrNone, deleteQuietly, joinPath, retrying, sequentialChildren, text, type SequentialNode } from './internal/znodes.js';
import { WRITE_KIND } from './read-write-lock.js';
import { hasCode } from './errors.js';

/** Where keeper.locks keeps its locks (reserved for it). */
export const LOCKS_BASE_PATH = '/meshkeeper/locks';

export type LockMode = 'exclusive' | 'shared';

export interface LockOptions {
  mode?: LockMode;
  ifAvailable?: boolean;
  steal?: boolean;
  signal?: AbortSignal;
}

/** The lock a granted callback receives (the spec's Lock, plus the fencing token). */
export interface KeeperLock {
  readonly name: string;
  readonly mode: LockMode;
  /** The fencing token: the request node's czxid (see lock.ts). */
  readonly token: number;
}

export type LockGrantedCallback<T> = (lock: KeeperLock | null) => T | PromiseLike<T>;

export interface LockInfo {
  name: string;
  mode: LockMode;
  /** The holder's (or waiter's) session id. */
  clientId: string;
}

export interface LockManagerSnapshot {
  held: LockInfo[];
  pending: LockInfo[];
}

/** navigator.locks' LockManager, ensemble-wide. */
export interface LockManager {
  request<T>(name: string, callback: LockGrantedCallback<T>): Promise<Awaited<T>>;
  request<T>(name: string, options: LockOptions, callback: LockGrantedCallback<T>): Promise<Awaited<T>>;
  query(): Promise<LockManagerSnapshot>;
}

export function createLockManager(keeper: RecipeKeeper): LockManager {
  return new KeeperLockManager(keeper);
}

const STEAL_KIND = 'steal';
const KINDS = [READ_KIND, WRITE_KIND, STEAL_KIND] as const;

/** Steal nodes first (in sequence order), then everyone else in sequence order. */
function stealFirst(a: SequentialNode, b: SequentialNode): number {
  const rank = (node: SequentialNode): number => (node.kind === STEAL_KIND ? 0 : 1);
  return rank(a) - rank(b) || bySequence(a, b);
}

const decideByKind: Decide = (nodes, ours) => (ours.kind === READ_KIND ? sharedDecide(nodes, ours) : exclusiveDecide(nodes, ours));

interface Request<T> {
  name: string;
  mode: LockMode;
  ifAvailable: boolean;
  steal: boolean;
  signal: AbortSignal | undefined;
  callback: LockGrantedCallback<T>;
}

interface Granted {
  participant: Participant;
  token: number;
  lost: Promise<LostReason>;
}

class KeeperLockManager implements LockManager {
  readonly #keeper: RecipeKeeper;

  constructor(keeper: RecipeKeeper) {
    this.#keeper = keeper;
  }

  request<T>(name: string, callback: LockGrantedCallback<T>): Promise<Awaited<T>>;
  request<T>(name: string, options: LockOptions, callback: LockGrantedCallback<T>): Promise<Awaited<T>>;
  request<T>(...args: unknown[]): Promise<Awaited<T>> {
    let request: Request<T>;
    try {
      request = parseRequest<T>(args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (request.signal?.aborted === true) return Promise.reject(abortReason(request.signal));
    return this.#request(request);
  }

  async query(): Promise<LockManagerSnapshot> {
    const bound = Bound.none('keeper.locks.query');
    const keeper = this.#keeper;
    const dirs = (await childrenOrNone(keeper, LOCKS_BASE_PATH, bound))
      .map((encoded) => ({ encoded, name: decodeLockName(encoded) }))
      .filter((dir): dir is { encoded: string; name: string } => dir.name !== null);
    const listings = await Promise.all(dirs.map((dir) => childrenOrNone(keeper, joinPath(LOCKS_BASE_PATH, dir.encoded), bound)));
    const entries = dirs.flatMap((dir, index) =>
      sequentialChildren(listings[index] ?? [], KINDS)
        .sort(stealFirst)
        .map((node) => ({ name: dir.name, node, path: joinPath(joinPath(LOCKS_BASE_PATH, dir.encoded), node.name) })),
    );
    const reads = await Promise.all(
      entries.map(async ({ path }) => {
        try {
          return await retrying(bound, () => keeper.getData(path));
        } catch (error) {
          if (hasCode(error, 'NONODE')) return null; // released meanwhile
          throw error;
        }
      }),
    );
    const snapshot: LockManagerSnapshot = { held: [], pending: [] };
    entries.forEach(({ name, node }, index) => {
      const read = reads[index];
      if (read === null || read === undefined) return;
      const info: LockInfo = { name, mode: node.kind === READ_KIND ? 'shared' : 'exclusive', clientId: read.stat.ephemeralOwner ?? '' };
      (text(read.data) === HELD_MARK ? snapshot.held : snapshot.pending).push(info);
    });
    return snapshot;
  }

  async #request<T>(request: Request<T>): Promise<Awaited<T>> {
    const dir = joinPath(LOCKS_BASE_PATH, encodeLockName(request.name));
    const bound = Bound.from({ signal: request.signal }, 'keeper.locks.request');
    const granted = await runBounded(bound, (b) => this.#acquire(dir, request, b));
    if (granted === null) return await request.callback(null);
    return this.#hold(granted, request);
  }

  /** Queues the request and waits for the grant (null: ifAvailable and not grantable). */
  async #acquire(dir: string, request: Request<unknown>, bound: Bound): Promise<Granted | null> {
    const kind = request.steal ? STEAL_KIND : request.mode === 'shared' ? READ_KIND : WRITE_KIND;
    for (let attempt = 0; ; attempt++) {
      const participant = await Participant.enter({ keeper: this.#keeper, dir, kind, kinds: KINDS, decide: decideByKind, order: stealFirst, fenced: true }, bound);
      try {
        if (request.steal) await this.#breakHolders(dir, participant, bound);
        if (!(await participant.awaitTurn(bound, { tryOnce: request.ifAvailable }))) {
          await participant.leave();
          return null;
        }
        let onLost!: (reason: LostReason) => void;
        const lost = new Promise<LostReason>((resolve) => {
          onLost = resolve;
        });
        const token = await participant.hold(onLost, bound);
        bound.stillWanted();
        return { participant, token, lost };
      } catch (error) {
        await participant.leave().catch(() => {});
        if (!(error instanceof NodeVanished)) throw error;
        // A steal broke our (just confirmed) grant, or our node was deleted while we waited.
        if (request.steal || attempt >= NODE_RECREATE_RETRIES_MAX) throw stolenError();
      }
    }
  }

  /** The steal (see the module comment): fence, then delete earlier steals and marked holders. */
  async #breakHolders(dir: string, participant: Participant, bound: Bound): Promise<void> {
    const keeper = this.#keeper;
    await retrying(bound, () => keeper.setData(dir, '')); // moves the version: a repeat is harmless
    const nodes = await participant.participants(bound);
    const ours = nodes.find((node) => node.name === participant.name);
    if (ours === undefined) throw new NodeVanished(participant.path);
    await Promise.all(
      nodes.map(async (node) => {
        if (node === ours) return;
        const path = joinPath(dir, node.name);
        if (node.kind === STEAL_KIND) {
          if (node.sequence < ours.sequence) await deleteQuietly(keeper, path);
          return;
        }
        try {
          const { data } = await retrying(bound, () => keeper.getData(path));
          if (text(data) === HELD_MARK) await deleteQuietly(keeper, path);
        } catch (error) {
          if (!hasCode(error, 'NONODE')) throw error;
        }
      }),
    );
  }

  /** Runs the callback with the lock held; releases it when the callback's promise settles. */
  async #hold<T>(granted: Granted, request: Request<T>): Promise<Awaited<T>> {
    const lock: KeeperLock = Object.freeze({ name: request.name, mode: request.mode, token: granted.token });
    const outcome = (async (): Promise<Awaited<T>> => await request.callback(lock))();
    const settled = await Promise.race([
      outcome.then(
        (value) => ({ kind: 'done' as const, value }),
        (error: unknown) => ({ kind: 'failed' as const, error }),
      ),
      granted.lost.then((reason) => ({ kind: 'lost' as const, reason })),
    ]);
    if (settled.kind === 'lost') {
      outcome.catch(() => {}); // the callback runs on, its outcome unheard (as the spec's steal)
      throw settled.reason === 'session' ? new KeeperError('SESSIONEXPIRED', `keeper.locks: the session ended while holding ${JSON.stringify(request.name)}`) : stolenError();
    }
    // Released before the request settles (spec); a failed delete leaves a node that goes with the session.
    await granted.participant.leave().catch(() => {});
    if (settled.kind === 'failed') throw settled.error;
    return settled.value;
  }
}

function stolenError(): DOMException {
  return abortError("Lock broken by another request with the 'steal' option.");
}

function notSupported(message: string): DOMException {
  return new DOMException(message, 'NotSupportedError');
}

/** The spec's argument handling (WebIDL conversions, then the request algorithm's checks). */
function parseRequest<T>(args: unknown[]): Request<T> {
  if (args.length < 2) throw new TypeError(`keeper.locks.request: 2 arguments required, but only ${args.length} present`);
  const [rawName, second, third] = args;
  if (typeof rawName === 'symbol') throw new TypeError('keeper.locks.request: the name must be a string');
  const name = String(rawName);
  const [rawOptions, callback] = args.length === 2 ? [undefined, second] : [second, third];
  if (rawOptions !== undefined && rawOptions !== null && typeof rawOptions !== 'object' && typeof rawOptions !== 'function') {
    throw new TypeError('keeper.locks.request: options must be an object');
  }
  const options = (rawOptions ?? {}) as Record<string, unknown>;
  const mode = options.mode === undefined ? 'exclusive' : String(options.mode);
  if (mode !== 'exclusive' && mode !== 'shared') throw new TypeError(`keeper.locks.request: mode must be 'exclusive' or 'shared', got ${JSON.stringify(mode)}`);
  const ifAvailable = Boolean(options.ifAvailable);
  const steal = Boolean(options.steal);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('keeper.locks.request: signal must be an AbortSignal');
  if (typeof callback !== 'function') throw new TypeError('keeper.locks.request: the callback must be a function');
  if (name.startsWith('-')) throw notSupported("keeper.locks.request: names starting with '-' are reserved");
  if (steal && ifAvailable) throw notSupported("keeper.locks.request: the 'steal' and 'ifAvailable' options cannot be used together");
  if (steal && mode !== 'exclusive') throw notSupported("keeper.locks.request: the 'steal' option may only be used with 'exclusive' locks");
  if (signal !== undefined && (steal || ifAvailable)) {
    throw notSupported("keeper.locks.request: the 'signal' option cannot be used with 'steal' or 'ifAvailable'");
  }
  if (name.length > LOCK_NAME_UNITS_MAX) throw notSupported(`keeper.locks.request: names are at most ${LOCK_NAME_UNITS_MAX} UTF-16 code units (LOCK_NAME_UNITS_MAX)`);
  return { name, mode, ifAvailable, steal, signal, callback: callback as LockGrantedCallback<T> };
}

// --- names ---------------------------------------------------------------------------------

const NAME_PREFIX = 'n-';
const KEPT = /^[A-Za-z0-9_.~-]$/;

/** A lock name as one znode name (see the module comment). */
export function encodeLockName(name: string): string {
  let encoded = NAME_PREFIX;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    const char = name[i] as string;
    if (KEPT.test(char)) encoded += char;
    else if (unit < 0x100) encoded += `%${unit.toString(16).toUpperCase().padStart(2, '0')}`;
    else encoded += `%u${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return encoded;
}

/** The inverse of encodeLockName; null for a znode name it did not make. */
export function decodeLockName(encoded: string): string | null {
  if (!encoded.startsWith(NAME_PREFIX)) return null;
  let name = '';
  for (let i = NAME_PREFIX.length; i < encoded.length; ) {
    const char = encoded[i] as string;
    if (char !== '%') {
      if (!KEPT.test(char)) return null;
      name += char;
      i += 1;
      continue;
    }
    const wide = encoded[i + 1] === 'u';
    const hex = wide ? encoded.slice(i + 2, i + 6) : encoded.slice(i + 1, i + 3);
    if (!/^[0-9A-F]+$/.test(hex) || hex.length !== (wide ? 4 : 2)) return null;
    name += String.fromCharCode(parseInt(hex, 16));
    i += wide ? 6 : 3;
  }
  return name;
}
