/**
 * Controls that show the ensemble's behaviour (issue 8, "Controls"): open another tab of the app
 * (another peer of the same room, through the same relay), leave gracefully (keeper.close(): the
 * session closes through the log, so its ephemerals and lock nodes go at once everywhere, and the
 * peer leaves the room; a reload rejoins), and the quorum state in plain words for the page's
 * banner. No "recover from this peer" action yet: it needs a runtime API that does not exist.
 */

import type { KeeperStatus } from '../browser.js';

export interface QuorumLine {
  readonly quorum: boolean;
  readonly text: string;
}

/** The banner's words for this peer's status. */
export function quorumLine(status: Pick<KeeperStatus, 'quorum' | 'leaderId' | 'voters'> & Partial<Pick<KeeperStatus, 'votersShareDomain'>>): QuorumLine {
  if (!status.quorum) return { quorum: false, text: 'No quorum: writes will wait then fail; reads are local (they may be stale).' };
  const voters = status.voters.length;
  const majority = voters <= 1 ? 'its one voter has them' : `${Math.floor(voters / 2) + 1} of ${voters} voters have them`;
  // Slots of one browser profile share its machine and disk: say so, it is one failure domain.
  const shared = status.votersShareDomain === true ? ' Voters share one failure domain (one browser profile): open the room on another device or start an edge peer to spread them.' : '';
  return { quorum: true, text: `Quorum: writes commit through leader ${status.leaderId ?? '?'} once ${majority}.${shared}` };
}

/** The URL of another tab of this app: this page's, same room and relay (query and all). */
export function anotherTabUrl(href: string): string {
  const url = new URL(href);
  url.hash = '';
  return url.toString();
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text !== undefined) made.textContent = text;
  return made;
}

export interface ControlsOptions {
  /** This page's URL. */
  readonly href: string;
  readonly room: string;
  /** Leaves the room (stops the views, closes the Keeper). */
  readonly leave: () => Promise<void>;
}

export interface Controls {
  /** Shows the quorum state (the banner's words) in the panel too. */
  showQuorum(line: QuorumLine): void;
}

/** Fills `container` (a panel with its own heading) with the quorum state and the controls. */
export function mountControls(container: HTMLElement, options: ControlsOptions): Controls {
  // Not a live region: the page's banner announces the same words.
  const quorum = element('p', { class: 'banner', 'data-testid': 'controls-quorum', 'data-quorum': 'unknown' });
  const add = element('a', { href: anotherTabUrl(options.href), target: '_blank', rel: 'noopener', class: 'button', 'data-testid': 'add-tab' }, 'Add a tab');
  const addNote = element('p', { class: 'data-note' }, `Opens this app in a new tab: one more peer of room ${options.room}.`);
  const leave = element('button', { type: 'button', 'data-testid': 'leave', class: 'secondary' }, 'Leave gracefully');
  const leaveNote = element('p', { class: 'data-note' }, 'Closes this tab\'s session (its locks and ephemeral nodes go at once) and leaves the room; the other tabs carry on.');
  const outcome = element('p', { role: 'status', 'aria-live': 'polite', class: 'result', 'data-testid': 'leave-result' });
  container.append(quorum, add, addNote, leave, leaveNote, outcome);

  leave.addEventListener('click', () => {
    leave.disabled = true;
    outcome.textContent = 'Leaving…';
    options.leave().then(
      () => {
        outcome.replaceChildren(`This tab left room ${options.room}. `);
        quorum.textContent = 'This tab is no peer any more: it has no quorum state.';
        quorum.dataset.quorum = 'left';
        const rejoin = element('button', { type: 'button', 'data-testid': 'rejoin' }, 'Rejoin (reload)');
        rejoin.addEventListener('click', () => location.reload());
        outcome.append(rejoin);
        rejoin.focus();
      },
      (error: unknown) => {
        leave.disabled = false;
        outcome.textContent = `Leaving failed: ${error instanceof Error ? error.message : String(error)}`;
        outcome.classList.add('error');
      },
    );
  });

  return {
    showQuorum: (line) => {
      quorum.textContent = line.text;
      quorum.dataset.quorum = line.quorum ? 'yes' : 'no';
    },
  };
}
