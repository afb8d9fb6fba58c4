/**
 * The cluster view: every peer of the room as the status board shows it (client/board.ts), one
 * table row each — id, kind, role, term, commit/applied, lag, sessions, heartbeat age — with this
 * tab marked, and a summary above it: how many voters are up, whether they make a quorum, and
 * plainly what it means when they do not. Display only (the board is for diagnosis).
 *
 * Accessible: a real table (caption, column and row headers) inside a focusable, labelled region
 * that scrolls by keyboard when it is wider than the screen; below 40rem the rows stack into cards
 * (style.css) and the table's roles are set explicitly so they survive the CSS `display` change.
 * Roles differ by glyph, text and border style, not colour only. The summary is a polite live
 * region whose text changes only when the situation does.
 *
 * Rendering is debounced (RENDER_DELAY_MS) and the ages are redrawn every AGE_REFRESH_MS.
 */

import type { BoardPeer, KeeperStatus, StatusBoard } from '../browser.js';

/** Board changes are coalesced into one redraw this long after the first (every peer republishes
 *  each second, so a room of N peers would otherwise redraw N times a second). */
export const RENDER_DELAY_MS = 100;
/** Heartbeat and update ages move without any board change: redraw at least this often. */
export const AGE_REFRESH_MS = 1_000;
/** A peer whose state has not been refreshed for this long is shown as silent (it republishes
 *  every second: three missed publishes). Silent peers do not count as up for the quorum line. */
export const SILENT_AFTER_MS = 3_000;

/** What the view reads: a Keeper, or anything shaped like one. */
export interface ClusterSource {
  board(): StatusBoard | null;
  status(): KeeperStatus;
}

const ROLE_GLYPHS: Record<BoardPeer['role'], string> = {
  leader: '★',
  follower: '●',
  candidate: '◐',
  observer: '○',
};

const COLUMNS = ['Peer', 'Kind', 'Role', 'Term', 'Commit / applied', 'Lag', 'Sessions', 'Heartbeat'] as const;

export interface ClusterView {
  /** Redraws now. */
  render(): void;
  destroy(): void;
}

/** Fills `container` (a panel with its own heading) with the summary and the table. */
export function mountClusterView(container: HTMLElement, source: ClusterSource, labelledBy: string): ClusterView {
  const summary = document.createElement('p');
  summary.className = 'cluster-summary';
  summary.dataset.testid = 'quorum-summary';
  summary.setAttribute('role', 'status');
  summary.setAttribute('aria-live', 'polite');

  const region = document.createElement('div');
  region.className = 'cluster-scroll';
  region.tabIndex = 0;
  region.setAttribute('role', 'region');
  region.setAttribute('aria-labelledby', labelledBy);

  const table = document.createElement('table');
  table.className = 'cluster-table';
  table.setAttribute('role', 'table');
  const caption = document.createElement('caption');
  caption.className = 'visually-hidden';
  caption.textContent = 'Peers of this room, one row each, as each last reported itself';
  const head = document.createElement('thead');
  head.setAttribute('role', 'rowgroup');
  const headRow = document.createElement('tr');
  headRow.setAttribute('role', 'row');
  for (const name of COLUMNS) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.setAttribute('role', 'columnheader');
    th.textContent = name;
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement('tbody');
  body.setAttribute('role', 'rowgroup');
  table.append(caption, head, body);
  region.append(table);
  container.append(summary, region);

  let pending: ReturnType<typeof setTimeout> | null = null;
  let unsubscribe: (() => void) | null = null;
  let subscribedTo: StatusBoard | null = null;

  const render = (): void => {
    if (pending !== null) clearTimeout(pending);
    pending = null;
    const board = source.board();
    if (board !== subscribedTo) {
      unsubscribe?.();
      unsubscribe = board === null ? null : board.onChange(schedule);
      subscribedTo = board;
    }
    const peers = board === null ? [selfOnly(source.status())] : board.peers();
    const facts = summarize(peers, source.status());
    const text = describe(facts);
    if (summary.textContent !== text) summary.textContent = text;
    summary.dataset.quorum = facts.quorum ? 'yes' : 'no';
    summary.dataset.voters = String(facts.voters.length);
    summary.dataset.leader = facts.leader?.peerId ?? '';
    summary.classList.toggle('no-quorum', !facts.quorum);
    body.replaceChildren(...peers.map((peer) => renderRow(peer, facts.leader)));
  };
  function schedule(): void {
    if (pending === null) pending = setTimeout(render, RENDER_DELAY_MS);
  }
  const ages = setInterval(render, AGE_REFRESH_MS);
  render();
  return {
    render,
    destroy: () => {
      clearInterval(ages);
      if (pending !== null) clearTimeout(pending);
      unsubscribe?.();
    },
  };
}

/** Without a board (a standalone ensemble): this peer alone, from its status. */
function selfOnly(status: KeeperStatus): BoardPeer {
  return {
    peerId: status.peerId,
    kind: 'tab',
    role: status.role,
    term: status.term,
    leaderId: status.leaderId,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    lastIndex: status.commitIndex,
    lag: Math.max(0, status.commitIndex - status.appliedIndex),
    sessions: 0,
    quorum: status.quorum,
    voters: status.voters,
    observers: status.observers.length,
    heartbeatAgeMs: status.role === 'leader' ? 0 : null,
    updatedAgeMs: 0,
    self: true,
  };
}

