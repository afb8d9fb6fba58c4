/**
 * Reproduces what the full benchmark found (2026-11-25): a Node ensemble whose tree holds ~15k+
 * znodes loses its leader (SIGKILL), a survivor's write succeeds, but the replacement peer that
 * joins next gets no session: `Keeper.open` fails within ~1 s with "join: the serving peer did not
 * open a session (CONNECTIONLOSS)". With 5,000 znodes the same steps work. Cause: the joining
 * peer's createSession was in flight when it installed the ensemble's snapshot, which fails the
 * writes in flight; fixed by Keeper.join trying again (OPEN_SESSION_ATTEMPTS_MAX). Kept as a check:
 * at 36,000 znodes the replacement joins and the ensemble has three voters again in ~1.7 s.
 *
 *   npx tsx bench/join-big-tree.ts [znodes=36000]
 */
import { startRelay } from '../src/relay/server.js';
import { NodeSystem } from './systems.js';

const count = Number(process.argv[2] ?? 36_000);
// A fresh relay for a fresh room: no members to wait for (settling grace off).
const relay = await startRelay({ host: '127.0.0.1', port: 0, settlingMs: 0 });
const system = await NodeSystem.start(relay.url, `join-big-tree-${Date.now()}`);
try {
  await system.ensure(['/big']);
  const made = await system.ops({ kind: 'create', prefix: '/big/n-', count, inFlight: 64, paths: 0, deadlineMs: 120_000, dataBytes: 16 });
  console.log(`created ${made.ops} znodes (${made.errors} errors)`);
  const started = performance.now();
  try {
    const ms = await system.failover('/after-kill-', 30_000);
    console.log(`leader killed → write ok in ${ms.toFixed(0)} ms; replacement joined, three voters again after ${(performance.now() - started).toFixed(0)} ms`);
  } catch (error) {
    console.log(`failed after ${(performance.now() - started).toFixed(0)} ms: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
} finally {
  await system.close();
  await relay.close();
}
process.exit(process.exitCode ?? 0);
