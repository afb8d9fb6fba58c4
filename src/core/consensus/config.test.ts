// Proves the single-server change rules (dissertation §4.1, §4.2.1): add a learner, promote a
// learner, demote a voter, remove a member; never leave no voter; configs stay sorted, disjoint
// and within CONFIG_PEERS_MAX; a config entry decodes only if its config matches its change.

import { describe, expect, it } from 'vitest';
import { CONFIG_PEERS_MAX, PEER_ID_BYTES_MAX } from '../limits.js';
import { applyConfigChange, configProblem, decodeConfigEntry, encodeConfigEntry, makeConfig } from './config.js';
import type { Config, ConfigChange } from './types.js';

function apply(config: Config, change: ConfigChange): Config | string {
  const result = applyConfigChange(config, change);
  return result.ok ? result.config : result.error;
}

describe('applyConfigChange', () => {
  const base = makeConfig(['1', '2'], ['3']);

  it('applies each kind of change to the right member', () => {
    expect(apply(base, { type: 'add-learner', peer: '4' })).toEqual(makeConfig(['1', '2'], ['3', '4']));
    expect(apply(base, { type: 'promote', peer: '3' })).toEqual(makeConfig(['1', '2', '3']));
    expect(apply(base, { type: 'demote', peer: '2' })).toEqual(makeConfig(['1'], ['2', '3']));
    expect(apply(base, { type: 'remove', peer: '3' })).toEqual(makeConfig(['1', '2']));
    expect(apply(base, { type: 'remove', peer: '1' })).toEqual(makeConfig(['2'], ['3']));
  });

  it('refuses changes that do not apply', () => {
    expect(apply(base, { type: 'add-learner', peer: '1' })).toMatch(/already a member/);
    expect(apply(base, { type: 'promote', peer: '1' })).toMatch(/not a learner/);
    expect(apply(base, { type: 'demote', peer: '3' })).toMatch(/not a voter/);
    expect(apply(base, { type: 'remove', peer: '9' })).toMatch(/not a member/);
    expect(apply(makeConfig(['1']), { type: 'remove', peer: '1' })).toMatch(/no voter/);
    expect(apply(makeConfig(['1']), { type: 'demote', peer: '1' })).toMatch(/no voter/);
    expect(apply(base, { type: 'add-learner', peer: '' })).toMatch(/empty/);
    expect(apply(base, { type: 'add-learner', peer: 'x'.repeat(PEER_ID_BYTES_MAX + 1) })).toMatch(/longer/);
  });

  it('caps the number of members', () => {
    const full = makeConfig(['v'], Array.from({ length: CONFIG_PEERS_MAX - 1 }, (_, i) => `l${i}`));
    expect(configProblem(full)).toBeNull();
    expect(apply(full, { type: 'add-learner', peer: 'one-more' })).toMatch(/more than/);
  });
});

describe('config entries', () => {
  it('round-trip, and decode only when the config matches the change', () => {
    const config = makeConfig(['1', '2'], ['3']);
    const entry = { change: { type: 'add-learner' as const, peer: '3' }, config };
    const decoded = decodeConfigEntry(encodeConfigEntry(entry));
    expect(decoded.ok && decoded.value).toEqual(entry);
    expect(decodeConfigEntry(encodeConfigEntry({ change: { type: 'promote', peer: '3' }, config })).ok).toBe(false);
    expect(decodeConfigEntry(encodeConfigEntry({ change: { type: 'remove', peer: '2' }, config })).ok).toBe(false);
    expect(decodeConfigEntry(new Uint8Array([7])).ok).toBe(false);
  });

  it('rejects unsorted or overlapping configs', () => {
    expect(configProblem({ voters: ['2', '1'], learners: [] })).toMatch(/sorted/);
    expect(configProblem({ voters: ['1'], learners: ['1'] })).toMatch(/both/);
    expect(configProblem({ voters: ['1', '1'], learners: [] })).toMatch(/sorted/);
  });
});
