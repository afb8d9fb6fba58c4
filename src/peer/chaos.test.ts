// Proves, on seeded random runs (testRepeat style: each round's seed is printed on failure), that
// the peer runtime keeps its guarantees under crashes (leaders included), restarts and partitions,
// with immediate and with slow (async) storage, while every peer's clients pipeline writes:
//   - no assertion fails anywhere (e.g. a new leader never preps against state it has not applied);
//   - every replica ends with the same tree (equal digests);
//   - each session's requests complete in submission order, and its successful writes take effect
//     in issue order (increasing zxids);
//   - every write with a definite answer did exactly what it said (ok: it exists; error: it does not);
//   - a write that was outstanding together with an earlier lost write of its session (issued
//     before that write's CONNECTIONLOSS was delivered) never takes effect when the earlier one
//     did not, and writes that took effect did so in issue order (unique paths make "took
//     effect" checkable from the final tree);
//   - only expired sessions see SESSIONEXPIRED, and every request is answered.
// Replay: SEED=N npx vitest run src/peer/chaos.test.ts
import { describe, expect, it } from 'vitest';
import { OPEN_ACL_UNSAFE, type WriteRequest } from '../core/tree/types.js';
import type { Prng } from '../core/prng.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { bytes, Ensemble } from './harness.js';
import type { Peer } from './peer.js';
import type { SessionResult, SessionState } from './serving-api.js';

const seed = testSeed();
const ROUNDS = 8;
const CHAOS_MS = 60_000;
const STEP_MS = 10;
const PENDING_PER_CLIENT_MAX = 16;
const PEERS = ['a', 'b', 'c', 'd', 'e'];

interface Submission {
  readonly index: number;
  /** The unique path this write creates, if it is such a write. */
  readonly unique: string | null;
  /** Submissions of this client not yet answered when this one was made. */
  readonly outstanding: readonly number[];
  result: SessionResult | null;
}

interface ChaosClient {
  readonly serial: number;
  readonly peer: string;
  sessionId: string | null;
  alive: boolean;
  readonly states: SessionState[];
  readonly submissions: Submission[];
  /** Submission indexes in the order their results arrived. */
  readonly answered: number[];
}

