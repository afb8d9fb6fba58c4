/**
 * The lock playground (issue 8, "Lock playground"): acquire and release a named lock from this tab
 * with the Lock recipe (meshkeeper/recipes), and see — live, in every tab — who holds it, who waits
 * in queue order, and each one's fencing token (the recipe's token is its lock node's czxid, so a
 * waiter's future token is already known).
 *
 * Lock `name` lives at `/playground/locks/<name>`: the recipe's queue of ephemeral-sequential
 * `_c_<id>-lock-<seq>` nodes. Every tab reads that directory with a child watch, re-armed on each
 * read (an exists watch while the directory is absent: the recipe creates it as a container, swept
 * when empty). A queue node names only its session (Stat.ephemeralOwner); to show peers, each tab
 * that acquires first writes a name tag, the ephemeral `/playground/sessions/<sessionId>` holding
 * its peer id — ZooKeeper's group-membership pattern — and the view reads the tags of the owners.
 *
 * Accessible: a labelled form (Enter acquires), buttons that say what they do and are disabled
 * when they cannot, the holder and waiters as text in an ordered list, and this tab's own state in
 * a polite live region.
 */

import type { Keeper, Stat, Watcher } from '../browser.js';
import type { Lock as LockClass } from '../recipes/index.js';
import { sequentialChildren } from '../recipes/internal/znodes.js';

export const PLAYGROUND_DIR = '/playground';
export const LOCKS_DIR = `${PLAYGROUND_DIR}/locks`;
export const SESSIONS_DIR = `${PLAYGROUND_DIR}/sessions`;
/** A lock name is one path segment of these characters, short enough to show whole. Written for
 *  the input's `pattern` attribute too, which browsers compile with the `v` flag (hence `\-`). */
const LOCK_NAME_SOURCE = '[A-Za-z0-9._\\-]{1,64}';
export const LOCK_NAME_PATTERN = new RegExp(`^${LOCK_NAME_SOURCE}$`, 'v');
/** The queue shows at most this many participants (more than a screen holds; the rest are counted). */
export const QUEUE_SHOWN_MAX = 50;
/** Session → peer id lookups kept (one per participant ever seen; past this the cache starts over). */
export const OWNER_NAMES_MAX = 256;
/** Bursts of queue changes are read once, this long after the first. */
export const RELOAD_DELAY_MS = 30;
/** The recipe's node kind for a Lock (recipes/lock.ts). */
const LOCK_KIND = 'lock';

/** One participant of the queue, in order: the first holds. */
export interface QueueEntry {
  readonly name: string;
  readonly sequence: number;
  /** The node's czxid: the fencing token it holds (or will hold) the lock with. */
  readonly token: number;
  /** The session that owns the node. */
  readonly owner: string | null;
  /** That session's peer, from its name tag; null when it has none (a console or Node client). */
  readonly peer: string | null;
}

/** The lock's participants among `children`, in queue (sequence) order; other names are ignored. */
export function queueOrder(children: readonly string[]): string[] {
  return sequentialChildren(children, [LOCK_KIND]).map((node) => node.name);
}

/** How an entry reads: its peer (or session), "this tab" when it is ours, and its token. */
export function describeEntry(entry: QueueEntry, ownSession: string | null): string {
  const who = entry.peer ?? (entry.owner === null ? 'unknown owner' : `session ${entry.owner}`);
  return `${who}${entry.owner !== null && entry.owner === ownSession ? ' (this tab)' : ''}`;
}

/** The holder and the waiters of an ordered queue. */
export function splitQueue(entries: readonly QueueEntry[]): { holder: QueueEntry | null; waiters: readonly QueueEntry[] } {
  return { holder: entries[0] ?? null, waiters: entries.slice(1) };
}

export function lockPath(name: string): string {
  return `${LOCKS_DIR}/${name}`;
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') return String((error as { code: string }).code);
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text !== undefined) made.textContent = text;
  return made;
}

/** What the playground reads and writes through: a Keeper (writes may be instrumented). */
export type PlaygroundKeeper = Pick<Keeper, 'create' | 'delete' | 'exists' | 'getData' | 'setData' | 'getChildren' | 'multi' | 'removeWatches' | 'on' | 'state' | 'sessionId' | 'status'>;

export interface PlaygroundOptions {
  readonly keeper: PlaygroundKeeper;
  readonly Lock: typeof LockClass;
  /** The heading's id. */
  readonly labelledBy: string;
}

export interface LockPlayground {
  /** Stops watching and gives up this tab's place in the queue (a held lock is released). */
  destroy(): void;
}

type Mine = { readonly state: 'waiting'; readonly lock: LockClass; readonly abort: AbortController } | { readonly state: 'held'; readonly lock: LockClass; readonly token: number };

