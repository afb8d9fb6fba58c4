/**
 * The browser side of e2e/api-suite.spec.ts: bundled by Vite into a page of its own (the app's
 * page, src/ui, is not touched), it makes the tab a real peer of a room — Keeper.join over the
 * relay with IndexedDB storage, from the package's browser entry — and runs API suite cases in it:
 *
 *   page URL ?relay=ws://…&room=NAME
 *   window.keeper                   the tab's Keeper (holds the tab's peer in the room)
 *   window.apiSuiteJoined           resolves once joined (rejects with the join's error)
 *   window.runApiCase(name)         runs one case of API_CASES; resolves with its outcome
 *
 * Every session of a case is another Keeper.join of the same room in this tab: the Keepers of one
 * tab share the tab's peer, so a case's sessions are served by this tab's peer, which forwards
 * writes to the ensemble's leader (another tab, or this one).
 */

import { Keeper } from '../browser.js';
import { caseNamed, runApiCase, type Connect } from './api-suite.js';

export interface ApiCaseOutcome {
  name: string;
  /** null when the case passed; else the failure's message and stack. */
  error: string | null;
  durationMs: number;
}

declare global {
  interface Window {
    keeper?: Keeper;
    apiSuiteJoined?: Promise<void>;
    runApiCase?(name: string): Promise<ApiCaseOutcome>;
  }
}

const params = new URLSearchParams(location.search);
const relay = params.get('relay');
const room = params.get('room');

const join = (): Promise<Keeper> => {
  if (relay === null || room === null) throw new Error('the page needs ?relay= and ?room=');
  return Keeper.join({ relay, room, storage: 'indexeddb' });
};

const connect: Connect = async () => {
  const keeper = await join();
  return { keeper, connectAnother: join, cleanup: () => keeper.close() };
};

window.apiSuiteJoined = join().then((keeper) => {
  window.keeper = keeper;
});
// The test reads the rejection through apiSuiteJoined; do not report it as unhandled as well.
window.apiSuiteJoined.catch(() => undefined);

window.runApiCase = async (name) => {
  const started = performance.now();
  try {
    await runApiCase(caseNamed(name), connect);
    return { name, error: null, durationMs: performance.now() - started };
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    return { name, error: text, durationMs: performance.now() - started };
  }
};
