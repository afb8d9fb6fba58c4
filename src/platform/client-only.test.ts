// Issue 6, Show 7 — client-only attachments on real pieces: a relay on a free loopback port, three
// serving Node peers (real WebRTC between them, node-datachannel), and 12 Keepers joined with
// `replica: false` (one attachment of this process, its own mesh, no replica). Each holds an
// ephemeral znode and a watch. One serving peer leaves gracefully (and, in the second test, a
// serving peer process is killed with SIGKILL): only the clients it served move — each to the
// rendezvous pick of its session id over the peers left — the others' serving peer is unchanged,
// every client keeps its session (same id, its ephemeral still there, a write works) and the
// watches registered before the move fire after it. Run inside the loopback namespace.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keeper } from '../node.js';
import { waitFor } from '../client/api-suite.js';
import type { NetworkPlan } from '../client/options.js';
import { rendezvousPick } from '../client/rendezvous.js';
import type { WatchedEvent } from '../client/types.js';
import { startRelay, type StandaloneRelay } from '../relay/server.js';
import { startNodePeer, type NodePeer } from './node.js';
import { spawnPeer as spawnChild, type PeerChild } from '../test-support/peer-process.js';

/** Forming a 3-voter ensemble over loopback takes ~2 s here; allow for a loaded CI machine. */
const FORM_TIMEOUT_MS = 30_000;
/** 12 attachments' sessions: WebRTC admission to 3 peers, then 12 createSession commits. */
const CLIENTS_TIMEOUT_MS = 30_000;
/** A moved client resumes within its read timeout (2/3 of 10 s) plus a round of admission. */
const MOVE_TIMEOUT_MS = 20_000;
const CLIENTS = 12;
const SECRET = 'client-only-secret';
const SESSION_TIMEOUT_MS = 10_000;

function plan(relay: string, room: string): NetworkPlan {
  return { kind: 'network', relay, room, secret: SECRET, storage: 'memory', voters: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS, requestTimeoutMs: 0 };
}

interface Client {
  readonly keeper: Keeper;
  readonly index: number;
  readonly events: WatchedEvent[];
  servedBy: string;
}

let relay: StandaloneRelay;

beforeAll(async () => {
  relay = await startRelay({ host: '127.0.0.1', port: 0, settlingMs: 0 }); // a fresh room: no grace
});

afterAll(async () => {
  await relay.close();
});

async function joinClients(room: string): Promise<Client[]> {
  const clients: Client[] = [];
  const keepers = await Promise.all(Array.from({ length: CLIENTS }, () => Keeper.join({ relay: relay.url, room, secret: SECRET, replica: false, sessionTimeoutMs: SESSION_TIMEOUT_MS })));
  for (const [index, keeper] of keepers.entries()) {
    const servedBy = keeper.status().servingPeerId;
    expect(typeof servedBy).toBe('string');
    clients.push({ keeper, index, events: [], servedBy: servedBy as string });
  }
  const first = clients[0] as Client;
  await first.keeper.create('/e', '');
  await first.keeper.create('/w', '');
  for (const client of clients) {
    await client.keeper.create(`/e/c${client.index}`, `client ${client.index}`, { mode: 'ephemeral' });
    // An exists watch on a node that does not exist yet: NodeCreated fires it.
    expect(await client.keeper.exists(`/w/c${client.index}`, { watch: (event) => client.events.push(event) })).toBeNull();
  }
  return clients;
}

/** Losses in a row tolerated while an election runs (each retried after LOSS_RETRY_MS). */
const LOSSES_MAX = 20;
const LOSS_RETRY_MS = 500;

/** Runs `call`, again after a CONNECTIONLOSS (a leader election in progress), a bounded number of times. */
async function afterLosses<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: string }).code !== 'CONNECTIONLOSS' || attempt >= LOSSES_MAX) throw error;
      await new Promise((resolve) => setTimeout(resolve, LOSS_RETRY_MS));
    }
  }
}