/** Fills `container` (a panel with its own heading) with the playground. */
export function mountLockPlayground(container: HTMLElement, options: PlaygroundOptions): LockPlayground {
  const { keeper, Lock, labelledBy } = options;
  const form = element('form', { class: 'form lock-form', 'aria-labelledby': labelledBy });
  const nameLabel = element('label', {}, 'Lock name ');
  const nameInput = element('input', { name: 'lock', value: 'printer', required: '', autocomplete: 'off', spellcheck: 'false', pattern: LOCK_NAME_SOURCE, 'data-testid': 'lock-name' });
  nameLabel.append(nameInput);
  const acquire = element('button', { type: 'submit', 'data-testid': 'lock-acquire' }, 'Acquire');
  const cancel = element('button', { type: 'button', 'data-testid': 'lock-cancel', class: 'secondary' }, 'Stop waiting');
  const release = element('button', { type: 'button', 'data-testid': 'lock-release', class: 'secondary' }, 'Release');
  const buttons = element('div', { class: 'buttons' });
  buttons.append(acquire, cancel, release);
  form.append(nameLabel, buttons);
  const mineLine = element('p', { role: 'status', 'aria-live': 'polite', class: 'result', 'data-testid': 'lock-mine' }, 'This tab holds no lock.');
  const queueTitle = element('h3', { id: 'lock-queue-title' });
  const holderLine = element('p', { 'data-testid': 'lock-holder', class: 'lock-holder' });
  const waitersTitle = element('h4', { id: 'lock-waiters-title' }, 'Waiters, in queue order');
  const waitersList = element('ol', { 'data-testid': 'lock-waiters', class: 'lock-waiters', 'aria-labelledby': 'lock-waiters-title' });
  const more = element('p', { class: 'data-note', 'data-testid': 'lock-more' });
  container.append(form, mineLine, queueTitle, holderLine, waitersTitle, waitersList, more);

  const mine = new Map<string, Mine>();
  const owners = new Map<string, string | null>();
  let watchedName = nameInput.value;
  let destroyed = false;
  let reloading = false;
  let again = false;
  let pending: ReturnType<typeof setTimeout> | null = null;
  let tagged = false;

  const ownSession = (): string | null => {
    try {
      return keeper.sessionId;
    } catch {
      return null;
    }
  };
  const warn = (error: unknown): void => {
    if (!destroyed) console.warn('meshkeeper: lock playground read failed', error);
  };

  function showButtons(): void {
    const own = mine.get(watchedName);
    const valid = LOCK_NAME_PATTERN.test(nameInput.value);
    acquire.disabled = destroyed || !valid || own !== undefined;
    cancel.disabled = destroyed || own?.state !== 'waiting';
    release.disabled = destroyed || own?.state !== 'held';
  }

  function showMine(): void {
    const own = mine.get(watchedName);
    if (own === undefined) mineLine.textContent = mine.size === 0 ? 'This tab holds no lock.' : `This tab takes part in: ${[...mine.keys()].join(', ')}.`;
    else if (own.state === 'held') mineLine.textContent = `This tab holds "${watchedName}" with fencing token ${own.token}.`;
    else mineLine.textContent = `This tab waits for "${watchedName}".`;
    showButtons();
  }

  const watcher: Watcher = (event) => {
    if (event.path === lockPath(watchedName)) schedule();
  };

  function schedule(): void {
    if (destroyed || pending !== null) return;
    pending = setTimeout(() => {
      pending = null;
      reload().catch(warn);
    }, RELOAD_DELAY_MS);
  }

  async function ownerPeer(owner: string | null): Promise<string | null> {
    if (owner === null) return null;
    const known = owners.get(owner);
    if (known !== undefined) return known;
    try {
      const peer = new TextDecoder().decode((await keeper.getData(`${SESSIONS_DIR}/${owner}`)).data);
      if (owners.size >= OWNER_NAMES_MAX) owners.clear();
      owners.set(owner, peer);
      return peer;
    } catch (error) {
      if (!isCode(error, 'NONODE')) throw error;
      return null; // not cached: the tag may come later
    }
  }

  /** Reads the watched lock's queue (one read at a time; a change meanwhile reads again). */
  async function reload(): Promise<void> {
    if (reloading) {
      again = true;
      return;
    }
    reloading = true;
    try {
      do {
        again = false;
        await readQueue(watchedName);
      } while (again && !destroyed);
    } finally {
      reloading = false;
    }
  }

  async function readQueue(name: string): Promise<void> {
    const dir = lockPath(name);
    let children: string[];
    try {
      children = await keeper.getChildren(dir, { watch: watcher });
    } catch (error) {
      if (!isCode(error, 'NONODE')) throw error;
      // Absent: an exists watch tells us when the recipe creates it (if it did meanwhile, read again).
      if ((await keeper.exists(dir, { watch: watcher })) !== null) again = true;
      children = [];
    }
    const ordered = queueOrder(children);
    const shown = ordered.slice(0, QUEUE_SHOWN_MAX);
    const stats = await Promise.all(shown.map((child) => keeper.exists(`${dir}/${child}`)));
    const entries: QueueEntry[] = [];
    for (const [i, child] of shown.entries()) {
      const stat: Stat | null = stats[i] ?? null;
      if (stat === null) continue; // gone meanwhile: the watch reads again
      const sequence = Number(child.slice(child.lastIndexOf('-') + 1));
      entries.push({ name: child, sequence, token: stat.czxid, owner: stat.ephemeralOwner, peer: await ownerPeer(stat.ephemeralOwner) });
    }
    if (destroyed || name !== watchedName) return;
    render(name, entries, ordered.length - shown.length);
  }

  function render(name: string, entries: readonly QueueEntry[], hidden: number): void {
    const session = ownSession();
    const { holder, waiters } = splitQueue(entries);
    queueTitle.textContent = `Lock "${name}"`;
    holderLine.dataset.peerId = holder?.peer ?? '';
    holderLine.dataset.token = holder === null ? '' : String(holder.token);
    holderLine.dataset.self = String(holder !== null && holder.owner === session);
    holderLine.replaceChildren();
    if (holder === null) holderLine.textContent = 'Nobody holds it.';
    else {
      const token = element('span', { class: 'tag token', 'data-testid': 'lock-token' }, `token ${holder.token}`);
      holderLine.append(element('span', { 'aria-hidden': 'true' }, '★ '), 'Held by ', element('strong', {}, describeEntry(holder, session)), ' ', token);
    }
    waitersList.replaceChildren(
      ...waiters.map((entry) => {
        const li = element('li', { 'data-peer-id': entry.peer ?? '', 'data-token': String(entry.token), 'data-self': String(entry.owner === session) });
        li.append(element('strong', {}, describeEntry(entry, session)), ' ', element('span', { class: 'tag token' }, `token ${entry.token} when it holds`));
        return li;
      }),
    );
    if (waiters.length === 0) waitersList.append(element('li', { class: 'empty' }, 'none'));
    waitersList.dataset.count = String(waiters.length);
    more.textContent = hidden > 0 ? `… and ${hidden} more waiting, not shown` : '';
  }

  /** This tab's name tag (see the module comment), written once before its first acquire. */
  async function tagSession(): Promise<void> {
    if (tagged) return;
    for (const dir of [PLAYGROUND_DIR, SESSIONS_DIR]) {
      try {
        await keeper.create(dir, undefined, { mode: 'container' });
      } catch (error) {
        if (!isCode(error, 'NODEEXISTS')) throw error;
      }
    }
    try {
      await keeper.create(`${SESSIONS_DIR}/${keeper.sessionId}`, keeper.status().peerId, { mode: 'ephemeral' });
    } catch (error) {
      if (!isCode(error, 'NODEEXISTS')) throw error;
    }
    tagged = true;
  }

  async function take(name: string): Promise<void> {
    const lock = new Lock(keeper, lockPath(name));
    const abort = new AbortController();
    mine.set(name, { state: 'waiting', lock, abort });
    showMine();
    try {
      await tagSession();
      const { token } = await lock.acquire({ signal: abort.signal });
      if (destroyed) {
        await lock.release();
        return;
      }
      mine.set(name, { state: 'held', lock, token });
      lock.on('lost', (event) => {
        if (mine.get(name)?.lock !== lock) return;
        mine.delete(name);
        showMine();
        mineLine.textContent = `This tab lost "${name}" (${event.reason === 'session' ? 'its session ended' : 'its node was deleted'}).`;
      });
      showMine();
    } catch (error) {
      mine.delete(name);
      showMine();
      if (!abort.signal.aborted) mineLine.textContent = `Acquire "${name}" failed: ${describeError(error)}`;
    }
  }

  async function giveBack(name: string): Promise<void> {
    const own = mine.get(name);
    if (own?.state !== 'held') return;
    mine.delete(name);
    showMine();
    try {
      await own.lock.release();
      mineLine.textContent = `This tab released "${name}".`;
    } catch (error) {
      mineLine.textContent = `Release "${name}" failed: ${describeError(error)}`;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = nameInput.value;
    if (!LOCK_NAME_PATTERN.test(name) || mine.has(name)) return;
    take(name).catch(warn);
  });
  cancel.addEventListener('click', () => {
    const own = mine.get(watchedName);
    if (own?.state === 'waiting') own.abort.abort(new Error('stopped waiting'));
  });
  release.addEventListener('click', () => {
    giveBack(watchedName).catch(warn);
  });
  nameInput.addEventListener('input', () => {
    if (!LOCK_NAME_PATTERN.test(nameInput.value) || nameInput.value === watchedName) {
      showButtons();
      return;
    }
    watchedName = nameInput.value;
    showMine();
    reload().catch(warn);
  });

  showMine();
  reload().catch(warn);

  return {
    destroy: () => {
      destroyed = true;
      if (pending !== null) clearTimeout(pending);
      for (const own of mine.values()) {
        if (own.state === 'waiting') own.abort.abort(new Error('playground closed'));
        else own.lock.release().catch(() => undefined);
      }
      mine.clear();
      showButtons();
    },
  };
}
