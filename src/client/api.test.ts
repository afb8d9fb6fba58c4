// Runs the API suite (api-suite.ts: every call and error code of API.md on one ensemble, each case
// naming the ZooKeeper behaviour it checks) against the standalone ensemble — Keeper.join without
// a relay, storage 'memory', in this process — which is the real peer runtime with one voter. Each
// case gets its own room (a fresh ensemble); its extra sessions join the same room. Also checks
// join itself: what the standalone mode shares and stops, and the clear refusals of the ways to
// join that later work brings.
import { describe, expect, it } from 'vitest';
import { Keeper as PackageKeeper, KeeperError as PackageKeeperError, OPEN_ACL_UNSAFE, Perms } from '../index.js';
import { KeeperError } from '../core/errors.js';
import { defineApiSuite, type Connect } from './api-suite.js';
import { Keeper } from './keeper.js';
import { NOT_YET } from './options.js';
import { standaloneRooms } from './standalone.js';

let roomCount = 0;

const connectStandalone: Connect = async () => {
  roomCount += 1;
  const room = `api-suite-${roomCount}`;
  const keeper = await Keeper.join({ storage: 'memory', room });
  return {
    keeper,
    connectAnother: () => Keeper.join({ storage: 'memory', room }),
    cleanup: () => keeper.close(),
  };
};

defineApiSuite('standalone ensemble', connectStandalone, { describe, it });

describe('Keeper.join: the standalone ensemble', () => {
  it('is exported from the package entry with KeeperError and the public constants', () => {
    expect(PackageKeeper).toBe(Keeper);
    expect(PackageKeeperError).toBe(KeeperError);
    expect(OPEN_ACL_UNSAFE).toEqual([{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }]);
  });

  it('resolves with an established session on a one-voter ensemble led by its own peer', async () => {
    const keeper = await Keeper.join({ storage: 'memory', room: 'join-status' });
    expect(keeper.state).toBe('connected');
    const status = keeper.status();
    expect(status.role).toBe('leader');
    expect(status.leaderId).toBe(status.peerId);
    expect(status.voters).toEqual([status.peerId]);
    expect(status.observers).toEqual([]);
    expect(status.quorum).toBe(true);
    expect(keeper.sessionTimeoutMs).toBe(10_000);
    await keeper.close();
  });

  it('has no unsafe recovery (UNIMPLEMENTED): its one voter never loses its quorum', async () => {
    const keeper = await Keeper.join({ storage: 'memory', room: 'no-recover' });
    const refused = await keeper.unsafeRecoverFromThisPeer().then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(KeeperError);
    expect((refused as KeeperError).code).toBe('UNIMPLEMENTED');
    expect(keeper.status().unsafeRecoveries).toBe(0);
    await keeper.close();
  });

  it('negotiates the session timeout asked for within the bounds', async () => {
    const keeper = await Keeper.join({ storage: 'memory', room: 'join-timeout', sessionTimeoutMs: 4000 });
    expect(keeper.sessionTimeoutMs).toBe(4000);
    await keeper.close();
  });

  it('shares one ensemble per room in a process and stops it when the last keeper closes', async () => {
    const a = await Keeper.join({ storage: 'memory', room: 'shared' });
    const b = await Keeper.join({ storage: 'memory', room: 'shared' });
    const elsewhere = await Keeper.join({ storage: 'memory', room: 'elsewhere' });
    expect(a.status().peerId).toBe(b.status().peerId);
    expect(elsewhere.status().peerId).not.toBe(a.status().peerId);
    await a.create('/here', 'x');
    await b.sync('/here');
    expect(await b.exists('/here')).not.toBeNull();
    expect(await elsewhere.exists('/here')).toBeNull();
    expect(standaloneRooms()).toEqual(expect.arrayContaining(['shared', 'elsewhere']));
    await a.close();
    expect(standaloneRooms()).toContain('shared');
    await b.close();
    await elsewhere.close();
    expect(standaloneRooms()).not.toContain('shared');
    expect(standaloneRooms()).not.toContain('elsewhere');
    const fresh = await Keeper.join({ storage: 'memory', room: 'shared' });
    expect(await fresh.exists('/here')).toBeNull(); // memory storage: a new ensemble starts empty
    await fresh.close();
  });

  it('refuses a second secret for a room already running in this process (AUTHFAILED)', async () => {
    const keeper = await Keeper.join({ storage: 'memory', room: 'secret-room', secret: 'one' });
    await expect(Keeper.join({ storage: 'memory', room: 'secret-room', secret: 'two' })).rejects.toMatchObject({ code: 'AUTHFAILED' });
    await keeper.close();
  });

  it('refuses the ways to join that later work brings, naming that work (UNIMPLEMENTED)', async () => {
    const refusals: [object, string][] = [
      [{ storage: 'file:./data' }, NOT_YET.standaloneStorage],
      [{}, NOT_YET.standaloneStorage],
    ];
    for (const [options, message] of refusals) {
      const error = await Keeper.join(options).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeeperError);
      expect((error as KeeperError).code).toBe('UNIMPLEMENTED');
      expect((error as KeeperError).message).toContain(message);
    }
    await expect(Keeper.join({ storage: 'memory', sessionTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'BADARGUMENTS' });
    await expect(Keeper.join({ storage: 'memory', wat: 1 } as never)).rejects.toMatchObject({ code: 'BADARGUMENTS' });
  });
});
