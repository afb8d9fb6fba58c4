/**
 * One participant of a queue-shaped recipe (lock, read-write lock, semaphore mutex, election):
 * ZooKeeper's herd-free lock recipe ("ZooKeeper Recipes and Solutions", Locks; Curator's
 * LockInternals) as a small lifecycle:
 *
 *   enter      a protected ephemeral-sequential node `_c_<id>-<kind>-<seq>` under `dir`;
 *   awaitTurn  list the children, ask `decide` whether our node holds; if not, watch only the one
 *              node `decide` names (getData with a watch: on a node that is already gone it fails
 *              with NONODE and leaves no watch, where exists would leave one behind) and look again
 *              when it fires — never on the whole directory, so a release wakes one waiter;
 *   hold       arm the `lost` detection: a watch on our own node (its deletion by someone else)
 *              and the session's end;
 *   leave      delete our node (the hold watch fires on that delete and is ignored).
 *
 * An abort or timeout while waiting removes the predecessor watch (removeWatches) before the error
 * propagates; the caller deletes the node (leave) on every failure path. A watcher that fires late
 * only resolves a promise nobody awaits any more.
 *
 * Fenced grants (keeper.locks, for `steal`): a participant that finds itself first confirms the
 * grant with multi([check(dir, version seen before listing), setData(node, HELD_MARK)]). A steal
 * bumps the directory's version before it breaks the marked holders, so a grant decided on the
 * older listing fails its check and looks again — and every grant is visible as a mark.
 */

import type { Data } from '../../index.js';
import type { RecipeKeeper } from '../keeper-like.js';
import { hasCode, isUnknownOutcome, sessionEnded } from '../errors.js';
import { Bound } from './bound.js';
import {
  bySequence,
  createProtected,
  joinPath,
  nameOf,
  parseSequential,
  removeWatchQuietly,
  retrying,
  deleteQuietly,
  wakeUp,
  writeBarrier,
  type SequentialNode,
} from './znodes.js';

/** Whether our node holds, given the participants in order; if not, the one node to watch. */
export type Decision = { readonly holds: true } | { readonly holds: false; readonly watch: SequentialNode };
export type Decide = (nodes: readonly SequentialNode[], ours: SequentialNode) => Decision;

/** Why a held participant lost its hold. */
export type LostReason = 'session' | 'vanished';

/** The data of a node whose grant is confirmed (fenced grants only). */
export const HELD_MARK = 'held';

export interface ParticipantOptions {
  readonly keeper: RecipeKeeper;
  readonly dir: string;
  readonly kind: string;
  /** The kinds of the directory's children that take part in the order (default: [kind]). */
  readonly kinds?: readonly string[];
  readonly data?: Data;
  readonly decide: Decide;
  /** The order of the participants (default: by sequence). */
  readonly order?: (a: SequentialNode, b: SequentialNode) => number;
  /** Confirm grants with a fenced multi (see the module comment). */
  readonly fenced?: boolean;
}

/** Thrown by awaitTurn/hold when our own node is gone (deleted by another session, say). */
export class NodeVanished extends Error {
  constructor(readonly path: string) {
    super(`${path} vanished`);
    this.name = 'NodeVanished';
  }
}

type State = 'waiting' | 'held' | 'lost' | 'left';

export class Participant {
  readonly path: string;
  readonly name: string;
  readonly #options: ParticipantOptions;
  readonly #kinds: readonly string[];
  #state: State = 'waiting';
  #czxid = 0;
  #onLost: ((reason: LostReason) => void) | null = null;
  #offState: (() => void) | null = null;
  readonly #holdWatcher = (event: { type: string }): void => {
    if (this.#state !== 'held') return; // a late event after leave(): nothing to do
    if (event.type === 'NodeDeleted') void this.#lostNode();
    else void this.#arm().catch(() => this.#lostNode());
  };

  private constructor(options: ParticipantOptions, path: string) {
    this.#options = options;
    this.#kinds = options.kinds ?? [options.kind];
    this.path = path;
    this.name = nameOf(path);
  }

