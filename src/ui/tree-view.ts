/**
 * The tree browser (issue 8): the znode tree with lazy children (expanding a node reads its
 * children with a child watch, which reloads them when they change), a Stat panel with every Stat
 * field and a data viewer (text, JSON pretty-printed, hex) for the selected node, and a live log of
 * watch events (one persistent recursive watch on '/'), newest first, at most EVENT_LOG_MAX.
 *
 * Accessible: a `role="tree"` of `treeitem`s with a roving tabindex; Up/Down move, Right expands or
 * moves to the first child, Left collapses or moves to the parent, Home/End, Enter/Space select
 * (and toggle). Every control is labelled; the layout stacks below 40rem (style.css).
 */

import type { AddWatchMode, DataAndStat, Stat, WatchedEvent, Watcher } from '../browser.js';

/** The event log keeps at most this many events (older ones drop off the end). */
export const EVENT_LOG_MAX = 100;
/** A node shows at most this many children (a note says how many more there are). */
export const CHILDREN_MAX = 500;
/** Event bursts redraw the event log and refresh the expanded nodes and the selected node once,
 *  this many ms after the first event: at most 4 redraws a second however fast the tree changes.
 *  Profiled (scratch of issue 9): redrawing the 100-entry log on every watch event made each tab
 *  of a 3-tab ensemble spend ~15 ms of main thread (mostly style and layout) per write, which was
 *  most of a tab's ~18 ms per sequential write on 2 cores. */
export const REFRESH_DELAY_MS = 250;

export type DataFormat = 'text' | 'json' | 'hex';

/** What the view reads: a Keeper, or anything shaped like one. */
export interface TreeSource {
  getChildren(path: string, options?: { watch?: Watcher }): Promise<string[]>;
  getData(path: string): Promise<DataAndStat>;
  exists(path: string): Promise<Stat | null>;
  addWatch(path: string, mode: AddWatchMode, watcher: Watcher): Promise<void>;
  removeWatches(path: string, watcher?: Watcher): Promise<void>;
}

export interface TreeView {
  /** Reloads every expanded node's children and the selected node. */
  refresh(): Promise<void>;
  destroy(): void;
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function parentPath(path: string): string {
  if (path === '/') return '/';
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** The Stat as label/value rows, every field; ctime and mtime as ISO dates. */
export function statRows(stat: Stat): Array<[string, string]> {
  const date = (ms: number): string => (Number.isFinite(ms) ? `${new Date(ms).toISOString()} (${ms})` : String(ms));
  return [
    ['czxid', String(stat.czxid)],
    ['mzxid', String(stat.mzxid)],
    ['pzxid', String(stat.pzxid)],
    ['ctime', date(stat.ctime)],
    ['mtime', date(stat.mtime)],
    ['version', String(stat.version)],
    ['cversion', String(stat.cversion)],
    ['aversion', String(stat.aversion)],
    ['ephemeralOwner', stat.ephemeralOwner === null ? 'none' : String(stat.ephemeralOwner)],
    ['dataLength', String(stat.dataLength)],
    ['numChildren', String(stat.numChildren)],
  ];
}

/** The bytes shown as `format`; JSON that does not parse (or bytes that are not UTF-8) says so. */
export function formatData(data: Uint8Array, format: DataFormat): { text: string; note: string } {
  if (format === 'hex') {
    const lines: string[] = [];
    for (let at = 0; at < data.length; at += 16) {
      const row = [...data.subarray(at, at + 16)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
      lines.push(`${at.toString(16).padStart(8, '0')}  ${row}`);
    }
    return { text: lines.join('\n'), note: data.length === 0 ? 'no data' : `${data.length} bytes` };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return { text: new TextDecoder().decode(data), note: 'not valid UTF-8: try hex' };
  }
  if (format === 'json') {
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2), note: 'JSON' };
    } catch {
      return { text, note: 'not JSON: shown as text' };
    }
  }
  return { text, note: data.length === 0 ? 'no data' : '' };
}

/** The format a node's data is first shown in: JSON when it parses as an object or array, else text. */
export function defaultFormat(data: Uint8Array): DataFormat {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
    return typeof parsed === 'object' && parsed !== null ? 'json' : 'text';
  } catch {
    return 'text';
  }
}

export interface LoggedEvent {
  readonly at: number;
  readonly type: WatchedEvent['type'];
  readonly path: string;
}

/** The newest-first, bounded list of watch events. */
export class EventLog {
  readonly #max: number;
  #entries: LoggedEvent[] = [];
  constructor(max = EVENT_LOG_MAX) {
    this.#max = max;
  }
  add(event: WatchedEvent, at = Date.now()): void {
    this.#entries.unshift({ at, type: event.type, path: event.path });
    if (this.#entries.length > this.#max) this.#entries.length = this.#max;
  }
  entries(): readonly LoggedEvent[] {
    return this.#entries;
  }
}

interface NodeState {
  expanded: boolean;
  /** null: not loaded yet. */
  children: string[] | null;
  /** From exists() when listed: 0 means a leaf. */
  numChildren: number;
  watcher: Watcher | null;
}

function isNoNode(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'NONODE';
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text !== undefined) made.textContent = text;
  return made;
}

