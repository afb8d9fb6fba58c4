// Proves the peer simulator's runtime checkers can fail, and that a seed replays exactly.
// (1) With the test-only runtime mutation `resultBeforeWatchEvents` (src/peer/host.ts: a write is
// answered before the watch events its entry fired are queued) switched on, seeds of the default
// mix run until a safety checker reports it; the watch checker must within SEEDS_MAX seeds.
// (2) The same seed run twice gives the same trace digest and figures (every delivered message,
// persist batch, role change, fault, client event and grant is a trace line), a passing seed and a
// failing one alike. SEED=N replays the hunt from seed N; the one seed: the printed command.
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import { runPeerSeed } from './peer-sim.js';
import { peerProfileForSeed } from './profiles.js';
import { describePeerHunt, huntRuntimeMutation } from './runner.js';

const SEEDS_MAX = 20;

describe('the runtime mutation resultBeforeWatchEvents', () => {
  it(`is caught by the watch checker within ${SEEDS_MAX} seeds`, () => {
    const firstSeed = testSeed() % 1_000_000_000;
    const hunt = huntRuntimeMutation({ mutation: 'resultBeforeWatchEvents', firstSeed, seedsMax: SEEDS_MAX });
    const text = describePeerHunt('resultBeforeWatchEvents', firstSeed, hunt);
    console.info(text);
    expect(hunt.caught, text).not.toBeNull();
    expect(hunt.caught?.check).toBe('watches');
    // Replays to the same failure.
    const caught = hunt.caught as NonNullable<typeof hunt.caught>;
    const again = runPeerSeed({ seed: caught.seed, profile: peerProfileForSeed(caught.seed), mutation: 'resultBeforeWatchEvents', traceTailLines: 40 });
    expect(again.digest).toBe(caught.digest);
    expect(again.message).toBe(caught.message);
  });
});

describe('replaying a peer seed', () => {
  it('gives an identical trace digest and figures', () => {
    const seed = testSeed() % 1_000_000_000;
    console.info(`determinism: peer seed ${seed} (SEED=${seed} replays)`);
    const profile = peerProfileForSeed(seed);
    const first = runPeerSeed({ seed, profile });
    const second = runPeerSeed({ seed, profile });
    expect(first.verdict, first.message).toBe('pass');
    expect(second.digest).toBe(first.digest);
    expect(second.figures).toEqual(first.figures);
    const other = runPeerSeed({ seed: seed + 4, profile });
    expect(other.digest).not.toBe(first.digest);
  });
});
