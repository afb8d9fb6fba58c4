// The cluster view's summary (pure; the DOM side runs in e2e/dashboard.spec.ts): the leader is the
// live one of the highest term, voters come from its configuration, silent peers do not count as
// up, and "quorum" needs a leader and a majority of voters up.
import { describe, expect, it } from 'vitest';
import type { BoardPeer, KeeperStatus } from '../browser.js';
import { formatAge, SILENT_AFTER_MS, summarize } from './cluster-view.js';

function peer(peerId: string, fields: Partial<BoardPeer> = {}): BoardPeer {
  return {
    peerId, kind: 'tab', role: 'follower', term: 1, leaderId: 'a', commitIndex: 1, appliedIndex: 1, lastIndex: 1, lag: 0,
    sessions: 0, quorum: true, voters: ['a', 'b', 'c'], observers: 0, heartbeatAgeMs: 100, updatedAgeMs: 100, self: false, ...fields,
  };
}

const own: KeeperStatus = {
  peerId: 'a', role: 'follower', term: 1, leaderId: null, commitIndex: 1, appliedIndex: 1, voters: ['a', 'b', 'c'], observers: [], quorum: false, votersShareDomain: false,
};

describe('cluster view summary', () => {
  it('three voters up with a leader: quorum', () => {
    const facts = summarize([peer('a', { self: true }), peer('b', { role: 'leader' }), peer('c')], own);
    expect(facts).toMatchObject({ quorum: true, up: 3, needed: 2 });
    expect(facts.leader?.peerId).toBe('b');
  });

  it('silent voters do not count: one of three up is no quorum', () => {
    const gone = { updatedAgeMs: SILENT_AFTER_MS + 1 };
    const facts = summarize([peer('a', { role: 'leader', self: true }), peer('b', gone), peer('c', gone)], own);
    expect(facts).toMatchObject({ quorum: false, up: 1, needed: 2 });
  });

  it('no leader on the board: no quorum, voters from this peer', () => {
    const facts = summarize([peer('a', { self: true, voters: ['a', 'b', 'c', 'd', 'e'] }), peer('b', { role: 'candidate' })], own);
    expect(facts).toMatchObject({ quorum: false, leader: null, needed: 3 });
    expect(facts.voters).toHaveLength(5);
  });

  it('of two leaders (a stale one not yet demoted) the higher term is shown', () => {
    const facts = summarize([peer('a', { self: true }), peer('b', { role: 'leader', term: 2 }), peer('c', { role: 'leader', term: 3 })], own);
    expect(facts.leader?.peerId).toBe('c');
  });

  it('ages read naturally', () => {
    expect(formatAge(340)).toBe('0.3 s ago');
    expect(formatAge(12_400)).toBe('12 s ago');
    expect(formatAge(125_000)).toBe('2 min ago');
  });
});
