// Proves the serving path of the peer runtime on seeded in-process ensembles (harness.ts: a
// ManualClock, a deferred MemoryNetwork and MemoryStorage, so every run replays from its seed):
// writes through a follower are forwarded and answered only once applied locally; one session's
// pipelined writes take effect in issue order; a refused stream fails its in-flight writes with
// CONNECTIONLOSS and a new stream works; read-your-writes; sync through ReadIndex; a watch event
// before the read that reflects it; ephemerals gone on close; 1-, 3- and 5-peer ensembles agree
// (equal tree digests). Replay: SEED=N npx vitest run src/peer/peer.test.ts
import { describe, expect, it } from 'vitest';
import { OPEN_ACL_UNSAFE, type CreateMode, type CreateRequest } from '../core/tree/types.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { bytes, Ensemble, type Client } from './harness.js';
import { FORWARD_PROBE_AFTER_MS, OPERATION_TIMEOUT_MS, RAFT_TICK_MS } from './constants.js';
import { decodeWire, encodeWire } from './wire.js';
import { createStandalonePeer } from './standalone.js';
import { ManualClock } from './clock-manual.js';
import type { SessionResult } from './serving-api.js';

const seed = testSeed();

function create(path: string, data = '', mode: CreateMode = 'persistent', extra: Partial<CreateRequest> = {}): CreateRequest {
  return { op: 'create', path, data: bytes(data), acl: [...OPEN_ACL_UNSAFE], mode, ...extra };
}

function followerOf(ensemble: Ensemble): string {
  const leader = ensemble.elect();
  const follower = [...ensemble.peers.keys()].find((id) => id !== leader.peerId);
  if (follower === undefined) throw new Error('no follower');
  return follower;
}

type Success = Extract<SessionResult, { ok: true }>;

function reasonOf(result: SessionResult): string {
  return !result.ok && 'reason' in result && result.reason !== undefined ? `: ${result.reason}` : '';
}

function ok(result: SessionResult | null): Success {
  if (result === null) throw new Error('expected a result, got none');
  if (!result.ok) throw new Error(`expected ok, got ${result.code}${reasonOf(result)}`);
  return result;
}