/** Fills `container` (a panel with its own heading, id `labelledBy`) with the browser and the log. */
export function mountTreeView(container: HTMLElement, source: TreeSource, labelledBy: string): TreeView {
  const layout = element('div', { class: 'tree-layout' });
  const tree = element('ul', { role: 'tree', 'aria-labelledby': labelledBy, 'data-testid': 'tree', class: 'tree' });
  const details = element('div', { class: 'node-details', 'data-testid': 'node-details' });
  const detailsTitle = element('h3', { id: 'node-title' }, 'No node selected');
  const stat = element('dl', { class: 'facts', 'data-testid': 'stat', 'aria-labelledby': 'node-title' });
  const formatLabel = element('label', { class: 'data-format' }, 'View the value as ');
  const format = element('select', { 'data-testid': 'data-format' });
  for (const [value, label] of [['text', 'Text'], ['json', 'JSON'], ['hex', 'Hex']] as const) format.append(element('option', { value }, label));
  formatLabel.append(format);
  const note = element('p', { class: 'data-note', 'data-testid': 'data-note' });
  const data = element('pre', { class: 'data-view', 'data-testid': 'data-view', tabindex: '0', 'aria-label': 'Value of the selected node' });
  details.append(detailsTitle, stat, formatLabel, note, data);
  const logTitle = element('h3', { id: 'event-log-title' }, `Watch events (newest first, last ${EVENT_LOG_MAX})`);
  const logList = element('ol', { class: 'event-log', 'data-testid': 'event-log', 'aria-labelledby': 'event-log-title', tabindex: '0' });
  const logBox = element('div', { class: 'event-log-box' });
  logBox.append(logTitle, logList);
  layout.append(tree, details);
  container.append(layout, logBox);

  const nodes = new Map<string, NodeState>();
  const log = new EventLog();
  let selected: string | null = null;
  let focused = '/';
  let selectedData: Uint8Array | null = null;
  let destroyed = false;
  let pending: ReturnType<typeof setTimeout> | null = null;

  const state = (path: string): NodeState => {
    let found = nodes.get(path);
    if (found === undefined) {
      found = { expanded: false, children: null, numChildren: path === '/' ? 1 : 0, watcher: null };
      nodes.set(path, found);
    }
    return found;
  };

  const warn = (error: unknown): void => {
    if (!destroyed) console.warn('meshkeeper: tree view read failed', error);
  };

  async function loadChildren(path: string): Promise<void> {
    const node = state(path);
    // One child watch per node: it reloads the children while the node stays expanded.
    node.watcher ??= () => {
      if (!destroyed && state(path).expanded) loadChildren(path).then(render, warn);
    };
    try {
      const names = await source.getChildren(path, { watch: node.watcher });
      const listed = names.slice(0, CHILDREN_MAX);
      const stats = await Promise.all(listed.map((name) => source.exists(childPath(path, name))));
      listed.forEach((name, i) => {
        state(childPath(path, name)).numChildren = stats[i]?.numChildren ?? 0;
      });
      node.children = names;
      node.numChildren = names.length;
    } catch (error) {
      if (!isNoNode(error)) throw error;
      node.children = [];
      node.expanded = false;
    }
  }

  function visible(): string[] {
    const out: string[] = [];
    const visit = (path: string): void => {
      out.push(path);
      const node = state(path);
      if (node.expanded && node.children !== null) for (const name of node.children.slice(0, CHILDREN_MAX)) visit(childPath(path, name));
    };
    visit('/');
    return out;
  }

  function item(path: string, level: number): HTMLLIElement {
    const node = state(path);
    const li = element('li', { role: 'treeitem', 'aria-level': String(level), 'aria-selected': String(path === selected), 'data-path': path });
    li.tabIndex = path === focused ? 0 : -1;
    const hasChildren = node.numChildren > 0 || (node.children !== null && node.children.length > 0);
    if (hasChildren) li.setAttribute('aria-expanded', String(node.expanded));
    const row = element('span', { class: 'tree-row' });
    const twisty = element('span', { class: 'twisty', 'aria-hidden': 'true' }, hasChildren ? (node.expanded ? '▾' : '▸') : '·');
    const label = path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
    const name = element('span', { class: 'tree-name' }, label);
    // Named by its own label: the default name would take in every descendant's text.
    li.setAttribute('aria-label', path === '/' ? '/ (root)' : label);
    row.append(twisty, name);
    li.append(row);
    if (node.expanded && node.children !== null) {
      const group = element('ul', { role: 'group' });
      for (const child of node.children.slice(0, CHILDREN_MAX)) group.append(item(childPath(path, child), level + 1));
      if (node.children.length > CHILDREN_MAX) group.append(element('li', { role: 'none', class: 'tree-more' }, `… ${node.children.length - CHILDREN_MAX} more not shown`));
      li.append(group);
    }
    return li;
  }

  function render(): void {
    if (destroyed) return;
    const hadFocus = tree.contains(document.activeElement);
    if (!visible().includes(focused)) focused = '/';
    tree.replaceChildren(item('/', 1));
    if (hadFocus) tree.querySelector<HTMLElement>(`[role="treeitem"][tabindex="0"]`)?.focus();
  }

  function showData(): void {
    if (selectedData === null) {
      data.textContent = '';
      note.textContent = '';
      return;
    }
    const shown = formatData(selectedData, format.value as DataFormat);
    data.textContent = shown.text;
    note.textContent = shown.note;
  }

  async function loadSelected(fresh: boolean): Promise<void> {
    const path = selected;
    if (path === null) return;
    try {
      const read = await source.getData(path);
      if (path !== selected || destroyed) return;
      detailsTitle.textContent = `Node ${path}`;
      stat.replaceChildren(...statRows(read.stat).flatMap(([label, value]) => [element('dt', {}, label), element('dd', { 'data-field': label }, value)]));
      selectedData = read.data;
      if (fresh) format.value = defaultFormat(read.data);
      showData();
    } catch (error) {
      if (!isNoNode(error)) throw error;
      if (path !== selected) return;
      detailsTitle.textContent = `Node ${path} (deleted)`;
      stat.replaceChildren();
      selectedData = null;
      showData();
    }
  }

  function select(path: string): void {
    selected = path;
    focused = path;
    render();
    loadSelected(true).catch(warn);
  }

  async function toggle(path: string, expand: boolean): Promise<void> {
    const node = state(path);
    if (expand === node.expanded) return;
    node.expanded = expand;
    if (expand) await loadChildren(path);
    render();
  }

  tree.addEventListener('click', (event) => {
    const li = (event.target as Element).closest<HTMLElement>('[role="treeitem"]');
    const path = li?.dataset.path;
    if (path === undefined) return;
    const onTwisty = (event.target as Element).closest('.twisty') !== null;
    if (!onTwisty) select(path);
    if (li!.hasAttribute('aria-expanded') && (onTwisty || !state(path).expanded)) toggle(path, !state(path).expanded).catch(warn);
  });

  // Focus that lands on an item by any means (click, script) makes it the keyboard's current item.
  tree.addEventListener('focusin', (event) => {
    const li = (event.target as Element).closest<HTMLElement>('[role="treeitem"]');
    const path = li?.dataset.path;
    if (path === undefined || path === focused) return;
    focused = path;
    for (const other of tree.querySelectorAll<HTMLElement>('[role="treeitem"]')) other.tabIndex = other === li ? 0 : -1;
  });

  tree.addEventListener('keydown', (event) => {
    const order = visible();
    const at = order.indexOf(focused);
    const node = state(focused);
    const expandable = node.numChildren > 0 || (node.children?.length ?? 0) > 0;
    const move = (path: string | undefined): void => {
      if (path === undefined) return;
      focused = path;
      render();
      tree.querySelector<HTMLElement>('[role="treeitem"][tabindex="0"]')?.focus();
    };
    switch (event.key) {
      case 'ArrowDown':
        move(order[at + 1]);
        break;
      case 'ArrowUp':
        move(order[at - 1]);
        break;
      case 'Home':
        move(order[0]);
        break;
      case 'End':
        move(order[order.length - 1]);
        break;
      case 'ArrowRight':
        if (expandable && !node.expanded) toggle(focused, true).catch(warn);
        else if (node.expanded && node.children !== null && node.children.length > 0) move(childPath(focused, node.children[0]!));
        break;
      case 'ArrowLeft':
        if (node.expanded) toggle(focused, false).catch(warn);
        else if (focused !== '/') move(parentPath(focused));
        break;
      case 'Enter':
      case ' ':
        select(focused);
        if (expandable) toggle(focused, !node.expanded).catch(warn);
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  format.addEventListener('change', showData);

  function renderLog(): void {
    logList.replaceChildren(
      ...log.entries().map((entry) => {
        const li = element('li', { 'data-type': entry.type, 'data-path': entry.path });
        li.append(element('time', { datetime: new Date(entry.at).toISOString() }, new Date(entry.at).toLocaleTimeString()), ` ${entry.type} `, element('code', {}, entry.path));
        return li;
      }),
    );
  }

  const onEvent: Watcher = (event) => {
    if (destroyed) return;
    log.add(event);
    if (pending === null) {
      pending = setTimeout(() => {
        pending = null;
        renderLog();
        refresh().catch(warn);
      }, REFRESH_DELAY_MS);
    }
  };

  async function refresh(): Promise<void> {
    for (const [path, node] of nodes) if (node.expanded) await loadChildren(path);
    render();
    await loadSelected(false);
  }

  render();
  toggle('/', true).catch(warn);
  source.addWatch('/', 'persistent_recursive', onEvent).catch(warn);

  return {
    refresh,
    destroy: () => {
      destroyed = true;
      if (pending !== null) clearTimeout(pending);
      source.removeWatches('/', onEvent).catch(() => undefined);
    },
  };
}
