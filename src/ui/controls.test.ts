// The controls' pure parts (the buttons run in e2e/playground.spec.ts): the banner's words with and
// without a quorum, "add a tab" keeping this page's room and relay query, and the unsafe recover's
// confirm and outcome words (the button runs in e2e/recover.spec.ts).
import { describe, expect, it } from 'vitest';
import { anotherTabUrl, quorumLine, RECOVER_CONFIRM_TEXT, recoveredText } from './controls.js';

describe('controls', () => {
  it('says plainly what no quorum means', () => {
    expect(quorumLine({ quorum: false, leaderId: null, voters: ['a', 'b', 'c'] })).toEqual({ quorum: false, text: 'No quorum: writes will wait then fail; reads are local (they may be stale).' });
    expect(quorumLine({ quorum: true, leaderId: 'b', voters: ['a', 'b', 'c'] }).text).toBe('Quorum: writes commit through leader b once 2 of 3 voters have them.');
    expect(quorumLine({ quorum: true, leaderId: 'a', voters: ['a'] }).text).toBe('Quorum: writes commit through leader a once its one voter has them.');
    expect(quorumLine({ quorum: true, leaderId: 'a~p', voters: ['a~p', 'b~p', 'c~p'], votersShareDomain: true }).text).toMatch(/Voters share one failure domain/);
    expect(quorumLine({ quorum: true, leaderId: 'a~p', voters: ['a~p', 'b~q', 'c'], votersShareDomain: false }).text).not.toMatch(/failure domain/);
  });

  it('another tab keeps the room and relay query', () => {
    expect(anotherTabUrl('http://127.0.0.1:8787/?room=r1&relay=none#x')).toBe('http://127.0.0.1:8787/?room=r1&relay=none');
  });

  it('the recover confirm says it is unsafe and what is lost; the outcome names what was kept and dropped', () => {
    expect(RECOVER_CONFIRM_TEXT).toMatch(/^UNSAFE/);
    expect(RECOVER_CONFIRM_TEXT).toMatch(/only voter/);
    expect(RECOVER_CONFIRM_TEXT).toMatch(/not applied are LOST/);
    expect(recoveredText({ appliedIndex: 12, droppedEntries: 1, term: 7 })).toBe('Recovered: this peer is the only voter (term 7), with its data up to index 12; 1 entry it had not applied was dropped.');
    expect(recoveredText({ appliedIndex: 3, droppedEntries: 0, term: 2 })).toMatch(/0 entries it had not applied were dropped/);
  });
});