  /** Creates our node (protected mode). If the bound is aborted meanwhile, deletes it again. */
  static async enter(options: ParticipantOptions, bound: Bound): Promise<Participant> {
    bound.throwIfAborted();
    const path = await createProtected(options.keeper, options.dir, { kind: options.kind, data: options.data ?? '', mode: 'ephemeral_sequential' }, bound);
    const participant = new Participant(options, path);
    try {
      bound.throwIfAborted();
    } catch (error) {
      await participant.leave().catch(() => {}); // an undeleted ephemeral goes with the session
      throw error;
    }
    return participant;
  }

  get state(): State {
    return this.#state;
  }

  /** The fencing token: our node's czxid (known once held). */
  get czxid(): number {
    return this.#czxid;
  }

  /** The participants of the directory, in order (ours among them unless it vanished). */
  async participants(bound: Bound): Promise<SequentialNode[]> {
    const { keeper, dir } = this.#options;
    let names: string[];
    try {
      names = await retrying(bound, () => keeper.getChildren(dir));
    } catch (error) {
      if (hasCode(error, 'NONODE')) throw new NodeVanished(this.path);
      throw error;
    }
    const nodes: SequentialNode[] = [];
    for (const name of names) {
      const node = parseSequential(name);
      if (node !== null && this.#kinds.includes(node.kind)) nodes.push(node);
    }
    return nodes.sort(this.#options.order ?? bySequence);
  }

  /**
   * Waits until `decide` says our node holds. With `tryOnce`, looks once and returns false instead
   * of waiting. Throws NodeVanished if our node is gone, the bound's reason on abort or timeout.
   */
  async awaitTurn(bound: Bound, options: { tryOnce?: boolean } = {}): Promise<boolean> {
    const { keeper, dir, decide, fenced } = this.#options;
    for (;;) {
      bound.throwIfAborted();
      const version = fenced === true ? await this.#directoryVersion(bound) : -1;
      const nodes = await this.participants(bound);
      const ours = nodes.find((node) => node.name === this.name);
      if (ours === undefined) throw new NodeVanished(this.path);
      const decision = decide(nodes, ours);
      if (decision.holds) {
        if (fenced !== true || (await this.#confirm(version, bound))) return true;
        continue; // a steal moved the directory's version: look again
      }
      if (options.tryOnce === true) return false;
      bound.throwIfDone();
      const target = joinPath(dir, decision.watch.name);
      const { promise, watcher } = wakeUp();
      try {
        await retrying(bound, () => keeper.getData(target, { watch: watcher }));
      } catch (error) {
        if (hasCode(error, 'NONODE')) continue; // gone already: look again
        throw error;
      }
      try {
        await bound.wait(keeper, promise);
      } catch (error) {
        await removeWatchQuietly(keeper, target, watcher);
        throw error;
      }
    }
  }

  /**
   * Our node holds: arms the lost detection and returns the fencing token (czxid). `onLost` is
   * called at most once, when the node vanishes or the session ends while held.
   */
  async hold(onLost: (reason: LostReason) => void, bound: Bound): Promise<number> {
    const { keeper } = this.#options;
    this.#state = 'held';
    this.#offState = keeper.on('state', (state) => {
      if (state === 'closed' || state === 'expired') this.#lose('session');
    });
    try {
      if (keeper.state === 'closed' || keeper.state === 'expired') throw sessionEnded('hold');
      bound.throwIfAborted();
      await this.#arm();
      // Lost between the answer and now (the watch fired, or the session ended)?
      if (this.#state !== 'held') throw new NodeVanished(this.path);
    } catch (error) {
      this.#stopListening(); // the caller leaves (deletes the node) on every failure
      throw error;
    }
    this.#onLost = onLost; // set last: a loss before this point is the caller's failure, not an event
    return this.#czxid;
  }

  /** Deletes our node (idempotent). Whatever the state, nothing of it remains afterwards but what
   *  an unreachable ensemble still holds — and that goes with the session. */
  async leave(): Promise<void> {
    if (this.#state === 'left') return;
    const wasHeld = this.#state === 'held';
    this.#state = 'left';
    this.#onLost = null;
    this.#stopListening();
    const { keeper } = this.#options;
    try {
      await deleteQuietly(keeper, this.path);
    } catch (error) {
      // The delete did not go through: the node stays until the session ends. Remove the hold
      // watch now (after a successful delete it fired and is gone).
      if (wasHeld) await removeWatchQuietly(keeper, this.path, this.#holdWatcher);
      throw error;
    }
  }

  async #arm(): Promise<void> {
    const { keeper } = this.#options;
    try {
      const { stat } = await retrying(Bound.none('hold'), () => keeper.getData(this.path, { watch: this.#holdWatcher }));
      this.#czxid = stat.czxid;
    } catch (error) {
      if (hasCode(error, 'NONODE')) throw new NodeVanished(this.path);
      throw error;
    }
  }

  async #directoryVersion(bound: Bound): Promise<number> {
    const { keeper, dir } = this.#options;
    const stat = await retrying(bound, () => keeper.exists(dir));
    if (stat === null) throw new NodeVanished(this.path);
    return stat.version;
  }

  /** The fenced grant. False: the directory's version moved (a steal): look again. */
  async #confirm(version: number, bound: Bound): Promise<boolean> {
    const { keeper, dir } = this.#options;
    try {
      await keeper.multi([
        { op: 'check', path: dir, version },
        { op: 'setData', path: this.path, data: HELD_MARK },
      ]);
      return true;
    } catch (error) {
      if (hasCode(error, 'BADVERSION')) return false;
      if (hasCode(error, 'NONODE')) throw new NodeVanished(this.path);
      if (!isUnknownOutcome(error)) throw error;
      // Unknown outcome: once the barrier is answered, our node's data says which it was.
      await writeBarrier(keeper, bound);
      try {
        const { data } = await retrying(bound, () => keeper.getData(this.path));
        return new TextDecoder().decode(data) === HELD_MARK;
      } catch (readError) {
        if (hasCode(readError, 'NONODE')) throw new NodeVanished(this.path);
        throw readError;
      }
    }
  }

  /** Our node is gone. The session's own end deletes it too, and its watch event comes before
   *  the session's state does: a probe call tells the two apart (on an ended session every call
   *  fails with SESSIONEXPIRED). */
  async #lostNode(): Promise<void> {
    const { keeper } = this.#options;
    let sessionOver = keeper.state === 'closed' || keeper.state === 'expired';
    if (!sessionOver) {
      try {
        await keeper.exists('/');
      } catch (error) {
        sessionOver = hasCode(error, 'SESSIONEXPIRED');
      }
    }
    this.#lose(sessionOver ? 'session' : 'vanished');
  }

  #lose(reason: LostReason): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    const onLost = this.#onLost;
    this.#onLost = null;
    this.#stopListening();
    onLost?.(reason);
  }

  #stopListening(): void {
    this.#offState?.();
    this.#offState = null;
  }
}

// --- decisions ---------------------------------------------------------------------------------

/** An exclusive lock (and a writer): holds when first; else watches its immediate predecessor. */
export const exclusiveDecide: Decide = (nodes, ours) => {
  const index = nodes.indexOf(ours);
  const before = nodes[index - 1];
  return before === undefined ? { holds: true } : { holds: false, watch: before };
};

/** Whether a node is a reader (every other kind excludes, so a stray kind never sneaks past). */
export const READ_KIND = 'read';

/** A reader: holds when no writer precedes it; else watches the last writer before it (ZooKeeper's
 *  shared-lock recipe: readers behind a waiting writer wait, so writers do not starve). */
export const sharedDecide: Decide = (nodes, ours) => {
  const index = nodes.indexOf(ours);
  for (let i = index - 1; i >= 0; i--) {
    const node = nodes[i] as SequentialNode;
    if (node.kind !== READ_KIND) return { holds: false, watch: node };
  }
  return { holds: true };
};
