/**
 * The meshkeeper app. Today: the local data model in this tab (a znode console over the pure core's
 * DataTree). The peers and UI issues grow it into the cluster dashboard.
 */
import './style.css';

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
    </section>
  </main>
`;
