// Proves the LeaderElection recipe (Curator's LeaderLatch) on the real standalone ensemble with
// several sessions: one leader at a time in enrolment order, hand-off on relinquish and when the
// leader's session closes (standing in for expiry, which the standalone ensemble cannot provoke),
// revocation and re-enrolment when the leader's node is deleted, the leader's id readable by
// anyone, waitForLeadership with timeout and abort, and nothing left behind after relinquish.
import { afterEach, describe, expect, it } from 'vitest';
import type { Keeper } from '../index.js';
import { ensemble, ephemeralsOf, eventually, hasNoWatch, rejectionOf, sleep, withStates, type Ensemble } from '../test-support/recipes.js';
import { LeaderElection, type RevokedReason } from './index.js';

let open: Ensemble | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

async function keepers(count: number): Promise<Keeper[]> {
  open = await ensemble(count, 'election');
  return open.keepers;
}

/** Elections that log every event, and check that at most one leads at any moment. */
function watched(elections: LeaderElection[]): { log: string[]; leaders: () => string[] } {
  const log: string[] = [];
  const leading = new Set<string>();
  for (const election of elections) {
    election.on('elected', ({ id }) => {
      leading.add(id);
      expect(leading.size).toBe(1);
      log.push(`elected ${id}`);
    });
    election.on('revoked', ({ id, reason }: { id: string; reason: RevokedReason }) => {
      leading.delete(id);
      log.push(`revoked ${id} ${reason}`);
    });
  }
  return { log, leaders: () => [...leading] };
}

describe('LeaderElection', () => {
  it('elects the first to enrol, hands off in order on relinquish, and names the leader to anyone', async () => {
    const all = await keepers(3);
    const elections = all.map((keeper, i) => new LeaderElection(keeper, '/election/a', `p${i}`));
    const { log, leaders } = watched(elections);
    for (const election of elections) await election.start();
    await eventually(() => leaders().length === 1, 'a leader');
    expect(leaders()).toEqual(['p0']);
    expect(elections.map((e) => e.isLeader)).toEqual([true, false, false]);
    expect(await new LeaderElection(all[2] as Keeper, '/election/a', 'reader').getLeader()).toBe('p0');
    expect(await elections[1]?.participants()).toEqual(['p0', 'p1', 'p2']);
    await elections[0]?.relinquish();
    await eventually(() => leaders()[0] === 'p1', 'p1 leads');
    await elections[1]?.relinquish();
    await eventually(() => leaders()[0] === 'p2', 'p2 leads');
    expect(log).toEqual(['elected p0', 'revoked p0 relinquished', 'elected p1', 'revoked p1 relinquished', 'elected p2']);
    await elections[2]?.waitForLeadership({ timeoutMs: 0 });
    await elections[2]?.relinquish();
    expect(await elections[0]?.getLeader()).toBeNull();
    for (const keeper of all) expect(await ephemeralsOf(keeper, '/election')).toEqual([]);
  });

  it("hands leadership on at once when the leader's session closes", async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const first = new LeaderElection(a, '/election/close', 'a');
    const second = new LeaderElection(b, '/election/close', 'b');
    const { log } = watched([first, second]);
    await first.start();
    await first.waitForLeadership({ timeoutMs: 1000 });
    await second.start();
    const closedAt = performance.now();
    await a.close();
    await second.waitForLeadership({ timeoutMs: 1000 });
    expect(performance.now() - closedAt).toBeLessThan(500);
    expect(first.state).toBe('closed');
    expect(log).toEqual(['elected a', 'revoked a session', 'elected b']);
    await second.relinquish();
  });

  it("revokes when the leader's node is deleted, and the deposed leader stands again at the back", async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const first = new LeaderElection(a, '/election/vanish', 'a');
    const second = new LeaderElection(b, '/election/vanish', 'b');
    const { log } = watched([first, second]);
    await first.start();
    await second.start();
    await first.waitForLeadership({ timeoutMs: 1000 });
    const [leaderNode] = await a.getEphemerals('/election/vanish');
    await b.delete(leaderNode as string);
    await second.waitForLeadership({ timeoutMs: 1000 });
    await eventually(async () => (await second.participants()).join() === 'b,a', 'a enrolled again behind b');
    expect(log).toEqual(['elected a', 'revoked a vanished', 'elected b']);
    await second.relinquish();
    await first.waitForLeadership({ timeoutMs: 1000 });
    await first.relinquish();
  });

  it("revokes while the session is 'disconnected' and re-elects on 'connected'; closes on 'expired'", async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const { keeper: view, setState } = withStates(a);
    const leader = new LeaderElection(view, '/election/states', 'a');
    const follower = new LeaderElection(b, '/election/states', 'b');
    const { log } = watched([leader, follower]);
    await leader.start();
    await follower.start();
    await leader.waitForLeadership({ timeoutMs: 1000 });
    setState('disconnected');
    expect(leader.isLeader).toBe(false); // at once: a leader that cannot reach the ensemble must not act
    await sleep(20);
    expect(follower.isLeader).toBe(false); // its node is still first: nobody else leads meanwhile
    setState('connected');
    await leader.waitForLeadership({ timeoutMs: 1000 });
    setState('expired');
    expect(leader.state).toBe('closed');
    await follower.waitForLeadership({ timeoutMs: 1000 }); // the loop cleaned up our node on closing
    expect(log).toEqual(['elected a', 'revoked a disconnected', 'elected a', 'revoked a session', 'elected b']);
    await follower.relinquish();
  });

  it('waitForLeadership: timeout, abort, and relinquish while waiting', async () => {
    const [a, b] = (await keepers(2)) as [Keeper, Keeper];
    const leader = new LeaderElection(a, '/election/wait', 'a');
    const follower = new LeaderElection(b, '/election/wait', 'b');
    await leader.start();
    await follower.start();
    expect(((await rejectionOf(follower.waitForLeadership({ timeoutMs: 30 }))) as DOMException).name).toBe('TimeoutError');
    const controller = new AbortController();
    const waiting = follower.waitForLeadership({ signal: controller.signal });
    controller.abort();
    expect(((await rejectionOf(waiting)) as DOMException).name).toBe('AbortError');
    const pending = rejectionOf(follower.waitForLeadership());
    await follower.relinquish();
    expect(((await pending) as DOMException).name).toBe('AbortError');
    // The follower's node and its watch on the leader's node are gone.
    expect(await ephemeralsOf(b, '/election')).toEqual([]);
    const [leaderNode] = (await a.getEphemerals('/election/wait')) as [string];
    expect(await hasNoWatch(b, leaderNode)).toBe(true);
    expect(((await rejectionOf(new LeaderElection(b, '/election/wait', 'x').waitForLeadership())) as DOMException).name).toBe('InvalidStateError');
    await leader.relinquish();
    await sleep(10);
    expect(await hasNoWatch(a, leaderNode)).toBe(true);
    expect(((await rejectionOf(leader.start())) as DOMException).name).toBe('InvalidStateError');
  });
});
