// Show 8: a register workload under the nemesis, checked linearizable (meshkeeper/testing).
//
// An ensemble of 4 tabs (one browser context each, so a crash takes one tab only) and a Node edge
// peer process; clients in every tab (through window.keeper) and one Keeper in this process read
// (sync + getData), write (setData -1) and compare-and-set (setData with the version a read
// returned) three znodes, while the nemesis crashes a tab (CDP Page.crash), freezes the leader
// (Debugger.pause or SIGSTOP), kill -9s and restarts the edge peer, cuts a tab off from everyone
// (isolation gate) and heals it, closes a tab (pagehide), and restarts the relay. Replacement tabs
// join as new clients. The history is recorded in this process around each call (intervals wider
// than the truth: sound), CONNECTIONLOSS / OPERATIONTIMEOUT / a page gone under a call are unknown
// outcomes, SESSIONEXPIRED is left out (no effect), and the znode model checks it per path.
// Bounded: at most OPS_PER_CLIENT_MAX calls per client, no call started after WORKLOAD_MS.
// MESHKEEPER_SEED=<n> replays the workload's and the nemesis's choices (not the timing).
import { Keeper } from '../src/node.js';
import { Prng } from '../src/core/prng.js';
import {
  checkZnodeHistory, describeWorkload, expect, isUnknown, keeperClient, RegisterWorkload, tabClient, type MeshPeer, type TabPeer,
} from '../src/testing/playwright.js';
import { ensembleTest as test } from './helpers.js';