describe(`peer serving (seed ${seed})`, () => {
  it('answers a write through a follower only after the follower applied it', () => {
    withSeed('forwarded write', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const follower = followerOf(ensemble);
      const client = ensemble.client(follower);
      let seenInTree: boolean | null = null;
      ensemble.peer(follower).submit(client.sessionId, create('/x', 'hi'), (result) => {
        expect(result.ok).toBe(true);
        seenInTree = ensemble.peer(follower).tree.stat('/x') !== undefined;
      });
      expect(ensemble.runUntil(() => seenInTree !== null)).toBe(true);
      expect(seenInTree).toBe(true);
      expect(ensemble.peer(follower).status().counters.streamsOpened).toBe(1);
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('pipelines one session\'s writes and applies them in issue order', () => {
    withSeed('pipelined writes', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const follower = followerOf(ensemble);
      const client = ensemble.client(follower);
      const leader = ensemble.leader()?.peerId as string;
      let forwards = 0;
      ensemble.network.tap((from, to, message) => {
        const decoded = decodeWire(message);
        if (from === follower && to === leader && decoded.ok && decoded.message.kind === 'forward') forwards += 1;
      });
      ensemble.call(client, create('/q'));
      const boxes = Array.from({ length: 40 }, (_, i) =>
        ensemble.submit(client, i % 2 === 0 ? create('/q/n-', String(i), 'persistent_sequential') : { op: 'setData', path: '/q', data: bytes(String(i)), version: -1 }),
      );
      const forwardsBeforeFirstResult = forwards;
      expect(ensemble.runUntil(() => boxes.every((box) => box.result !== null))).toBe(true);
      expect(forwardsBeforeFirstResult).toBe(41); // all 40 in flight at once, plus the first create
      const zxids = boxes.map((box) => {
        const result = ok(box.result);
        if (result.op === 'create') return result.stat.czxid;
        if (result.op === 'setData') return result.stat.mzxid;
        throw new Error(`unexpected ${result.op}`);
      });
      expect([...zxids].sort((x, y) => x - y)).toEqual(zxids);
      const names = boxes.filter((_, i) => i % 2 === 0).map((box) => (ok(box.result) as { path: string }).path);
      expect(names).toEqual(names.map((_, i) => `/q/n-${String(i).padStart(10, '0')}`));
      const stat = ensemble.peer(follower).tree.stat('/q');
      expect(stat?.version).toBe(20);
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('fails a refused stream\'s writes with CONNECTIONLOSS (none takes effect after a lost one), and a new stream works', () => {
    withSeed('refused stream', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const follower = followerOf(ensemble);
      const leader = ensemble.leader()?.peerId as string;
      const client = ensemble.client(follower);
      ensemble.call(client, create('/r'));
      // The first write of this burst is lost on the way; the leader then sees request k+1 of the
      // stream where it expects k, refuses it, and the stream dies.
      ensemble.network.block(follower, leader);
      const lost = ensemble.submit(client, create('/r/lost'));
      ensemble.network.unblock(follower, leader);
      const later = [ensemble.submit(client, create('/r/later-1')), ensemble.submit(client, create('/r/later-2'))];
      expect(ensemble.runUntil(() => later.every((box) => box.result !== null))).toBe(true);
      for (const box of [lost, ...later]) expect(box.result).toMatchObject({ ok: false, code: 'CONNECTIONLOSS' });
      expect(ensemble.leader()?.status().counters.forwardsRefused).toBeGreaterThan(0);
      const after = ensemble.call(client, create('/r/after'));
      ok(after);
      expect(ensemble.peer(follower).status().counters.streamsOpened).toBe(2);
      expect(ensemble.converge()).toBe(true);
      const children = ensemble.call(client, { op: 'getChildren', path: '/r', watch: false });
      expect(children).toMatchObject({ ok: true, children: ['after'] });
    });
  });

  it('detects a lost forward with nothing after it by probing: CONNECTIONLOSS in about FORWARD_PROBE_AFTER_MS, not the operation timeout', () => {
    withSeed('lost forward probed', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const follower = followerOf(ensemble);
      const leader = ensemble.leader()?.peerId as string;
      const client = ensemble.client(follower);
      ensemble.call(client, create('/p'));
      // The only write in flight is lost on the way: no later forward reveals the gap.
      ensemble.network.block(follower, leader);
      const sentAt = ensemble.clock.now();
      const lost = ensemble.submit(client, create('/p/lost'));
      ensemble.network.unblock(follower, leader);
      expect(ensemble.runUntil(() => lost.result !== null, OPERATION_TIMEOUT_MS)).toBe(true);
      const waited = ensemble.clock.now() - sentAt;
      expect(lost.result).toMatchObject({ ok: false, code: 'CONNECTIONLOSS' });
      expect(reasonOf(lost.result as SessionResult)).toContain('forward-lost');
      expect(waited).toBeGreaterThanOrEqual(FORWARD_PROBE_AFTER_MS);
      expect(waited).toBeLessThan(FORWARD_PROBE_AFTER_MS + 2 * RAFT_TICK_MS);
      expect(ensemble.leader()?.status().counters.forwardsLost).toBe(1);
      // The dead stream takes nothing late; a new one works.
      ok(ensemble.call(client, create('/p/after')));
      expect(ensemble.converge()).toBe(true);
      expect(ensemble.call(client, { op: 'getChildren', path: '/p', watch: false })).toMatchObject({ ok: true, children: ['after'] });
    });
  });

  it('probes a slow write without harm: a stream that lost nothing gets no refusal and its write lands', () => {
    withSeed('slow write probed', seed, () => {
      // 600 ms each way: forward, append, ack and the commit's news take ~2.4 s, past a probe.
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], latencyMs: 600 });
      const follower = followerOf(ensemble);
      const client = ensemble.client(follower);
      const write = ensemble.call(client, create('/slow'), OPERATION_TIMEOUT_MS);
      ok(write);
      expect(ensemble.peer(follower).status().counters.forwardProbes).toBeGreaterThanOrEqual(1);
      expect(ensemble.leader()?.status().counters.forwardsLost).toBe(0);
      expect(ensemble.peer(follower).status().counters.streamsFailed).toBe(0);
    });
  });

  it('waits rather than fails when the peer it takes for the leader says it is not (a leader restarted as a follower)', () => {
    withSeed('refused as no leader', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect().peerId;
      const follower = followerOf(ensemble);
      const client = ensemble.client(follower);
      ok(ensemble.call(client, create('/n')));
      // The leader restarts at once (a slot resumed in another tab): a follower now, while the
      // serving peer still takes it for the leader until an election.
      ensemble.crash(leader);
      ensemble.restart(leader);
      let losses = 0;
      let written = 0;
      const deadline = ensemble.clock.now() + OPERATION_TIMEOUT_MS;
      for (let i = 0; i < 200 && written < 3 && ensemble.clock.now() < deadline; i++) {
        const result = ensemble.call(client, create(`/n/w${i}`), OPERATION_TIMEOUT_MS);
        if (result.ok) written += 1;
        else {
          expect(result.code).toBe('CONNECTIONLOSS');
          losses += 1;
          ensemble.run(50); // a client's pause before it tries again
        }
      }
      expect(written).toBe(3);
      // At most the first write is refused; the next ones wait for the election instead of being
      // refused one after the other (one every 50 ms for seconds, before).
      expect(losses).toBeLessThanOrEqual(1);
    });
  });

  it('reads its own writes: a read queued behind a write sees it', () => {
    withSeed('read your writes', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const client = ensemble.client(followerOf(ensemble));
      const write = ensemble.submit(client, create('/ryw', 'v1'));
      const read = ensemble.submit(client, { op: 'getData', path: '/ryw', watch: false });
      const update = ensemble.submit(client, { op: 'setData', path: '/ryw', data: bytes('v2'), version: 0 });
      const reread = ensemble.submit(client, { op: 'getData', path: '/ryw', watch: false });
      expect(ensemble.runUntil(() => reread.result !== null)).toBe(true);
      ok(write.result);
      ok(update.result);
      expect(new TextDecoder().decode((ok(read.result) as { data: Uint8Array }).data)).toBe('v1');
      expect(new TextDecoder().decode((ok(reread.result) as { data: Uint8Array }).data)).toBe('v2');
      expect(client.log.filter((line) => line.startsWith('result'))).toEqual(['result create ok /ryw', 'result getData ok', 'result setData ok', 'result getData ok']);
    });
  });

  it('syncs through ReadIndex: a read after sync on a lagging follower sees the latest write', () => {
    withSeed('sync', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], latencyMs: 20 });
      const leader = ensemble.elect();
      const follower = [...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string;
      const writer = ensemble.client(leader.peerId);
      const reader = ensemble.client(follower);
      ensemble.call(writer, create('/s', 'fresh'));
      // The leader answered once it applied; the follower hears of the commit only later.
      expect(ensemble.peer(follower).tree.stat('/s')).toBeUndefined();
      const sync = ensemble.submit(reader, { op: 'sync', path: '/' });
      const read = ensemble.submit(reader, { op: 'getData', path: '/s', watch: false });
      expect(ensemble.runUntil(() => read.result !== null)).toBe(true);
      expect(sync.result).toEqual({ ok: true, op: 'sync', path: '/' });
      expect(new TextDecoder().decode((ok(read.result) as { data: Uint8Array }).data)).toBe('fresh');
    });
  });

  it('delivers a watch event before the result of any read that reflects the change', () => {
    withSeed('watch before read', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const leader = ensemble.elect();
      const follower = [...ensemble.peers.keys()].find((id) => id !== leader.peerId) as string;
      const watcher = ensemble.client(follower);
      const writer = ensemble.client(leader.peerId);
      ensemble.call(writer, create('/w', 'old'));
      ensemble.call(watcher, { op: 'sync', path: '/' });
      ok(ensemble.call(watcher, { op: 'getData', path: '/w', watch: true }));
      ok(ensemble.call(watcher, { op: 'exists', path: '/w/child', watch: true }));
      ok(ensemble.call(watcher, { op: 'addWatch', path: '/w', mode: 'persistent_recursive' }));
      const marks: string[] = [];
      const write = ensemble.submit(writer, { op: 'setData', path: '/w', data: bytes('new'), version: -1 });
      ensemble.submit(writer, create('/w/child'));
      // Poll with reads until one sees the new data; the event must come first.
      let seen = false;
      for (let round = 0; round < 500 && !seen; round++) {
        ensemble.peer(follower).submit(watcher.sessionId, { op: 'getData', path: '/w', watch: false }, (result) => {
          if (result.ok && result.op === 'getData' && new TextDecoder().decode(result.data) === 'new') {
            seen = true;
            marks.push(`read-new at log ${watcher.log.length}`);
            expect(watcher.events.some((event) => event.type === 'NodeDataChanged' && event.path === '/w')).toBe(true);
          }
        });
        ensemble.run(1, 1);
      }
      expect(seen).toBe(true);
      ok(write.result);
      ensemble.run(100);
      const types = watcher.events.map((event) => `${event.type} ${event.path}`);
      // the one-shot data watch and the recursive watch each fire once for the setData (one event
      // per watcher per trigger); the exists watch and the recursive watch for the create
      expect(types).toEqual(['NodeDataChanged /w', 'NodeCreated /w/child']);
      const zxids = watcher.events.map((event) => event.zxid);
      expect([...zxids].sort((x, y) => x - y)).toEqual(zxids);
    });
  });

  it('tells a session of the watch its own write fires before that write\'s result', () => {
    withSeed('own write fires own watch', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const client = ensemble.client(followerOf(ensemble));
      ok(ensemble.call(client, create('/own')));
      ok(ensemble.call(client, { op: 'getData', path: '/own', watch: true }));
      ok(ensemble.call(client, { op: 'getChildren', path: '/own', watch: true }));
      ok(ensemble.call(client, { op: 'setData', path: '/own', data: bytes('x'), version: -1 }));
      ok(ensemble.call(client, create('/own/kid')));
      const lines = client.log.filter((line) => !line.startsWith('state'));
      expect(lines.slice(-4)).toEqual([
        expect.stringMatching(/^event NodeDataChanged \/own @/),
        'result setData ok',
        expect.stringMatching(/^event NodeChildrenChanged \/own @/),
        'result create ok /own/kid',
      ]);
    });
  });

  it('removes a session\'s ephemerals on every replica when it closes', () => {
    withSeed('ephemerals on close', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const client = ensemble.client(followerOf(ensemble));
      ok(ensemble.call(client, create('/e', '', 'ephemeral')));
      ok(ensemble.call(client, create('/e2-', '', 'ephemeral_sequential')));
      expect(ensemble.converge()).toBe(true);
      for (const peer of ensemble.peers.values()) expect(peer.tree.ephemeralPaths(client.sessionId)).toHaveLength(2);
      expect(ensemble.close(client)).toEqual({ ok: true });
      expect(client.states.at(-1)).toBe('closed');
      expect(ensemble.converge()).toBe(true);
      for (const peer of ensemble.peers.values()) {
        expect(peer.tree.stat('/e')).toBeUndefined();
        expect(peer.tree.hasSession(client.sessionId)).toBe(false);
      }
      const after = ensemble.call(client, { op: 'exists', path: '/e', watch: false });
      expect(after).toMatchObject({ ok: false, code: 'SESSIONEXPIRED' });
    });
  });

  it('adds the request path to a failed write and keeps ZooKeeper\'s error codes', () => {
    withSeed('failed write path', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const client = ensemble.client(followerOf(ensemble));
      expect(ensemble.call(client, { op: 'delete', path: '/missing', version: -1 })).toEqual({ ok: false, code: 'NONODE', path: '/missing' });
      ok(ensemble.call(client, create('/dup')));
      expect(ensemble.call(client, create('/dup'))).toMatchObject({ ok: false, code: 'NODEEXISTS', path: '/dup' });
      expect(ensemble.call(client, { op: 'setData', path: '/dup', data: bytes('x'), version: 7 })).toMatchObject({ ok: false, code: 'BADVERSION', path: '/dup' });
      expect(ensemble.call(client, { op: 'removeWatches', path: '/dup', kind: 'any' })).toMatchObject({ ok: false, code: 'NOWATCHER' });
      expect(ensemble.call(client, { op: 'sync', path: 'bad' })).toMatchObject({ ok: false, code: 'BADARGUMENTS' });
    });
  });

  it('runs 1-, 3- and 5-peer ensembles to the same tree on every replica', () => {
    withSeed('ensemble sizes', seed, (prng) => {
      for (const size of [1, 3, 5]) {
        const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
        const ensemble = new Ensemble({ seed: seed + size, voters: ids, targetVoters: size === 1 ? 1 : size });
        ensemble.elect();
        const clients: Client[] = ids.map((id) => ensemble.client(id));
        ok(ensemble.call(clients[0] as Client, create('/t')));
        const boxes: { result: SessionResult | null }[] = [];
        for (let i = 0; i < 60; i++) {
          const client = prng.pick(clients);
          boxes.push(ensemble.submit(client, prng.chance(0.5) ? create(`/t/${i}`, String(i)) : { op: 'setData', path: '/t', data: bytes(String(i)), version: -1 }));
        }
        expect(ensemble.runUntil(() => boxes.every((box) => box.result !== null))).toBe(true);
        for (const box of boxes) ok(box.result);
        expect(ensemble.converge()).toBe(true);
        expect(ensemble.leader()?.tree.stat('/t')?.version).toBe(boxes.length - ensemble.leader()!.tree.stat('/t')!.numChildren);
      }
    });
  });

  it('drops malformed wire bytes and counts them, and keeps serving', () => {
    withSeed('malformed bytes', seed, (prng) => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const follower = followerOf(ensemble);
      const victim = ensemble.peer(follower);
      const before = victim.status().counters.dropped;
      ensemble.network.inject('a', follower, new Uint8Array([]));
      ensemble.network.inject('a', follower, new Uint8Array([250, 1, 2]));
      ensemble.network.inject('a', follower, new Uint8Array([1, 99, 99]));
      ensemble.network.inject('a', follower, new Uint8Array(3 * 1024 * 1024));
      // a Raft heartbeat claiming to come from someone else
      const spoof = encodeWire({ kind: 'raft', message: { type: 'heartbeat', from: 'zz', to: follower, term: 99, commit: 0, readRound: 0 } });
      ensemble.network.inject('a', follower, spoof);
      for (let i = 0; i < 200; i++) ensemble.network.inject('a', follower, new Uint8Array(prng.int(1, 30)).map(() => prng.int(0, 255)));
      ensemble.run(50);
      const after = victim.status().counters.dropped;
      expect(after.malformed).toBeGreaterThan(before.malformed);
      expect(after['unknown-tag']).toBeGreaterThan(before['unknown-tag']);
      expect(after['too-large']).toBe(before['too-large'] + 1);
      expect(after.spoofed).toBe(before.spoofed + 1);
      expect(victim.status().term).toBe(ensemble.leader()?.status().term);
      const client = ensemble.client(follower);
      ok(ensemble.call(client, create('/still-works')));
    });
  });

  it('reports status changes to its listeners: role, term, leader, membership, quorum', () => {
    withSeed('status changes', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const old = ensemble.elect();
      const watcher = [...ensemble.peers.values()].find((peer) => peer !== old) as NonNullable<ReturnType<Ensemble['leader']>>;
      const seen: { leaderId: string | null; term: number; quorum: boolean }[] = [];
      const unsubscribe = watcher.onStatus((status) => seen.push({ leaderId: status.leaderId, term: status.term, quorum: status.quorum }));
      ensemble.crash(old.peerId);
      const next = ensemble.elect();
      expect(seen.at(-1)).toEqual({ leaderId: next.peerId, term: next.status().term, quorum: true });
      expect(seen.some((status) => status.leaderId === null || !status.quorum)).toBe(true);
      expect(watcher.status()).toMatchObject({ voters: ['a', 'b', 'c'], observers: [], quorum: true });
      expect(watcher.status().counters.electionsSeen).toBeGreaterThanOrEqual(2);
      unsubscribe();
      const count = seen.length;
      ensemble.restart(old.peerId);
      ensemble.run(5000);
      expect(seen.length).toBe(count);
    });
  });

  it('survives a client callback that throws: the error surfaces from a fresh timer, the peer goes on', () => {
    withSeed('throwing callback', seed, () => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'], storageDelayMs: 2 });
      const follower = followerOf(ensemble);
      const client = ensemble.client(follower);
      ensemble.peer(follower).submit(client.sessionId, create('/boom'), () => {
        throw new Error('client bug');
      });
      const after = ensemble.submit(client, { op: 'exists', path: '/boom', watch: false });
      expect(() => ensemble.run(1000)).toThrow('client bug');
      ensemble.run(100);
      expect(after.result).toMatchObject({ ok: true, stat: { version: 0 } });
      expect(ensemble.peer(follower).status().counters.callbackErrors).toBe(1);
      ok(ensemble.call(client, create('/boom/ok')));
      expect(ensemble.converge()).toBe(true);
    });
  });

  it('replays a run exactly from its seed', () => {
    const run = (): string[] => {
      const ensemble = new Ensemble({ seed, voters: ['a', 'b', 'c'] });
      const client = ensemble.client(followerOf(ensemble));
      for (let i = 0; i < 5; i++) ensemble.call(client, create(`/d${i}`, '', 'ephemeral_sequential'));
      ensemble.run(5_000);
      return [...ensemble.digests().entries()].map(([id, d]) => `${id}:${d.applied}:${d.digest}:${ensemble.peer(id).status().term}`).concat(client.log);
    };
    expect(run()).toEqual(run());
  });
});

describe(`standalone peer (seed ${seed})`, () => {
  it('leads at once and serves a session', () => {
    const clock = new ManualClock();
    const peer = createStandalonePeer({ seed, clock, room: 'demo' });
    expect(peer.status()).toMatchObject({ role: 'leader', voters: [peer.peerId], observers: [], quorum: true });
    let session: string | null = null;
    peer.openSession({ timeoutMs: 4000, listener: { event: () => undefined, state: () => undefined } }, (result) => {
      if (result.ok) session = result.session.sessionId;
    });
    expect(session).not.toBeNull();
    const results: SessionResult[] = [];
    peer.submit(session as unknown as string, create('/solo', 'x', 'ephemeral'), (result) => results.push(result));
    peer.submit(session as unknown as string, { op: 'getChildren', path: '/', watch: false }, (result) => results.push(result));
    expect(results[0]).toMatchObject({ ok: true, path: '/solo' });
    expect(results[1]).toMatchObject({ ok: true, children: ['solo', 'zookeeper'] });
    clock.advance(60_000); // pings keep the session alive
    expect(peer.tree.stat('/solo')).toBeDefined();
    peer.stop();
    expect(peer.status().stopped).toBe(true);
  });
});
