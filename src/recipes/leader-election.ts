/**
 * LeaderElection: Curator's LeaderLatch — one leader at a time among the participants of `path`,
 * leadership kept until relinquished or lost.
 *
 *   const election = new LeaderElection(keeper, '/services/indexer/leader', myId);
 *   election.on('elected', () => startWork());
 *   election.on('revoked', () => stopWork());
 *   await election.start();                  // enrol; leadership comes as an 'elected' event
 *   await election.waitForLeadership({ signal, timeoutMs });   // or wait for it
 *   await election.relinquish();             // leave: the next participant is elected
 *
 * Each participant has an ephemeral-sequential node `_c_<id>-latch-<seq>` holding its id; the
 * first in sequence order leads. A follower watches only its predecessor (no herd); the leader
 * watches its own node. The background check runs again on every watch event and session state
 * change.
 *
 * Revocation (as Curator's default ConnectionStateErrorPolicy): leadership is revoked when the
 * session ends (and the election closes), when our node vanishes (we re-enrol at the back), and
 * while the session is 'disconnected' — a leader that cannot reach the ensemble must not act, its
 * session may be expiring; on 'connected' the check runs again and re-elects if our node is still
 * first. So 'elected' and 'revoked' alternate, starting with 'elected'.
 */

import type { RecipeKeeper } from './keeper-like.js';
import type { KeeperState, Watcher } from '../index.js';
import { CONNECTION_LOSS_BACKOFF_MS, ELECTION_CHECK_FAILURES_MAX, FIRST_NODE_READ_RETRIES_MAX } from './constants.js';
import { abortError, badArgument, hasCode, invalidState, sessionEnded } from './errors.js';
import { Bound, runBounded, type WaitOptions } from './internal/bound.js';
import { Listeners } from './internal/listeners.js';
import { exclusiveDecide, NodeVanished, Participant } from './internal/participant.js';
import { checkRecipePath, childrenOrNone, joinPath, removeWatchQuietly, retrying, sequentialChildren, text, wakeUp, type SequentialNode } from './internal/znodes.js';

const LATCH_KIND = 'latch';

/** Why leadership was revoked. */
export type RevokedReason = 'relinquished' | 'session' | 'disconnected' | 'vanished' | 'error';

export interface LeaderElectionEvents {
  elected: { id: string };
  revoked: { id: string; reason: RevokedReason };
  /** The background check failed ELECTION_CHECK_FAILURES_MAX times in a row; the election closed. */
  error: unknown;
}