const REGISTERS = ['/reg/a', '/reg/b', '/reg/c'];
/** No call starts after this (ms from the workload's start). */
const WORKLOAD_MS = 45_000;
const OPS_PER_CLIENT_MAX = 1_200;
/** Up to this pause between a client's calls, to keep two shared cores breathing. */
const THINK_MS_MAX = 40;
/** How long the leader stays frozen, a tab isolated, the relay down, the edge peer dead. */
const FREEZE_MS = 6_000;
const ISOLATE_MS = 6_000;
const RELAY_DOWN_MS = 2_000;
const PROCESS_DOWN_MS = 3_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('Show 8: a register workload from tabs and a Node client under crashes, freezes, kill -9, isolation, close and a relay restart is linearizable', async ({ ensemble }) => {
  test.setTimeout(300_000);
  const seed = process.env.MESHKEEPER_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.MESHKEEPER_SEED);
  console.log(`[register] seed ${seed} (MESHKEEPER_SEED=${seed} replays the choices)`);
  const choose = new Prng(seed ^ 0x5eed);
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('nothing to pick from');
    return items[choose.int(0, items.length - 1)]!;
  };

  const tabs = await ensemble.addTabs(4, { placement: 'context-per-tab' });
  const edge = await ensemble.addProcess();
  const initial = await ensemble.waitForLeader({ voters: 3 });
  const nodeKeeper = await Keeper.join({ relay: ensemble.relayUrl, room: ensemble.room, storage: 'memory' });
  try {
    await tabs[0]!.page.evaluate(() => window.keeper!.create('/reg', ''));
    const workload = new RegisterWorkload({ paths: REGISTERS, seed, operationsPerClientMax: OPS_PER_CLIENT_MAX, durationMs: WORKLOAD_MS, thinkMsMax: THINK_MS_MAX });
    await workload.setup(tabClient(tabs[0]!));
    const leadership = ensemble.recordLeadership();
    workload.start();
    for (const tab of tabs) workload.addClient(tabClient(tab));
    workload.addClient(keeperClient('node-client', nodeKeeper));
    const started = performance.now();
    const at = async (ms: number): Promise<void> => sleep(Math.max(0, ms - (performance.now() - started)));
    const replace = async (): Promise<void> => workload.addClient(tabClient(await ensemble.addTab({ placement: 'context-per-tab' })));
    // Every voter running (the crashed one replaced) first: freezing the leader of a configuration
    // that still counts a dead voter leaves no quorum to elect a successor, and no election is due.
    const leaderPeer = async (): Promise<MeshPeer> => {
      const { leader, term, voters } = await ensemble.waitForLeader({ votersRunning: true });
      if (leader === undefined) throw new Error('the leader is none of the ensemble\'s peers');
      console.log(`[register] leader ${leader.name} in term ${term}, voters ${voters.map((id) => ensemble.byId(id)?.name ?? id).join(', ')}`);
      return leader;
    };
    const followerTab = async (): Promise<TabPeer> => {
      const { leaderId } = await ensemble.waitForLeader();
      return pick(ensemble.tabs('running').filter((tab) => tab.peerId !== leaderId));
    };

    // The schedule (targets chosen by the seed among the peers alive at that moment).
    await at(4_000);
    await ensemble.nemesis.crash(await followerTab());
    await replace();

    await at(10_000);
    const frozen = await leaderPeer();
    await ensemble.nemesis.freeze(frozen);
    await sleep(FREEZE_MS);
    await ensemble.nemesis.resume(frozen);

    await at(20_000);
    await ensemble.nemesis.crash(edge);
    await sleep(PROCESS_DOWN_MS);
    await ensemble.nemesis.restart(edge);

    await at(27_000);
    const isolated = pick(ensemble.tabs('running'));
    await ensemble.nemesis.isolate(isolated);
    await sleep(ISOLATE_MS);
    const dropped = await ensemble.nemesis.heal(isolated);
    expect(dropped.sent + dropped.received, 'the isolated tab had traffic to drop').toBeGreaterThan(0);

    await at(36_000);
    await ensemble.nemesis.close(await followerTab());
    await replace();

    await at(40_000);
    await ensemble.nemesis.restartRelay(RELAY_DOWN_MS);

    const result = await workload.finish();
    const finalLeader = await ensemble.waitForLeader();
    const log = await leadership.stop();
    console.log(`[register] ${describeWorkload(result)}`);
    console.log(`[register] nemesis: ${ensemble.nemesis.log.map((event) => `${(event.atMs / 1000).toFixed(1)}s ${event.action} ${event.target}`).join('; ')}`);
    console.log(`[register] leaders by term: ${[...log.leadersByTerm].sort(([a], [b]) => a - b).map(([term, leaders]) => `${term}:${leaders.join('+')}`).join(' ')}; final term ${finalLeader.term}`);

    const checkStarted = performance.now();
    const verdict = checkZnodeHistory(result.history);
    const statesExplored = verdict.partitions.reduce((sum, partition) => sum + partition.statesExplored, 0);
    console.log(`[register] linearizability: ${verdict.result} (${verdict.partitions.length} registers, ${statesExplored} states explored, ${(performance.now() - checkStarted).toFixed(0)} ms)`);
    expect(verdict.result, verdict.explanation).toBe('ok');
    // The check can fail: the same history with one read answering a value never written is refused.
    const lastRead = [...result.history].reverse().find((operation) => operation.input.kind === 'getData' && !isUnknown(operation.output) && operation.output.code === 'OK');
    expect(lastRead, 'a successful read to corrupt').toBeDefined();
    const corrupted = result.history.map((operation) => (operation === lastRead ? { ...operation, output: { code: 'OK' as const, data: 'never written', version: 1 } } : operation));
    expect(checkZnodeHistory(corrupted).result).toBe('illegal');
    expect(result.unexpected).toEqual([]);
    expect(log.conflicts, 'two leaders in one term').toEqual([]);
    expect(finalLeader.term, 'freezing the leader forced an election').toBeGreaterThan(initial.term);
    // The run did something under every fault: most calls answered, some writes succeeded.
    expect(result.operations).toBeGreaterThan(200);
    expect(result.outcomes.OK ?? 0).toBeGreaterThan(100);
  } finally {
    await nodeKeeper.close().catch(() => undefined);
  }
});
