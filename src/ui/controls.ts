/**
 * Controls that show the ensemble's behaviour (issue 8, "Controls"): open another tab of the app
 * (another peer of the same room, through the same relay), leave gracefully (keeper.close(): the
 * session closes through the log, so its ephemerals and lock nodes go at once everywhere, and the
 * peer leaves the room; a reload rejoins), the quorum state in plain words for the page's
 * banner, and the operator's unsafe "recover from this peer" (keeper.unsafeRecoverFromThisPeer:
 * this peer becomes the sole voter, keeping what it applied). That button is enabled only while
 * this peer has no quorum, and acts only after a confirm that says what can be lost.
 */

import type { KeeperStatus, UnsafeRecoverSummary } from '../browser.js';

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

/** What the recover button's confirm says: what the action does and what it can lose. */
export const RECOVER_CONFIRM_TEXT =
  'UNSAFE: recover from this peer?\n\n' +
  'This peer becomes the only voter of a new configuration and keeps only the data it has applied. ' +
  'Writes the missing peers acknowledged that this peer has not applied are LOST for good. ' +
  'Peers that come back rejoin as observers, drop what this peer lacks, and are promoted again.\n\n' +
  'Do this only when a majority of voters is gone for good.';

/** The words for a finished recovery (keeper.unsafeRecoverFromThisPeer's summary). */
export function recoveredText(summary: UnsafeRecoverSummary): string {
  const dropped = summary.droppedEntries === 1 ? '1 entry it had not applied was dropped' : `${summary.droppedEntries} entries it had not applied were dropped`;
  return `Recovered: this peer is the only voter (term ${summary.term}), with its data up to index ${summary.appliedIndex}; ${dropped}.`;
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
  /** The unsafe recovery (keeper.unsafeRecoverFromThisPeer). */
  readonly recover: () => Promise<UnsafeRecoverSummary>;
  /** Asks the operator to confirm `message` (window.confirm by default). */
  readonly confirm?: (message: string) => boolean;
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
  const leaveNote = element('p', { class: 'data-note' }, 'Closes this tab\'s session (its locks and ephemeral nodes go at once) and lets its peer go: another open tab of this browser takes it over, or it leaves the room.');
  const outcome = element('p', { role: 'status', 'aria-live': 'polite', class: 'result', 'data-testid': 'leave-result' });
  const recover = element('button', { type: 'button', 'data-testid': 'recover', class: 'danger', 'aria-describedby': 'recover-note' }, 'Recover from this peer (unsafe)');
  recover.disabled = true;
  const recoverNote = element(
    'p',
    { class: 'data-note', id: 'recover-note' },
    'Only when a majority of voters is gone for good (enabled without a quorum): this peer becomes the only voter and keeps the data it has applied; writes it had not applied are lost.',
  );
  const recovered = element('p', { role: 'status', 'aria-live': 'polite', class: 'result', 'data-testid': 'recover-result' });
  container.append(quorum, add, addNote, leave, leaveNote, outcome, recover, recoverNote, recovered);
  let quorumNow = true;
  let recovering = false;
  const confirm = options.confirm ?? ((message: string) => window.confirm(message));

  recover.addEventListener('click', () => {
    if (quorumNow || recovering || !confirm(RECOVER_CONFIRM_TEXT)) return;
    recovering = true;
    recover.disabled = true;
    recovered.classList.remove('error');
    recovered.textContent = 'Recovering…';
    options.recover().then(
      (summary) => {
        recovering = false;
        recovered.textContent = recoveredText(summary);
      },
      (error: unknown) => {
        recovering = false;
        recover.disabled = quorumNow;
        recovered.textContent = `Recovery failed: ${error instanceof Error ? error.message : String(error)}`;
        recovered.classList.add('error');
      },
    );
  });

  leave.addEventListener('click', () => {
    leave.disabled = true;
    outcome.textContent = 'Leaving…';
    options.leave().then(
      () => {
        outcome.replaceChildren(`This tab left room ${options.room}. `);
        quorum.textContent = 'This tab is no peer any more: it has no quorum state.';
        quorum.dataset.quorum = 'left';
        quorumNow = true;
        recover.disabled = true;
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
      if (quorum.dataset.quorum === 'left') return;
      quorum.textContent = line.text;
      quorum.dataset.quorum = line.quorum ? 'yes' : 'no';
      quorumNow = line.quorum;
      recover.disabled = line.quorum || recovering;
    },
  };
}
