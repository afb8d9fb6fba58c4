/**
 * A deterministic in-memory cluster of RawNodes for the scenario scripts and the randomized test:
 * a FIFO network with partitions and drops, MemoryStorage per node that persists each Ready before
 * its messages are queued (the Ready contract), a toy state machine (applied entries) that can be
 * snapshotted, restarts from storage, and safety checkers:
 *
 * - Election Safety: at most one leader per term, ever (§3.6.3, Figure 3.2).
 * - State Machine Safety: no two nodes apply different entries at one index.
 * - Log Matching: two logs with an entry of the same index and term agree up to that index.
 *
 * The simulator (src/sim) is the full version of this; this one proves the basics in the core.
 */

import { assert } from '../../assert.js';
import { Prng } from '../../prng.js';
import type { Message } from '../messages.js';
import type { UnsafeMutations } from '../options.js';
import { RawNode } from '../raw-node.js';
import type { Config, Entry, PeerId, PersistedState, Snapshot } from '../types.js';
import { formatEntry, formatMessage, formatReady } from './format.js';
import { MemoryStorage } from './memory-storage.js';

export interface NodeSettings {
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly electionTimeoutTicks?: number;
  readonly heartbeatIntervalTicks?: number;
  readonly appendEntriesPerMessageMax?: number;
  readonly unsafeMutations?: UnsafeMutations;
}

/** The toy state machine: the normal entries applied, with their indexes. */
interface AppState {
  applied: [index: number, data: string][];
  index: number;
}

interface ClusterNode {
  readonly id: PeerId;
  readonly settings: NodeSettings;
  readonly storage: MemoryStorage;
  node: RawNode;
  app: AppState;
  restarts: number;
}

/** A bound on stabilize rounds: a scenario that has not settled by then is livelocked. */
const STABILIZE_ROUNDS_MAX = 1000;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function hashId(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash | 0;
}

function entryKey(entry: Entry): string {
  return `${entry.term}/${entry.kind}/${Array.from(entry.data).join(',')}`;
}

/** The toy state machine's snapshot bytes: JSON of its applied entries through `index`, plus
 *  `pad` filler bytes (to make snapshots that need several chunks). */
export function encodeAppSnapshot(app: AppState, index: number, pad: number): Uint8Array {
  const applied = app.applied.filter(([at]) => at <= index);
  return utf8Encoder.encode(JSON.stringify({ applied, pad: 'x'.repeat(pad) }));
}

function decodeAppSnapshot(snapshot: Snapshot): AppState {
  if (snapshot.data.length === 0) return { applied: [], index: snapshot.meta.index };
  const parsed = JSON.parse(utf8Decoder.decode(snapshot.data)) as { applied: [number, string][] };
  return { applied: parsed.applied, index: snapshot.meta.index };
}

export class Cluster {
  private readonly members = new Map<PeerId, ClusterNode>();
  queue: Message[] = [];
  private readonly blocked = new Set<string>();
  readonly violations: string[] = [];
  /** The first entry applied at each index (key, and its text for reports). */
  private readonly appliedAt = new Map<number, { key: string; text: string }>();
  private readonly leaderOfTerm = new Map<number, PeerId>();

  constructor(readonly seed: number) {}

  ids(): PeerId[] {
    return [...this.members.keys()].sort();
  }

  has(id: PeerId): boolean {
    return this.members.has(id);
  }

  private member(id: PeerId): ClusterNode {
    const member = this.members.get(id);
    assert(member !== undefined, `no node ${id}`);
    return member;
  }

  node(id: PeerId): RawNode {
    return this.member(id).node;
  }

  appliedData(id: PeerId): readonly [number, string][] {
    return this.member(id).app.applied;
  }

  private makeNode(id: PeerId, settings: NodeSettings, persisted: PersistedState, restarts: number): RawNode {
    const prng = new Prng((Math.imul(this.seed, 31) + hashId(id) + Math.imul(restarts, 7919)) | 0);
    return new RawNode({ id, prng, ...settings }, persisted);
  }