export type ElectionState = 'idle' | 'running' | 'closed';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class LeaderElection {
  readonly path: string;
  readonly id: string;
  readonly #keeper: RecipeKeeper;
  readonly #events = new Listeners<LeaderElectionEvents>('LeaderElection');
  readonly #waiters = new Set<Waiter>();
  #state: ElectionState = 'idle';
  #leader = false;
  #participant: Participant | null = null;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #offState: (() => void) | null = null;
  /** One watcher for the whole election (a watch set twice on one path is one registration); it
   *  wakes the background check. #watched: where it is set (it may have fired since). */
  readonly #watcher: Watcher = () => this.#wake?.();
  #watched: string | null = null;

  constructor(keeper: RecipeKeeper, path: string, id: string) {
    this.path = checkRecipePath(path, 'LeaderElection');
    if (typeof id !== 'string') throw badArgument('LeaderElection: the id must be a string', path);
    this.#keeper = keeper;
    this.id = id;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  get state(): ElectionState {
    return this.#state;
  }

  on<K extends keyof LeaderElectionEvents>(name: K, listener: (event: LeaderElectionEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends keyof LeaderElectionEvents>(name: K, listener: (event: LeaderElectionEvents[K]) => void): void {
    this.#events.off(name, listener);
  }

  /** Enrols (creates our node) and starts the background check. Resolves once enrolled; being
   *  elected is an 'elected' event (or waitForLeadership). Once only: a relinquished election is
   *  over, as Curator's closed LeaderLatch — make a new one to stand again. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw invalidState(`LeaderElection.start: the election is ${this.#state}`);
    this.#state = 'running';
    this.#offState = this.#keeper.on('state', (state) => this.#sessionState(state));
    try {
      await this.#enrol();
    } catch (error) {
      this.#close();
      throw error;
    }
    this.#loop = this.#run();
  }

  /** Resolves when this participant leads (at once if it does). TimeoutError / the signal's
   *  reason on timeout / abort; InvalidStateError if not started; an AbortError if relinquished
   *  meanwhile, SESSIONEXPIRED if the session ends. */
  waitForLeadership(options?: WaitOptions): Promise<void> {
    let bound: Bound;
    try {
      bound = Bound.from(options, 'LeaderElection.waitForLeadership');
    } catch (error) {
      return Promise.reject(error);
    }
    return runBounded(bound, async (b) => {
      if (this.#leader) return;
      if (this.#state !== 'running') throw invalidState(`LeaderElection.waitForLeadership: the election is ${this.#state}`);
      let waiter!: Waiter;
      const elected = new Promise<void>((resolve, reject) => {
        waiter = { resolve, reject };
      });
      this.#waiters.add(waiter);
      try {
        await b.wait(this.#keeper, elected);
      } finally {
        this.#waiters.delete(waiter);
      }
    });
  }

  /** Leaves the election: deletes our node (the next participant is elected) and emits 'revoked'
   *  if we led. Idempotent. */
  async relinquish(): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'closed';
      return;
    }
    this.#close('relinquished', abortError('LeaderElection: relinquished'));
    await this.#loop;
  }

  /** The id of the current leader (the first participant), or null when nobody stands. */
  async getLeader(): Promise<string | null> {
    const bound = Bound.none('LeaderElection.getLeader');
    for (let attempt = 0; ; attempt++) {
      const nodes = sequentialChildren(await childrenOrNone(this.#keeper, this.path, bound), [LATCH_KIND]);
      const first = nodes[0];
      if (first === undefined) return null;
      try {
        const { data } = await retrying(bound, () => this.#keeper.getData(joinPath(this.path, first.name)));
        return text(data);
      } catch (error) {
        // The leader left between the listing and the read: read the new first.
        if (!hasCode(error, 'NONODE') || attempt >= FIRST_NODE_READ_RETRIES_MAX) throw error;
      }
    }
  }

  /** The ids of every participant, leader first. */
  async participants(): Promise<string[]> {
    const bound = Bound.none('LeaderElection.participants');
    const nodes = sequentialChildren(await childrenOrNone(this.#keeper, this.path, bound), [LATCH_KIND]);
    const ids: string[] = [];
    for (const node of nodes) {
      try {
        ids.push(text((await retrying(bound, () => this.#keeper.getData(joinPath(this.path, node.name)))).data));
      } catch (error) {
        if (!hasCode(error, 'NONODE')) throw error; // left meanwhile
      }
    }
    return ids;
  }

  // --- the background check ------------------------------------------------------------------

  async #enrol(): Promise<void> {
    this.#participant = await Participant.enter(
      { keeper: this.#keeper, dir: this.path, kind: LATCH_KIND, data: this.id, decide: exclusiveDecide },
      Bound.none('LeaderElection.start'),
    );
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#state === 'running') {
      const { promise, wake } = wakeUp();
      this.#wake = wake;
      try {
        const next = await this.#check();
        failures = 0;
        if (next === 'wait') await promise; // a watch event, a state change, or relinquish
      } catch (error) {
        if (hasCode(error, 'SESSIONEXPIRED')) this.#close('session', error);
        if (this.#state !== 'running') break;
        failures += 1;
        this.#setLeader(false, 'error');
        if (failures >= ELECTION_CHECK_FAILURES_MAX) {
          this.#events.emit('error', error);
          this.#close('error', error);
          break;
        }
        await Promise.race([promise, new Promise((resolve) => setTimeout(resolve, CONNECTION_LOSS_BACKOFF_MS * 2 ** failures))]);
      }
    }
    // Closed: nothing of ours stays behind.
    this.#wake = null;
    if (this.#watched !== null) await removeWatchQuietly(this.#keeper, this.#watched, this.#watcher);
    this.#watched = null;
    await this.#participant?.leave().catch(() => {});
    this.#participant = null;
  }

  /** One look: elects or revokes, and says whether to wait (for the watch it set, or for a state
   *  change) or to look again at once. */
  async #check(): Promise<'wait' | 'again'> {
    if (this.#keeper.state !== 'connected') {
      this.#setLeader(false, 'disconnected');
      return 'wait';
    }
    if (this.#participant === null) await this.#enrol();
    const participant = this.#participant as Participant;
    const bound = Bound.none('LeaderElection');
    let nodes: SequentialNode[];
    try {
      nodes = await participant.participants(bound);
    } catch (error) {
      if (!(error instanceof NodeVanished)) throw error;
      nodes = [];
    }
    if (this.#state !== 'running') return 'again';
    const ours = nodes.find((node) => node.name === participant.name);
    if (ours === undefined) {
      // Our node vanished (deleted by someone else): revoke, and stand again at the back.
      this.#setLeader(false, 'vanished');
      this.#participant = null;
      return 'again';
    }
    const decision = exclusiveDecide(nodes, ours);
    const target = decision.holds ? participant.path : joinPath(this.path, decision.watch.name);
    if (this.#watched !== null && this.#watched !== target) await removeWatchQuietly(this.#keeper, this.#watched, this.#watcher);
    this.#watched = null;
    try {
      await retrying(bound, () => this.#keeper.getData(target, { watch: this.#watcher }));
    } catch (error) {
      if (hasCode(error, 'NONODE')) return 'again'; // gone meanwhile: look again
      throw error;
    }
    this.#watched = target;
    if (this.#state !== 'running') return 'again';
    this.#setLeader(decision.holds, 'vanished');
    return 'wait';
  }

  #setLeader(leader: boolean, reason: RevokedReason): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    if (leader) {
      for (const waiter of [...this.#waiters]) waiter.resolve();
      this.#events.emit('elected', { id: this.id });
    } else {
      this.#events.emit('revoked', { id: this.id, reason });
    }
  }

  #sessionState(state: KeeperState): void {
    if (state === 'closed' || state === 'expired') {
      this.#close('session', sessionEnded('LeaderElection'));
      return;
    }
    if (state === 'disconnected') this.#setLeader(false, 'disconnected');
    this.#wake?.();
  }

  /** Ends the election: revokes, fails the waiters, stops listening, wakes the loop to clean up. */
  #close(reason: RevokedReason = 'relinquished', error: unknown = abortError('LeaderElection: closed')): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#setLeader(false, reason);
    for (const waiter of [...this.#waiters]) waiter.reject(error);
    this.#waiters.clear();
    this.#offState?.();
    this.#offState = null;
    this.#wake?.();
  }
}
