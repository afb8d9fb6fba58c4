/**
 * The meshkeeper app. Today: the local data model in this tab — a znode console over the pure
 * core's DataTree, with ZooKeeper's paths, modes, versions, Stat and error codes. The peers and UI
 * issues grow it into the cluster dashboard.
 */
import './style.css';
import { CREATE_MODES, type CreateMode, type WriteResult } from '../core/tree/index.js';
import { ErrorCode } from '../core/errors.js';
import { LocalTree, type NodeView } from './local-tree.js';

const app = document.querySelector<HTMLDivElement>('#app');
if (app === null) throw new Error('index.html has no #app');

app.innerHTML = `
  <header class="top">
    <h1>meshkeeper</h1>
    <p class="tagline">ZooKeeper's coordination model for browser tabs and edge peers.</p>
  </header>
  <main>
    <section aria-labelledby="status-title" class="panel">
      <h2 id="status-title">This tab</h2>
      <p data-testid="mode">Standalone: this tab runs the data model on its own (no ensemble yet).</p>
      <p>Last zxid: <output data-testid="zxid">0</output></p>
    </section>
    <section aria-labelledby="write-title" class="panel">
      <h2 id="write-title">Write</h2>
      <form id="write" class="form">
        <label>Path <input name="path" value="/app" required autocomplete="off" spellcheck="false" /></label>
        <label>Data <input name="data" value="hello" autocomplete="off" spellcheck="false" /></label>
        <label>Mode <select name="mode" aria-label="Mode">${CREATE_MODES.map((m) => `<option>${m}</option>`).join('')}</select></label>
        <label>TTL (ms, TTL modes) <input name="ttl" type="number" min="1" value="60000" /></label>
        <label>Version (-1 = any) <input name="version" type="number" value="-1" /></label>
        <div class="buttons">
          <button name="action" value="create">Create</button>
          <button name="action" value="set">Set data</button>
          <button name="action" value="delete">Delete</button>
        </div>
      </form>
      <p role="status" aria-live="polite" data-testid="result" class="result"></p>
    </section>
    <section aria-labelledby="tree-title" class="panel wide">
      <h2 id="tree-title">Znodes</h2>
      <table data-testid="tree">
        <thead><tr><th scope="col">path</th><th scope="col">data</th><th scope="col">czxid</th><th scope="col">mzxid</th><th scope="col">pzxid</th>
          <th scope="col">version</th><th scope="col">cversion</th><th scope="col">children</th><th scope="col">ephemeral</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </main>
`;

const tree = new LocalTree();
const form = app.querySelector<HTMLFormElement>('#write');
const result = app.querySelector<HTMLParagraphElement>('[data-testid="result"]');
const body = app.querySelector<HTMLTableSectionElement>('[data-testid="tree"] tbody');
const zxid = app.querySelector<HTMLOutputElement>('[data-testid="zxid"]');
if (form === null || result === null || body === null || zxid === null) throw new Error('app markup is incomplete');

function row(node: NodeView): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const cells = [node.path, node.data, node.stat.czxid, node.stat.mzxid, node.stat.pzxid, node.stat.version,
    node.stat.cversion, node.stat.numChildren, node.stat.ephemeralOwner ?? ''];
  for (const value of cells) {
    const td = document.createElement('td');
    td.textContent = String(value);
    tr.append(td);
  }
  tr.dataset.path = node.path;
  return tr;
}

function render(): void {
  body!.replaceChildren(...tree.walk().map(row));
  zxid!.textContent = String(tree.lastZxid);
}

function describe(outcome: WriteResult): string {
  if (!outcome.ok) return `${outcome.code} (${ErrorCode[outcome.code]})`;
  if (outcome.op === 'create') return `created ${outcome.path}`;
  return `${outcome.op} ok`;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const fields = new FormData(form);
  const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
  const path = String(fields.get('path') ?? '');
  const data = String(fields.get('data') ?? '');
  const version = Number(fields.get('version') ?? -1);
  const mode = String(fields.get('mode')) as CreateMode;
  const ttl = mode.endsWith('_ttl') ? Number(fields.get('ttl')) : undefined;
  let outcome: WriteResult;
  switch (submitter?.value) {
    case 'set': outcome = tree.setData(path, data, version); break;
    case 'delete': outcome = tree.delete(path, version); break;
    default: outcome = tree.create(path, data, mode, ttl);
  }
  result!.textContent = describe(outcome);
  result!.classList.toggle('error', !outcome.ok);
  render();
});

render();