function silent(peer: BoardPeer): boolean {
  return !peer.self && peer.updatedAgeMs > SILENT_AFTER_MS;
}

interface Facts {
  readonly leader: BoardPeer | null;
  readonly voters: readonly string[];
  readonly up: number;
  readonly needed: number;
  readonly quorum: boolean;
}

/** The leader (the live one of the highest term), the voters of its configuration (else this
 *  peer's), how many of them are up on the board, and whether that is a majority with a leader. */
export function summarize(peers: readonly BoardPeer[], own: KeeperStatus): Facts {
  const live = peers.filter((peer) => !silent(peer));
  let leader: BoardPeer | null = null;
  for (const peer of live) if (peer.role === 'leader' && (leader === null || peer.term > leader.term)) leader = peer;
  const voters = leader?.voters ?? peers.find((peer) => peer.self)?.voters ?? own.voters;
  const liveIds = new Set(live.map((peer) => peer.peerId));
  const up = voters.filter((id) => liveIds.has(id)).length;
  const needed = Math.floor(voters.length / 2) + 1;
  return { leader, voters, up, needed, quorum: leader !== null && voters.length > 0 && up >= needed };
}

function describe(facts: Facts): string {
  const count = `${facts.up} of ${facts.voters.length} voter${facts.voters.length === 1 ? '' : 's'} up`;
  if (facts.quorum && facts.leader !== null) return `Quorum: yes. ${count}; leader ${facts.leader.peerId} (term ${facts.leader.term}).`;
  if (facts.leader === null) return `No quorum: no leader is elected (${count}, ${facts.needed} needed). Writes and synced reads wait until there is one.`;
  return `No quorum: only ${count}, ${facts.needed} needed. Writes and synced reads wait until a majority of voters is back.`;
}

/** Entries the peer is behind: the leader's log past its own, plus what it has committed but not
 *  applied. Samples come from different moments (up to a publish interval apart): indicative. */
function lagOf(peer: BoardPeer, leader: BoardPeer | null): number {
  if (leader === null || leader.peerId === peer.peerId) return peer.lag;
  return Math.max(0, leader.lastIndex - peer.lastIndex) + peer.lag;
}

export function formatAge(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms / 100) / 10} s ago`;
  if (ms < 60_000) return `${Math.round(ms / 1_000)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}

function heartbeatText(peer: BoardPeer): string {
  if (peer.role === 'leader') return 'leads';
  if (peer.heartbeatAgeMs === null) return 'never';
  return formatAge(peer.heartbeatAgeMs);
}

function cell(label: string, content: string | Node, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.setAttribute('role', 'cell');
  td.dataset.label = label;
  if (className !== undefined) td.className = className;
  td.append(content);
  return td;
}

function renderRow(peer: BoardPeer, leader: BoardPeer | null): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.setAttribute('role', 'row');
  tr.dataset.testid = 'peer-row';
  tr.dataset.peerId = peer.peerId;
  tr.dataset.role = peer.role;
  tr.dataset.kind = peer.kind;
  if (peer.self) tr.dataset.self = 'true';
  const isSilent = silent(peer);
  if (isSilent) tr.dataset.silent = 'true';
  tr.className = `peer role-${peer.role}${peer.self ? ' self' : ''}${isSilent ? ' silent' : ''}`;

  const th = document.createElement('th');
  th.scope = 'row';
  th.setAttribute('role', 'rowheader');
  th.dataset.label = 'Peer';
  const id = document.createElement('span');
  id.className = 'peer-id';
  id.textContent = peer.peerId;
  th.append(id);
  if (peer.self) {
    const mark = document.createElement('span');
    mark.className = 'tag self-mark';
    mark.textContent = 'this tab';
    th.append(' ', mark);
  }
  if (isSilent) {
    const mark = document.createElement('span');
    mark.className = 'tag silent-mark';
    mark.textContent = `silent ${formatAge(peer.updatedAgeMs)}`;
    th.append(' ', mark);
  }

  const role = document.createElement('span');
  role.className = `role-badge role-${peer.role}`;
  role.dataset.testid = 'peer-role';
  const glyph = document.createElement('span');
  glyph.setAttribute('aria-hidden', 'true');
  glyph.textContent = ROLE_GLYPHS[peer.role];
  role.append(glyph, ` ${peer.role}`);
  const roleCell = cell('Role', role);
  // An operator ran the unsafe "recover from this peer" on it (controls.ts): say so beside its role.
  const recoveries = peer.unsafeRecoveries ?? 0;
  if (recoveries > 0) {
    const recovered = document.createElement('span');
    recovered.className = 'recovered-mark';
    recovered.dataset.testid = 'peer-recovered';
    recovered.textContent = recoveries === 1 ? ' (recovered, unsafe)' : ` (recovered ${recoveries}×, unsafe)`;
    roleCell.append(recovered);
  }

  tr.append(
    th,
    cell('Kind', peer.kind),
    roleCell,
    cell('Term', String(peer.term)),
    cell('Commit / applied', `${peer.commitIndex} / ${peer.appliedIndex}`),
    cell('Lag', String(lagOf(peer, leader))),
    cell('Sessions', String(peer.sessions)),
    cell('Heartbeat', heartbeatText(peer)),
  );
  return tr;
}