function randomWrite(prng: Prng, client: ChaosClient, index: number): { request: WriteRequest; unique: string | null } {
  const unique = `/u/c${client.serial}-w${index}`;
  switch (prng.int(0, 5)) {
    case 0:
      return { request: { op: 'setData', path: '/hot', data: bytes(`${client.serial}`), version: -1 }, unique: null };
    case 1:
      return { request: { op: 'create', path: '/seq/s-', data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'ephemeral_sequential' }, unique: null };
    case 2:
      return {
        request: { op: 'multi', ops: [{ op: 'check', path: '/hot', version: -1 }, { op: 'setData', path: '/hot', data: bytes('m'), version: -1 }] },
        unique: null,
      };
    default:
      return { request: { op: 'create', path: unique, data: bytes('x'), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' }, unique };
  }
}

function zxidOf(result: SessionResult): number | null {
  if (!result.ok) return null;
  if (result.op === 'create') return result.stat.czxid;
  if (result.op === 'setData') return result.stat.mzxid;
  return null;
}

interface RoundStats {
  writes: number;
  ok: number;
  connectionLoss: number;
  leaders: number;
}

function chaosRound(roundSeed: number, prng: Prng, storageDelayMs: number): RoundStats {
  const ensemble = new Ensemble({ seed: roundSeed, voters: ['a', 'b', 'c'], joiners: ['d', 'e'], snapshotEntriesInterval: 64, storageDelayMs });
  expect(ensemble.runUntil(() => ensemble.leader()?.status().observers.length === 2, 30_000)).toBe(true);
  const setup = ensemble.client(ensemble.leader()?.peerId as string, 40_000);
  for (const path of ['/hot', '/seq', '/u']) {
    ensemble.call(setup, { op: 'create', path, data: bytes(''), acl: [...OPEN_ACL_UNSAFE], mode: 'persistent' });
  }
  const clients: ChaosClient[] = [];
  const open = (peer: string): void => {
    const client: ChaosClient = { serial: clients.length, peer, sessionId: null, alive: true, states: [], submissions: [], answered: [] };
    clients.push(client);
    ensemble.peer(peer).openSession({ timeoutMs: 40_000, listener: { event: () => undefined, state: (state) => client.states.push(state) } }, (result) => {
      if (result.ok) client.sessionId = result.session.sessionId;
      else client.alive = false;
    });
  };
  for (const peer of PEERS) open(peer);
  const down = new Set<string>();
  const leaders = new Set<string>();

  const submit = (client: ChaosClient): void => {
    if (!client.alive || client.sessionId === null) return;
    if (client.submissions.length - client.answered.length >= PENDING_PER_CLIENT_MAX) return;
    const index = client.submissions.length;
    const { request, unique } = randomWrite(prng, client, index);
    const outstanding = client.submissions.filter((s) => s.result === null).map((s) => s.index);
    const submission: Submission = { index, unique, outstanding, result: null };
    client.submissions.push(submission);
    ensemble.peer(client.peer).submit(client.sessionId, request, (result) => {
      submission.result = result;
      client.answered.push(index);
      // Half the time the client writes again from inside the callback, as a pipelining client
      // does: such a write is issued while later results of the session may still be queued.
      if (prng.chance(0.5)) submit(client);
    });
  };

  for (let elapsed = 0; elapsed < CHAOS_MS; elapsed += STEP_MS) {
    for (const client of clients) if (prng.chance(0.2)) submit(client);
    if (prng.chance(0.003)) chaosAction(ensemble, prng, down, clients, open);
    const leader = ensemble.leader();
    if (leader !== undefined) leaders.add(`${leader.peerId}@${leader.status().term}`);
    ensemble.clock.advance(STEP_MS);
  }

  ensemble.network.heal();
  for (const id of down) ensemble.restart(id);
  expect(ensemble.converge(60_000)).toBe(true);
  ensemble.run(25_000); // every request still pending reaches its operation timeout
  const final = ensemble.leader() as Peer;
  const stats: RoundStats = { writes: 0, ok: 0, connectionLoss: 0, leaders: leaders.size };
  for (const client of clients) checkClient(client, final, stats);
  return stats;
}

function chaosAction(ensemble: Ensemble, prng: Prng, down: Set<string>, clients: ChaosClient[], open: (peer: string) => void): void {
  const action = prng.int(0, 3);
  const running = PEERS.filter((id) => !down.has(id));
  if (action === 0 && down.size < 2) {
    const victim = prng.chance(0.5) ? (ensemble.leader()?.peerId ?? prng.pick(running)) : prng.pick(running);
    ensemble.crash(victim);
    down.add(victim);
    for (const client of clients) if (client.peer === victim) client.alive = false;
  } else if (action === 1 && down.size > 0) {
    const back = prng.pick([...down]);
    down.delete(back);
    ensemble.restart(back);
    open(back);
  } else if (action === 2) {
    const shuffled = prng.shuffle([...PEERS]);
    const cut = prng.int(1, 2);
    ensemble.network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
  } else {
    ensemble.network.heal();
  }
}

function checkClient(client: ChaosClient, final: Peer, stats: RoundStats): void {
  // done in submission order
  expect(client.answered).toEqual([...client.answered].sort((x, y) => x - y));
  if (client.alive && client.sessionId !== null) expect(client.answered.length).toBe(client.submissions.length);
  const zxids: number[] = [];
  const tookEffect = new Map<number, number>(); // submission -> czxid of its unique node
  for (const submission of client.submissions) {
    const result = submission.result;
    if (result === null) continue;
    stats.writes += 1;
    if (result.ok) stats.ok += 1;
    else if (result.code === 'CONNECTIONLOSS') stats.connectionLoss += 1;
    if (!result.ok && result.code === 'SESSIONEXPIRED' && client.alive) expect(client.states).toContain('expired');
    const zxid = zxidOf(result);
    if (zxid !== null) zxids.push(zxid);
    if (submission.unique === null) continue;
    const stat = final.tree.stat(submission.unique);
    if (stat !== undefined) tookEffect.set(submission.index, stat.czxid);
    // a definite answer is the truth
    if (result.ok) expect(stat?.czxid).toBe(zxid);
    else if (result.code !== 'CONNECTIONLOSS' && result.code !== 'OPERATIONTIMEOUT') expect(stat).toBeUndefined();
  }
  // successful writes took effect in issue order
  expect(zxids).toEqual([...zxids].sort((x, y) => x - y));
  // everything that took effect (answered or not) did so in issue order
  const effects = [...tookEffect.entries()].sort(([a], [b]) => a - b).map(([, czxid]) => czxid);
  expect(effects).toEqual([...effects].sort((x, y) => x - y));
  // nothing outstanding with a lost write took effect where the lost one did not
  for (const submission of client.submissions) {
    if (!tookEffect.has(submission.index)) continue;
    for (const earlier of submission.outstanding) {
      const before = client.submissions[earlier] as Submission;
      if (before.unique === null || tookEffect.has(earlier)) continue;
      const code = before.result === null || before.result.ok ? 'pending' : before.result.code;
      expect(`${before.unique} (${code}) before ${submission.unique}`).toBe(`${before.unique} took effect before ${submission.unique}`);
    }
  }
}

describe(`peer chaos (seed ${seed})`, () => {
  it(`keeps order and agreement through crashes, restarts and partitions (${ROUNDS} rounds)`, () => {
    withSeed('chaos', seed, (prng) => {
      const totals: RoundStats = { writes: 0, ok: 0, connectionLoss: 0, leaders: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const roundSeed = prng.u32() | 0;
        const storageDelayMs = round % 2 === 0 ? 0 : 3;
        const stats = withSeed(`chaos round ${round} (storage delay ${storageDelayMs} ms)`, roundSeed, (roundPrng) => chaosRound(roundSeed, roundPrng, storageDelayMs));
        totals.writes += stats.writes;
        totals.ok += stats.ok;
        totals.connectionLoss += stats.connectionLoss;
        totals.leaders += stats.leaders;
      }
      // The runs did exercise something: many writes, failovers and lost writes.
      expect(totals.ok).toBeGreaterThan(1000);
      expect(totals.connectionLoss).toBeGreaterThan(0);
      expect(totals.leaders).toBeGreaterThan(ROUNDS);
    });
  });
});