/** The peer serving the most clients (at least one, by the pigeonhole principle). */
function busiest(clients: readonly Client[]): string {
  const counts = new Map<string, number>();
  for (const client of clients) counts.set(client.servedBy, (counts.get(client.servedBy) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] as string;
}

/** After `gone` went: only its clients moved (to their rendezvous pick over `remaining`), all kept
 *  their sessions and ephemerals, a write works and the watches set before the move fire. */
async function checkMoves(clients: readonly Client[], gone: string, remaining: readonly string[]): Promise<void> {
  const before = clients.map((client) => ({ client, servedBy: client.servedBy, sessionId: client.keeper.sessionId }));
  await waitFor(() => clients.every((client) => {
    const now = client.keeper.status().servingPeerId;
    return typeof now === 'string' && now !== gone && client.keeper.state === 'connected';
  }), 'every client served by a remaining peer', MOVE_TIMEOUT_MS);
  let moved = 0;
  for (const { client, servedBy, sessionId } of before) {
    const now = client.keeper.status().servingPeerId as string;
    expect(client.keeper.sessionId).toBe(sessionId);
    if (servedBy === gone) {
      moved += 1;
      expect(now).toBe(rendezvousPick(sessionId, remaining));
    } else {
      expect(now).toBe(servedBy); // not on the peer that went: did not move
    }
    client.servedBy = now;
  }
  expect(moved).toBeGreaterThan(0);
  for (const client of clients) {
    const stat = await client.keeper.exists(`/e/c${client.index}`);
    expect(stat?.ephemeralOwner).toBe(client.keeper.sessionId);
    // A killed leader: writes fail with CONNECTIONLOSS (outcome unknown) until the next is elected.
    const written = await afterLosses(() => client.keeper.setData(`/e/c${client.index}`, `after the move ${client.index}`));
    expect(written.version).toBeGreaterThanOrEqual(1);
  }
  const writer = clients[0] as Client;
  for (const client of clients) {
    await afterLosses(async () => {
      if ((await writer.keeper.exists(`/w/c${client.index}`)) === null) await writer.keeper.create(`/w/c${client.index}`, 'now');
    });
  }
  await waitFor(() => clients.every((client) => client.events.some((event) => event.type === 'NodeCreated' && event.path === `/w/c${client.index}`)), 'every watch fired', 10_000);
  for (const client of clients) expect(client.events).toHaveLength(1);
}

describe('client-only attachments over three serving Node peers', () => {
  it('a serving peer leaves gracefully: only its clients move, none loses its session, watches still fire', async () => {
    const room = `client-only-leave-${process.pid}`;
    const peers: NodePeer[] = [];
    for (let i = 0; i < 3; i++) peers.push(await startNodePeer(plan(relay.url, room)));
    await waitFor(() => peers.every((peer) => peer.status().voters.length === 3 && peer.status().leaderId !== null), 'three voters and a leader', FORM_TIMEOUT_MS);
    const clients = await joinClients(room);
    try {
      const ids = peers.map((peer) => peer.status().peerId);
      expect(new Set(clients.map((client) => client.servedBy)).size).toBeGreaterThan(1);
      for (const client of clients) expect(ids).toContain(client.servedBy);
      const gone = busiest(clients);
      const leaving = peers.find((peer) => peer.status().peerId === gone) as NodePeer;
      await leaving.leave();
      peers.splice(peers.indexOf(leaving), 1);
      await checkMoves(clients, gone, ids.filter((id) => id !== gone));
    } finally {
      await Promise.all(clients.map((client) => client.keeper.close()));
      await Promise.all(peers.map((peer) => peer.leave()));
    }
  }, FORM_TIMEOUT_MS + CLIENTS_TIMEOUT_MS + MOVE_TIMEOUT_MS + 30_000);

  it('a serving peer process is killed (SIGKILL): only its clients move, none loses its session', async () => {
    const room = `client-only-kill-${process.pid}`;
    const children = [spawnPeer(relay.url, room), spawnPeer(relay.url, room), spawnPeer(relay.url, room)];
    try {
      const ids = await Promise.all(children.map((child) => child.peerId));
      const clients = await joinClients(room);
      try {
        // Let the leader promote the two learners to voters (caught up within a few Raft ticks),
        // so losing any one process leaves a quorum.
        await new Promise((resolve) => setTimeout(resolve, PROMOTION_WAIT_MS));
        const gone = busiest(clients);
        const victim = children[ids.indexOf(gone)] as Child;
        victim.process.kill('SIGKILL');
        await checkMoves(clients, gone, ids.filter((id) => id !== gone));
      } finally {
        await Promise.all(clients.map((client) => client.keeper.close()));
      }
    } finally {
      await Promise.all(children.map((child) => exited(child.process)));
    }
  }, FORM_TIMEOUT_MS + CLIENTS_TIMEOUT_MS + MOVE_TIMEOUT_MS + 40_000);
});

/** Learners are promoted once caught up, a few Raft ticks (250 ms) after they join. */
const PROMOTION_WAIT_MS = 4_000;
/** SIGTERM leaves gracefully, each phase bounded by LEAVE_WAIT_MS (10 s). */
const EXIT_WAIT_MS = 15_000;

type Child = PeerChild;
const spawnPeer = (relayUrl: string, room: string): Child => spawnChild(relayUrl, room, SECRET);

function exited(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, EXIT_WAIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
