/**
 * A closing page leaves its rooms at once (DESIGN.md "Sessions": a closing tab closes its sessions
 * at once and, on a leader, transfers leadership first). Installed by the browser platform entry,
 * so every app that imports meshkeeper gets it, not only our UI.
 *
 * `pagehide` is the last event a closing page reliably runs (unload is deprecated and skipped by
 * the back/forward cache); whatever it schedules — promises, timers, IndexedDB callbacks — may
 * never run. So the handler only sends: Peer.leaveNow puts its leaving notices and TimeoutNow on
 * the transport synchronously (network.ts leaveAllNow). Playwright's page.close() fires pagehide,
 * which e2e/handoff.spec.ts uses.
 *
 * A page hidden into the back/forward cache (`persisted`) leaves too: a cached page runs nothing,
 * so staying would only make its sessions expire and its leadership time out. Pages with an open
 * RTCPeerConnection are rarely cached by Chrome anyway; a page restored from the cache joins again
 * as a new peer.
 */

import { leaveAllNow } from '../client/network.js';

let installed = false;

/** Installs the pagehide handler once per page (later calls, and places without a window, do
 *  nothing). */
export function installLeaveOnPagehide(target: Pick<EventTarget, 'addEventListener'> | undefined = globalThis): void {
  if (installed || typeof target?.addEventListener !== 'function' || typeof document === 'undefined') return;
  installed = true;
  target.addEventListener('pagehide', () => leaveAllNow());
}
