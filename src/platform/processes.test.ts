// The API suite against a 3-process Node ensemble: a relay in this test process, three
// `meshkeeper peer --memory` processes in one room (real processes, real WebRTC between them), and
// this process's own peer — joined through Keeper.join, the package's entry — as a fourth member,
// an observer. Every session of the suite is served by that observer, which forwards writes to the
// process ensemble's leader and learns the commits from it, so every case crosses processes.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keeper } from '../node.js';
import { defineApiSuite, waitFor, type Connect } from '../client/api-suite.js';
import { startRelay, type StandaloneRelay } from '../relay/server.js';
import { spawnPeer as spawnChild, type PeerChild } from '../test-support/peer-process.js';

/** Three processes start (tsx, ~1-2 s each on a loaded machine) and form three voters. */
const FORM_TIMEOUT_MS = 30_000;
/** SIGTERM leaves gracefully, each phase bounded by LEAVE_WAIT_MS (10 s): a child still running
 *  after this is killed (and the test fails). */
const EXIT_WAIT_MS = 15_000;

const ROOM = `processes-${process.pid}`; // + the attempt
const SECRET = 'process-ensemble-secret';

type Child = PeerChild;
const spawnPeer = (relayUrl: string, room: string): Child => spawnChild(relayUrl, room, SECRET);

function exited(child: ChildProcessWithoutNullStreams, waitMs: number): Promise<number | string | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('killed');
    }, waitMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

let relay: StandaloneRelay;
let room = '';
const join = (): Promise<Keeper> => Keeper.join({ relay: relay.url, room, secret: SECRET, storage: 'memory' });
let children: Child[] = [];
let childIds: string[] = [];
/** Holds this process's peer in the room for the whole file (the last Keeper closing leaves). */
let anchor: Keeper;

/** Attempts at forming the ensemble, each in a fresh room with fresh processes. */
const FORM_ATTEMPTS = 3;
/** After the three processes are in the room, how long to let them promote each other before this
 *  process joins (they need ~0.5 s on loopback); doubled on each further attempt. */
const SETTLE_MS = 1_500;

beforeAll(async () => {
  const started = Date.now();
  // A relay started with its rooms: no peer can be on its way back, so no settling grace (relay/constants.ts RELAY_SETTLING_MS).
  relay = await startRelay({ host: '127.0.0.1', port: 0, settlingMs: 0 });
  // Only the relay sees the processes from here. Members are promoted in the order they become
  // healthy, so this process's peer could still take the third voter seat from the last process
  // (and a seat is given back only after VOTER_UNREACHABLE_MS, 30 s): wait until the three are in
  // the room, let them settle, join; if this peer got a seat anyway, start over in a fresh room.
  for (let attempt = 1; ; attempt++) {
    room = `${ROOM}-${attempt}`;
    children = [0, 1, 2].map(() => spawnPeer(relay.url, room));
    childIds = await Promise.all(children.map((child) => child.peerId));
    await waitFor(() => relay.stats().peers === 3, 'the three processes in the room', FORM_TIMEOUT_MS);
    await new Promise((settled) => setTimeout(settled, SETTLE_MS * 2 ** (attempt - 1)));
    anchor = await join();
    try {
      await waitFor(() => {
        const status = anchor.status();
        return status.voters.length === 3 && status.leaderId !== null && (status.observers.includes(status.peerId) || status.voters.includes(status.peerId));
      }, 'three voters and a leader', FORM_TIMEOUT_MS);
    } catch (error) {
      const detail = `status ${JSON.stringify(anchor.status())}; processes ${JSON.stringify(childIds)}\n${children.map((child) => child.output).join('')}`;
      if (error instanceof Error) error.message += `\n${detail}`;
      throw error;
    }
    const status = anchor.status();
    if (!status.voters.includes(status.peerId)) break;
    console.log(`attempt ${attempt}: this process's peer ${status.peerId} took a voter seat before the processes formed; starting over`);
    await anchor.close();
    for (const child of children) child.process.kill('SIGKILL');
    await Promise.all(children.map((child) => exited(child.process, EXIT_WAIT_MS)));
    await waitFor(() => relay.stats().peers === 0, 'the room empty', FORM_TIMEOUT_MS);
    if (attempt === FORM_ATTEMPTS) throw new Error(`this process took a voter seat from the processes ${FORM_ATTEMPTS} times`);
  }
  console.log(`3-process ensemble formed in ${Date.now() - started} ms: voters ${anchor.status().voters.join(', ')}; observer ${anchor.status().peerId}`);
}, FORM_ATTEMPTS * (FORM_TIMEOUT_MS + 10_000));

afterAll(async () => {
  const started = Date.now();
  const leaderId = anchor?.status().leaderId;
  await anchor?.close().catch(() => undefined);
  // The leader first, so it hands leadership to a live voter; then the other two together (the
  // last of them has no one to hand over to and stops after its bounded wait, LEAVE_WAIT_MS).
  const leader = children.find((_child, i) => childIds[i] === leaderId);
  const codes: Array<number | string | null> = [];
  if (leader !== undefined) {
    leader.process.kill('SIGTERM');
    codes.push(await exited(leader.process, EXIT_WAIT_MS));
  }
  const rest = children.filter((child) => child !== leader);
  for (const child of rest) child.process.kill('SIGTERM');
  codes.push(...(await Promise.all(rest.map((child) => exited(child.process, EXIT_WAIT_MS)))));
  await relay?.close();
  console.log(`the processes left in ${Date.now() - started} ms`);
  expect(codes, 'every peer process leaves gracefully on SIGTERM (exit 0)').toEqual([0, 0, 0]);
}, 3 * EXIT_WAIT_MS);

const connectProcesses: Connect = async () => {
  const keeper = await join();
  return { keeper, connectAnother: join, cleanup: () => keeper.close() };
};

describe('a 3-process Node ensemble (meshkeeper peer --memory) over a relay', () => {
  it('the three processes are the voters, one of them leads, this process observes', () => {
    const status = anchor.status();
    expect([...status.voters].sort()).toEqual([...childIds].sort());
    expect(childIds).toContain(status.leaderId);
    expect(status.role).toBe('observer');
    expect(status.quorum).toBe(true);
  });

  defineApiSuite('3-process Node ensemble', connectProcesses, { describe, it }, { timeoutMs: 20_000 });
});