  /** A new node with a fresh storage bootstrapped with `config` (EMPTY_CONFIG for a joiner). */
  addNode(id: PeerId, config: Config, settings: NodeSettings = {}): void {
    assert(!this.members.has(id), `node ${id} exists`);
    const persisted = RawNode.bootstrapState(config);
    const storage = new MemoryStorage(persisted);
    const node = this.makeNode(id, settings, persisted, 0);
    this.members.set(id, { id, settings, storage, node, app: { applied: [], index: 0 }, restarts: 0 });
  }

  /** Crash and restart `id` from what its storage holds; anything not persisted is lost. */
  restart(id: PeerId): void {
    const member = this.member(id);
    member.restarts += 1;
    const persisted = member.storage.load();
    member.node = this.makeNode(id, member.settings, persisted, member.restarts);
    member.app = decodeAppSnapshot(persisted.snapshot);
  }

  /** Handles one Ready of `id` following the contract; null when it has none. */
  processReady(id: PeerId): string[] | null {
    const member = this.member(id);
    if (!member.node.hasReady()) return null;
    const ready = member.node.ready();
    const lines = formatReady(ready);
    this.queue.push(...ready.messagesBeforePersist);
    member.storage.persist(ready);
    this.queue.push(...ready.messages);
    if (ready.snapshot !== null) member.app = decodeAppSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) lines.push(...this.apply(member, entry));
    member.node.advance(ready);
    return lines;
  }

  /** Takes a Ready, sends only what goes before persisting, then crashes before persisting and
   *  restarts: the crash point that UNSAFE MUTATION (b) ackBeforePersist is exposed by. */
  processReadyCrash(id: PeerId): string[] {
    const member = this.member(id);
    if (!member.node.hasReady()) return ['no Ready'];
    const ready = member.node.ready();
    const lines = formatReady(ready);
    this.queue.push(...ready.messagesBeforePersist);
    this.restart(id);
    lines.push(`${id} crashed before persisting; restarted`);
    return lines;
  }

  private apply(member: ClusterNode, entry: Entry): string[] {
    assert(entry.index === member.app.index + 1, `${member.id} applies in order`);
    member.app.index = entry.index;
    if (entry.kind === 'normal') member.app.applied.push([entry.index, utf8Decoder.decode(entry.data)]);
    const key = entryKey(entry);
    const previous = this.appliedAt.get(entry.index);
    if (previous === undefined) {
      this.appliedAt.set(entry.index, { key, text: formatEntry(entry) });
      return [];
    }
    if (previous.key === key) return [];
    return this.violation(`${member.id} applied ${formatEntry(entry)}, but ${previous.text} was applied at that index before`);
  }

  /** Records a violation; returns its line the first time only (checks repeat every round). */
  private violation(text: string): string[] {
    const line = `SAFETY VIOLATION: ${text}`;
    if (this.violations.includes(line)) return [];
    this.violations.push(line);
    return [line];
  }

  private isBlocked(m: Message): boolean {
    return this.blocked.has(`${m.from}->${m.to}`);
  }

  /** Delivers the queued messages addressed to `ids` (all when null), in order. */
  deliver(ids: readonly PeerId[] | null, dropTo: readonly PeerId[] = [], count = Number.MAX_SAFE_INTEGER): string[] {
    const batch = this.takeFromQueue((m) => ids === null || ids.includes(m.to), count);
    const lines: string[] = [];
    for (const m of batch) {
      if (this.isBlocked(m) || dropTo.includes(m.to) || !this.members.has(m.to)) {
        lines.push(`dropped: ${formatMessage(m)}`);
        continue;
      }
      lines.push(formatMessage(m));
      const outcome = this.member(m.to).node.step(m);
      if (!outcome.ok) lines.push(`  step refused: ${outcome.error}`);
    }
    return lines;
  }

  /** Removes and returns the first `count` queued messages matching `match`, in queue order. */
  private takeFromQueue(match: (m: Message) => boolean, count: number): Message[] {
    const taken: Message[] = [];
    this.queue = this.queue.filter((m) => {
      if (taken.length >= count || !match(m)) return true;
      taken.push(m);
      return false;
    });
    return taken;
  }

  /** Delivers the queued message at `position` (any order: the network may reorder). Returns
   *  whether the receiver accepted it. */
  deliverAt(position: number): boolean {
    const [m] = this.queue.splice(position, 1);
    assert(m !== undefined, 'a queued message at that position');
    if (this.isBlocked(m) || !this.members.has(m.to)) return false;
    return this.member(m.to).node.step(m).ok;
  }

  /** Loses the queued message at `position`. */
  dropAt(position: number): void {
    this.queue.splice(position, 1);
  }

  /** Duplicates the queued message at `position` (the network may deliver a message twice). */
  duplicateAt(position: number): void {
    const m = this.queue[position];
    assert(m !== undefined, 'a queued message at that position');
    this.queue.push(m);
  }

  /** Drops the first `count` queued messages matching from/to (either may be null for any). */
  drop(from: PeerId | null, to: PeerId | null, count = Number.MAX_SAFE_INTEGER): string[] {
    const match = (m: Message): boolean => (from === null || m.from === from) && (to === null || m.to === to);
    return this.takeFromQueue(match, count).map((m) => `dropped: ${formatMessage(m)}`);
  }

  /** Cuts every link between nodes of different groups (both directions), replacing any previous
   *  partition. Nodes in no group keep all their links. */
  partition(groups: readonly (readonly PeerId[])[]): void {
    this.blocked.clear();
    for (let a = 0; a < groups.length; a++) {
      for (let b = 0; b < groups.length; b++) {
        if (a === b) continue;
        for (const from of groups[a] as readonly PeerId[]) {
          for (const to of groups[b] as readonly PeerId[]) this.blocked.add(`${from}->${to}`);
        }
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Runs Readys and deliveries until nothing moves (etcd's `stabilize`). */
  stabilize(ids: readonly PeerId[] = this.ids()): string[] {
    const lines: string[] = [];
    for (let round = 0; ; round++) {
      assert(round < STABILIZE_ROUNDS_MAX, 'stabilize settles');
      let moved = false;
      for (const id of ids) {
        const ready = this.processReady(id);
        if (ready === null) continue;
        moved = true;
        lines.push(`> ${id} handling Ready`, ...ready.map((line) => `  ${line}`));
      }
      for (const id of ids) {
        if (!this.queue.some((m) => m.to === id)) continue;
        moved = true;
        lines.push(`> ${id} receiving messages`, ...this.deliver([id]).map((line) => `  ${line}`));
      }
      lines.push(...this.checkSafety());
      if (!moved) return lines;
    }
  }

  compact(id: PeerId, index: number | null, pad: number): ReturnType<RawNode['compact']> {
    const member = this.member(id);
    const at = index ?? member.node.status().applied;
    const result = member.node.compact(at, encodeAppSnapshot(member.app, at, pad));
    if (result.ok) member.storage.compact(result.snapshot);
    return result;
  }

  /** Election Safety and Log Matching across all nodes now; returns new violation lines. */
  checkSafety(): string[] {
    const lines: string[] = [];
    for (const id of this.ids()) {
      const status = this.node(id).status();
      if (status.role !== 'leader') continue;
      const known = this.leaderOfTerm.get(status.term);
      if (known === undefined) this.leaderOfTerm.set(status.term, id);
      else if (known !== id) lines.push(...this.violation(`two leaders in term ${status.term}: ${known} and ${id}`));
    }
    const ids = this.ids();
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) lines.push(...this.checkLogMatching(ids[a] as PeerId, ids[b] as PeerId));
    }
    return lines;
  }

  private checkLogMatching(a: PeerId, b: PeerId): string[] {
    const logA = new Map(this.node(a).inspectLog().entries.map((entry) => [entry.index, entry]));
    const entriesB = this.node(b).inspectLog().entries;
    let highest = 0;
    for (const entry of entriesB) {
      if (logA.get(entry.index)?.term === entry.term) highest = entry.index;
    }
    for (const entry of entriesB) {
      if (entry.index > highest) break;
      const other = logA.get(entry.index);
      if (other !== undefined && entryKey(other) !== entryKey(entry)) {
        return this.violation(`logs of ${a} and ${b} agree at ${highest} but differ at ${entry.index}`);
      }
    }
    return [];
  }
}
