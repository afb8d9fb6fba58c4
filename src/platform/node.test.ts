// Real Node edge peers: a real relay process-in-process (ws on a free loopback port), real WebRTC
// data channels (node-datachannel), the real peer runtime. Three peers form an ensemble by the
// rules of API.md (the first leads alone, the others join and are promoted); the API suite runs
// against it with each case's sessions spread over different peers; then a fourth peer joins
// through the package entry's Keeper.join, a leader leaves and the rest carry on, and a peer with
// file storage restarts as the same peer with its data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keeper } from '../node.js';
import { defineApiSuite, waitFor, type Connect } from '../client/api-suite.js';
import { hostOnPeer } from '../client/network.js';
import type { NetworkPlan } from '../client/options.js';
import { startRelay, type StandaloneRelay } from '../relay/server.js';
import { startNodePeer, type NodePeer } from './node.js';

/** Forming a 3-voter ensemble over loopback takes ~2 s here; allow for a loaded CI machine. */
const FORM_TIMEOUT_MS = 30_000;

function plan(relay: string, room: string, storage: NetworkPlan['storage'] = 'memory'): NetworkPlan {
  return { kind: 'network', relay, room, secret: 'test-secret', storage, voters: 3, sessionTimeoutMs: 10_000, requestTimeoutMs: 0 };
}

async function openOn(peer: NodePeer): Promise<Keeper> {
  return Keeper.open(hostOnPeer(peer), { sessionTimeoutMs: 10_000, requestTimeoutMs: 0 });
}

let relay: StandaloneRelay;
const peers: NodePeer[] = [];

beforeAll(async () => {
  // A relay started with its rooms: no peer can be on its way back, so no settling grace (relay/constants.ts RELAY_SETTLING_MS).
  relay = await startRelay({ host: '127.0.0.1', port: 0, settlingMs: 0 });
  for (let i = 0; i < 3; i++) peers.push(await startNodePeer(plan(relay.url, 'suite')));
  await waitFor(() => peers.every((peer) => peer.status().voters.length === 3 && peer.status().leaderId !== null), 'three voters and a leader', FORM_TIMEOUT_MS);
}, FORM_TIMEOUT_MS + 5000);

/** Leaving hands leadership over and closes sessions: each phase waits at most LEAVE_WAIT_MS. */
const LEAVE_TIMEOUT_MS = 45_000;

afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.leave()));
  await relay.close();
}, LEAVE_TIMEOUT_MS);

let next = 0;
const connectNetworked: Connect = async () => {
  next += 1;
  const keeper = await openOn(peers[next % 3] as NodePeer);
  return { keeper, connectAnother: () => openOn(peers[(next + 1) % 3] as NodePeer), cleanup: async () => undefined };
};

describe('a networked ensemble of three Node peers over WebRTC', () => {
  it('formed by the join rules: one leader, three voters, every peer agreeing', () => {
    const statuses = peers.map((peer) => peer.status());
    const leaders = statuses.filter((status) => status.role === 'leader');
    expect(leaders).toHaveLength(1);
    for (const status of statuses) {
      expect(status.leaderId).toBe(leaders[0]?.peerId);
      expect([...status.voters].sort()).toEqual(statuses.map((s) => s.peerId).sort());
    }
  });

  defineApiSuite('networked ensemble (3 Node peers, WebRTC)', connectNetworked, { describe, it }, { timeoutMs: 20_000 });

  it('Keeper.join over the relay runs a fourth peer that joins as an observer and sees the ensemble\'s data', async () => {
    const writer = await openOn(peers[0] as NodePeer);
    await writer.create('/joined-later', 'before');
    const keeper = await Keeper.join({ relay: relay.url, room: 'suite', secret: 'test-secret', storage: 'memory' });
    try {
      await keeper.sync('/');
      expect(new TextDecoder().decode((await keeper.getData('/joined-later')).data)).toBe('before');
      await keeper.setData('/joined-later', 'after');
      expect(new TextDecoder().decode((await writer.getData('/joined-later')).data)).toBe('after');
      await waitFor(() => keeper.status().observers.includes(keeper.status().peerId), 'the fourth peer listed as an observer', 10_000);
    } finally {
      await keeper.close();
      await writer.close();
    }
  }, 30_000);
});

describe('a Node peer with file storage', () => {
  it('restarts as the same peer with its data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshkeeper-file-peer-'));
    try {
      const first = await startNodePeer(plan(relay.url, 'file-room', `file:${dir}`));
      const id = first.status().peerId;
      await waitFor(() => first.status().role === 'leader', 'a lone first peer leads', 10_000);
      const keeper = await openOn(first);
      await keeper.create('/kept', 'on disk');
      await keeper.close();
      // A second process on the same folder is refused while the first runs.
      await expect(startNodePeer(plan(relay.url, 'file-room', `file:${dir}`))).rejects.toThrow(/in use/);
      await first.leave();

      const again = await startNodePeer(plan(relay.url, 'file-room', `file:${dir}`));
      expect(again.status().peerId).toBe(id);
      await waitFor(() => again.status().role === 'leader', 'the restarted peer leads its one-voter ensemble again', 10_000);
      const reader = await openOn(again);
      expect(new TextDecoder().decode((await reader.getData('/kept')).data)).toBe('on disk');
      await reader.close();
      await again.leave();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe('leaving', () => {
  it('a leader that leaves hands over: the others elect a leader and keep taking writes', async () => {
    const room = 'leave-room';
    const members: NodePeer[] = [];
    for (let i = 0; i < 3; i++) members.push(await startNodePeer(plan(relay.url, room)));
    await waitFor(() => members.every((peer) => peer.status().voters.length === 3 && peer.status().leaderId !== null), 'three voters', FORM_TIMEOUT_MS);
    const leader = members.find((peer) => peer.status().role === 'leader') as NodePeer;
    const rest = members.filter((peer) => peer !== leader);
    await leader.leave();
    await waitFor(() => rest.some((peer) => peer.status().role === 'leader'), 'a new leader among the two left', 15_000);
    const keeper = await openOn(rest[0] as NodePeer);
    await keeper.create('/after-leave', 'ok');
    expect((await keeper.exists('/after-leave'))?.version).toBe(0);
    await keeper.close();
    for (const peer of rest) await peer.leave();
  }, FORM_TIMEOUT_MS + 30_000);
});
