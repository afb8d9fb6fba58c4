/**
 * The API suite: every call and error code of API.md reachable on one ensemble, each case naming
 * the ZooKeeper behaviour it checks (ZooKeeper 3.9's programmer's guide and client/server source).
 * Written once, run against any ensemble: the standalone one (api.test.ts, under vitest), and
 * later real ensembles (browser tabs, edge peers) under Playwright.
 *
 * The cases are plain async functions of a context; this module imports no test runner and no
 * Node module, so a browser page can bundle it and run a case by name (`runApiCase`). A runner
 * supplies `connect`: a fresh Keeper, a way to open more sessions on the same ensemble, and a
 * cleanup. Each case works under its own fresh base path, so cases can share an ensemble.
 *
 *   defineApiSuite('standalone', connect, { describe, it });    // vitest, or any it/describe pair
 *   await runApiCase(caseNamed('multi: all or nothing ...'), connect);   // anywhere
 */

import { KeeperError, type FailureName } from '../core/errors.js';
import { DATA_BYTES_MAX } from '../core/limits.js';
import { digestId } from './digest.js';
import { MultiError } from './errors.js';
import type { Keeper } from './keeper.js';
import { CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, Perms, type ACL, type KeeperState, type Stat, type WatchedEvent, type Watcher } from './types.js';

export interface ApiConnection {
  /** A Keeper with a fresh session on the ensemble under test. */
  keeper: Keeper;
  /** Another session on the same ensemble (the suite closes it after the case). */
  connectAnother(): Promise<Keeper>;
  /** Called after the case, once every Keeper the suite opened is closed. */
  cleanup(): Promise<void>;
}

export type Connect = () => Promise<ApiConnection>;

export interface ApiContext {
  keeper: Keeper;
  /** Opens another session on the same ensemble. */
  another(): Promise<Keeper>;
  /** A fresh, empty persistent node for this case (created by the runner). */
  base: string;
}

export interface ApiCase {
  name: string;
  /** The ZooKeeper behaviour the case checks, with where ZooKeeper defines it. */
  zookeeper: string;
  run(ctx: ApiContext): Promise<void>;
}

/** A failed check: the message says what was expected. */
export class ApiCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiCheckError';
  }
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ApiCheckError(message);
}

export function checkEqual<T>(actual: T, expected: T, message: string): void {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) throw new ApiCheckError(`${message}: expected ${e}, got ${a}`);
}

/** Awaits `promise` and checks it rejects with a KeeperError of `code`; returns the error. */
export async function checkRejects(promise: Promise<unknown>, code: FailureName, message: string): Promise<KeeperError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    if (!(error instanceof KeeperError)) throw new ApiCheckError(`${message}: expected KeeperError ${code}, got ${String(error)}`);
    if (error.code !== code) throw new ApiCheckError(`${message}: expected ${code}, got ${error.code} (${error.message})`);
    return error;
  }
  throw new ApiCheckError(`${message}: expected ${code}, but the call succeeded with ${show(outcome)}`);
}

/** Polls `condition` (every 10 ms) until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new ApiCheckError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? `bytes[${[...v].join(',')}]` : v));
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A watcher that records its events. */
function recorder(): { watcher: Watcher; events: WatchedEvent[] } {
  const events: WatchedEvent[] = [];
  return { watcher: (event) => events.push({ type: event.type, path: event.path }), events };
}

/** A read of `path` after `sync`: by the time it returns, every event of a change it reflects has
 *  been delivered (API.md: a watcher sees its event before any later read that reflects it). */
async function settle(keeper: Keeper, path: string): Promise<void> {
  await keeper.sync(path);
  await keeper.exists(path);
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/** ZooKeeper's documented example (zookeeperAdmin, superDigest): "super:test". */
const SUPER_TEST_DIGEST = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';

// ---------------------------------------------------------------------------------------------

const znodeCases: ApiCase[] = [
  {
    name: 'create and getData round trip: strings as UTF-8, bytes as given, no data as empty',
    zookeeper: 'ZooKeeper.create returns the created path; getData returns the bytes stored',
    async run({ keeper, base }) {
      checkEqual(await keeper.create(`${base}/s`, 'héllo ✓'), `${base}/s`, 'create returns the path');
      checkEqual(text((await keeper.getData(`${base}/s`)).data), 'héllo ✓', 'a string is stored as UTF-8');
      await keeper.create(`${base}/b`, bytes(0, 1, 255));
      checkEqual((await keeper.getData(`${base}/b`)).data, bytes(0, 1, 255), 'bytes are stored as given');
      await keeper.create(`${base}/e`);
      const empty = await keeper.getData(`${base}/e`);
      checkEqual(empty.data.length, 0, 'no data is empty data');
      checkEqual(empty.stat.dataLength, 0, 'dataLength of empty data');
    },
  },
  {
    name: 'Stat of a new node',
    zookeeper: 'DataTree.createNode / DataNode.copyStat: versions 0, czxid = mzxid = pzxid, ctime = mtime, ephemeralOwner 0 (null here)',
    async run({ keeper, base }) {
      await keeper.create(`${base}/n`, 'abc');
      const stat = (await keeper.exists(`${base}/n`)) as Stat;
      check(stat !== null, 'the node exists');
      checkEqual([stat.version, stat.cversion, stat.aversion], [0, 0, 0], 'version, cversion, aversion');
      checkEqual(stat.mzxid, stat.czxid, 'mzxid = czxid');
      checkEqual(stat.pzxid, stat.czxid, 'pzxid = czxid');
      checkEqual(stat.mtime, stat.ctime, 'mtime = ctime');
      check(stat.ctime > 0, 'ctime is the leader clock in ms');
      checkEqual(stat.ephemeralOwner, null, 'ephemeralOwner of a persistent node');
      checkEqual(stat.dataLength, 3, 'dataLength');
      checkEqual(stat.numChildren, 0, 'numChildren');
      await keeper.create(`${base}/m`);
      const later = (await keeper.exists(`${base}/m`)) as Stat;
      check(later.czxid > stat.czxid, 'zxids increase with every write');
      checkEqual(show((await keeper.getData(`${base}/n`)).stat), show(stat), 'getData and exists show the same Stat');
    },
  },
  {
    name: 'setData: version and mzxid move, czxid stays; -1 matches any version; BADVERSION otherwise',
    zookeeper: 'ZooKeeper.setData(path, data, version) and KeeperException.BadVersionException (-103)',
    async run({ keeper, base }) {
      const path = `${base}/v`;
      await keeper.create(path, 'a');
      const before = (await keeper.exists(path)) as Stat;
      const s1 = await keeper.setData(path, 'bb', 0);
      checkEqual(s1.version, 1, 'version after one setData');
      checkEqual(s1.czxid, before.czxid, 'czxid stays');
      check(s1.mzxid > before.mzxid, 'mzxid moves');
      check(s1.mtime >= before.mtime, 'mtime does not go back');
      checkEqual(s1.dataLength, 2, 'dataLength follows the data');
      const s2 = await keeper.setData(path, 'c');
      checkEqual(s2.version, 2, 'version -1 (the default) matches any');
      const error = await checkRejects(keeper.setData(path, 'd', 1), 'BADVERSION', 'setData with a stale version');
      checkEqual(error.errno, -103, 'BADVERSION errno');
      checkEqual(text((await keeper.getData(path)).data), 'c', 'a refused setData changes nothing');
      await checkRejects(keeper.delete(path, 7), 'BADVERSION', 'delete with a wrong version');
      await keeper.delete(path, 2);
      checkEqual(await keeper.exists(path), null, 'delete with the right version');
    },
  },
  {
    name: "a parent's Stat follows its children: numChildren, cversion, pzxid",
    zookeeper: 'DataTree.createNode/deleteNode: cversion counts child changes (copyStat: creates * 2 - numChildren), pzxid is the last child change',
    async run({ keeper, base }) {
      const parent = `${base}/p`;
      await keeper.create(parent, 'x');
      await keeper.create(`${parent}/c`);
      const child = (await keeper.exists(`${parent}/c`)) as Stat;
      let stat = (await keeper.exists(parent)) as Stat;
      checkEqual([stat.numChildren, stat.cversion, stat.pzxid], [1, 1, child.czxid], 'after one create');
      checkEqual(stat.version, 0, "a child does not change the parent's data version");
      await keeper.delete(`${parent}/c`);
      stat = (await keeper.exists(parent)) as Stat;
      checkEqual([stat.numChildren, stat.cversion], [0, 2], 'after the delete');
      check(stat.pzxid > child.czxid, 'pzxid moves to the delete');
      checkEqual(stat.mzxid, stat.czxid, 'mzxid does not move with children');
    },
  },
  {
    name: "sequential names: the parent's create count as %010d",
    zookeeper: 'CreateMode.PERSISTENT_SEQUENTIAL: PrepRequestProcessor appends String.format("%010d", parent cversion)',
    async run({ keeper, base }) {
      const dir = `${base}/q`;
      await keeper.create(dir);
      const names = [];
      for (let i = 0; i < 3; i++) names.push(await keeper.create(`${dir}/n-`, String(i), { mode: 'persistent_sequential' }));
      checkEqual(names, [`${dir}/n-0000000000`, `${dir}/n-0000000001`, `${dir}/n-0000000002`], 'suffixes count up from 0');
      await keeper.delete(names[1] as string);
      await keeper.create(`${dir}/plain`);
      checkEqual(await keeper.create(`${dir}/n-`, '', { mode: 'persistent_sequential' }), `${dir}/n-0000000004`, 'every child create counts, deletes do not');
      checkEqual(await keeper.create(`${dir}/`, '', { mode: 'persistent_sequential' }), `${dir}/0000000005`, 'a sequential path may end with / (PathUtils validates it with the suffix)');
      const eph = await keeper.create(`${dir}/e-`, '', { mode: 'ephemeral_sequential' });
      checkEqual(eph, `${dir}/e-0000000006`, 'ephemeral_sequential uses the same counter');
    },
  },
  {
    name: 'getChildren: the names, sorted',
    zookeeper: 'ZooKeeper.getChildren returns the child names (meshkeeper sorts them, API.md)',
    async run({ keeper, base }) {
      for (const name of ['c', 'a', 'B', 'b']) await keeper.create(`${base}/${name}`);
      checkEqual(await keeper.getChildren(base), ['B', 'a', 'b', 'c'], 'sorted by code unit');
      checkEqual(await keeper.getChildren(`${base}/a`), [], 'a leaf has none');
      check((await keeper.getChildren('/')).includes('zookeeper'), 'the root lists /zookeeper');
    },
  },
  {
    name: 'getAllChildrenNumber counts every descendant',
    zookeeper: 'ZooKeeper.getAllChildrenNumber (3.6+): all descendants, not the node itself',
    async run({ keeper, base }) {
      await keeper.create(`${base}/a`);
      await keeper.create(`${base}/a/b`);
      await keeper.create(`${base}/a/b/c`);
      await keeper.create(`${base}/d`);
      checkEqual(await keeper.getAllChildrenNumber(base), 4, 'descendants of the base');
      checkEqual(await keeper.getAllChildrenNumber(`${base}/a/b/c`), 0, 'a leaf');
      await checkRejects(keeper.getAllChildrenNumber(`${base}/missing`), 'NONODE', 'a missing node');
    },
  },
  {
    name: 'data is copied in and out',
    zookeeper: 'ZooKeeper serializes the request at the call and hands out fresh arrays',
    async run({ keeper, base }) {
      const value = bytes(1, 2, 3);
      const created = keeper.create(`${base}/c`, value);
      value[0] = 9;
      await created;
      const read = await keeper.getData(`${base}/c`);
      checkEqual(read.data, bytes(1, 2, 3), 'changing the caller array after the call changes nothing');
      read.data[1] = 9;
      checkEqual((await keeper.getData(`${base}/c`)).data, bytes(1, 2, 3), 'changing a returned array changes nothing');
    },
  },
  {
    name: 'TTL and container nodes',
    zookeeper: 'CreateMode.PERSISTENT_WITH_TTL / CONTAINER (3.5+): plain nodes to the client, ephemeralOwner 0',
    async run({ keeper, base }) {
      checkEqual(await keeper.create(`${base}/t`, 'x', { mode: 'persistent_ttl', ttlMs: 60_000 }), `${base}/t`, 'a TTL node');
      const seq = await keeper.create(`${base}/ts-`, 'x', { mode: 'persistent_sequential_ttl', ttlMs: 60_000 });
      checkEqual(seq, `${base}/ts-0000000001`, 'a sequential TTL node');
      await keeper.create(`${base}/k`, '', { mode: 'container' });
      await keeper.create(`${base}/k/child`);
      checkEqual((await keeper.exists(`${base}/t`))?.ephemeralOwner, null, 'a TTL node has no owner');
      checkEqual((await keeper.exists(`${base}/k`))?.numChildren, 1, 'a container holds children');
    },
  },
];

const errorCases: ApiCase[] = [
  {
    name: 'NODEEXISTS and NONODE',
    zookeeper: 'KeeperException.NodeExistsException (-110), NoNodeException (-101); exists answers null, not NONODE',
    async run({ keeper, base }) {
      await keeper.create(`${base}/x`);
      checkEqual((await checkRejects(keeper.create(`${base}/x`), 'NODEEXISTS', 'create twice')).errno, -110, 'NODEEXISTS errno');
      const missing = `${base}/missing`;
      checkEqual((await checkRejects(keeper.create(`${missing}/child`), 'NONODE', 'create under a missing parent')).errno, -101, 'NONODE errno');
      await checkRejects(keeper.getData(missing), 'NONODE', 'getData');
      await checkRejects(keeper.setData(missing, 'x'), 'NONODE', 'setData');
      await checkRejects(keeper.delete(missing), 'NONODE', 'delete');
      await checkRejects(keeper.getChildren(missing), 'NONODE', 'getChildren');
      await checkRejects(keeper.getACL(missing), 'NONODE', 'getACL');
      await checkRejects(keeper.setACL(missing, [...OPEN_ACL_UNSAFE]), 'NONODE', 'setACL');
      checkEqual(await keeper.exists(missing), null, 'exists of a missing node');
      const error = await checkRejects(keeper.getData(missing), 'NONODE', 'getData');
      checkEqual(error.path, missing, 'the error names the path');
    },
  },
  {
    name: 'NOTEMPTY: a node with children cannot be deleted',
    zookeeper: 'KeeperException.NotEmptyException (-111)',
    async run({ keeper, base }) {
      await keeper.create(`${base}/p`);
      await keeper.create(`${base}/p/c`);
      checkEqual((await checkRejects(keeper.delete(`${base}/p`), 'NOTEMPTY', 'delete a parent')).errno, -111, 'errno');
      check((await keeper.exists(`${base}/p/c`)) !== null, 'nothing was deleted');
    },
  },
  {
    name: 'NOCHILDRENFOREPHEMERALS',
    zookeeper: 'KeeperException.NoChildrenForEphemeralsException (-108)',
    async run({ keeper, base }) {
      await keeper.create(`${base}/e`, '', { mode: 'ephemeral' });
      const error = await checkRejects(keeper.create(`${base}/e/c`), 'NOCHILDRENFOREPHEMERALS', 'a child of an ephemeral');
      checkEqual(error.errno, -108, 'errno');
      await checkRejects(keeper.create(`${base}/e/s-`, '', { mode: 'persistent_sequential' }), 'NOCHILDRENFOREPHEMERALS', 'a sequential child');
    },
  },
  {
    name: 'BADARGUMENTS: malformed paths are refused before sending',
    zookeeper: 'PathUtils.validatePath in the Java client (IllegalArgumentException there; BADARGUMENTS -8 here)',
    async run({ keeper, base }) {
      const bad = ['', 'a', `${base}/`, `${base}//x`, `${base}/.`, `${base}/..`, `${base}/./x`, `${base}/x\u0000`, `${base}/\u0001`, `${base}/\ud800`];
      for (const path of bad) {
        const error = await checkRejects(keeper.create(path), 'BADARGUMENTS', `create ${JSON.stringify(path)}`);
        checkEqual(error.errno, -8, 'errno');
        await checkRejects(keeper.getData(path), 'BADARGUMENTS', `getData ${JSON.stringify(path)}`);
        await checkRejects(keeper.exists(path), 'BADARGUMENTS', `exists ${JSON.stringify(path)}`);
      }
      await checkRejects(keeper.create(`${base}/`), 'BADARGUMENTS', 'a trailing slash on a plain create');
      await checkRejects(keeper.sync('nope'), 'BADARGUMENTS', 'sync');
      await checkRejects(keeper.getEphemerals('nope'), 'BADARGUMENTS', 'getEphemerals');
      await checkRejects(keeper.removeWatches('nope'), 'BADARGUMENTS', 'removeWatches');
      await checkRejects(keeper.addWatch('nope', 'persistent', () => undefined), 'BADARGUMENTS', 'addWatch');
      checkEqual(await keeper.getAllChildrenNumber(base), 0, 'nothing was created');
      checkEqual(await keeper.create(`${base}/a.b..c`), `${base}/a.b..c`, 'dots inside a name are fine');
    },
  },
  {
    name: 'BADARGUMENTS: modes, TTLs, versions, data and watchers of the wrong kind',
    zookeeper: 'EphemeralType.validateTTL, CreateMode.fromFlag and the Java signatures (int version, byte[] data, Watcher)',
    async run({ keeper, base }) {
      const p = `${base}/n`;
      await checkRejects(keeper.create(p, '', { mode: 'persistent', ttlMs: 1000 }), 'BADARGUMENTS', 'a TTL on a persistent node');
      await checkRejects(keeper.create(p, '', { mode: 'persistent_ttl' }), 'BADARGUMENTS', 'a TTL mode without ttlMs');
      await checkRejects(keeper.create(p, '', { mode: 'persistent_ttl', ttlMs: 0 }), 'BADARGUMENTS', 'ttlMs 0');
      await checkRejects(keeper.create(p, '', { mode: 'sometimes' as never }), 'BADARGUMENTS', 'an unknown mode');
      await checkRejects(keeper.create(p, 42 as never), 'BADARGUMENTS', 'data that is a number');
      await checkRejects(keeper.create(p, '', { colour: 'red' } as never), 'BADARGUMENTS', 'an unknown option');
      await keeper.create(p);
      await checkRejects(keeper.setData(p, 'x', 1.5), 'BADARGUMENTS', 'a fractional version');
      await checkRejects(keeper.delete(p, 2 ** 31), 'BADARGUMENTS', 'a version beyond int32');
      await checkRejects(keeper.getData(p, { watch: 'yes' as never }), 'BADARGUMENTS', 'a watcher that is not a function');
      await checkRejects(keeper.addWatch(p, 'forever' as never, () => undefined), 'BADARGUMENTS', 'an unknown addWatch mode');
      await checkRejects(keeper.create(`${base}/big`, new Uint8Array(DATA_BYTES_MAX + 1)), 'BADARGUMENTS', 'data above DATA_BYTES_MAX');
      checkEqual((await keeper.exists(p))?.version, 0, 'nothing changed');
    },
  },
  {
    name: 'the reserved /zookeeper subtree is readable, not writable; / cannot be deleted',
    zookeeper: "DataTree's /zookeeper, /zookeeper/quota, /zookeeper/config; PrepRequestProcessor refuses special paths (BADARGUMENTS)",
    async run({ keeper }) {
      check((await keeper.exists('/zookeeper')) !== null, '/zookeeper exists');
      check((await keeper.getChildren('/zookeeper')).includes('quota'), '/zookeeper/quota exists');
      await checkRejects(keeper.create('/zookeeper/mine'), 'BADARGUMENTS', 'create under /zookeeper');
      await checkRejects(keeper.setData('/zookeeper', 'x'), 'BADARGUMENTS', 'setData /zookeeper');
      await checkRejects(keeper.delete('/zookeeper/quota'), 'BADARGUMENTS', 'delete /zookeeper/quota');
      await checkRejects(keeper.delete('/'), 'BADARGUMENTS', 'delete /');
      await checkRejects(keeper.create('/'), 'NODEEXISTS', 'create /');
    },
  },
];

const sessionCases: ApiCase[] = [
  {
    name: 'ephemerals belong to their session and vanish when it closes',
    zookeeper: 'CreateMode.EPHEMERAL: Stat.ephemeralOwner is the session id; closeSession deletes them on every replica',
    async run({ keeper, another, base }) {
      const owner = await another();
      const path = await owner.create(`${base}/e`, 'mine', { mode: 'ephemeral' });
      await keeper.sync(path);
      const stat = await keeper.exists(path);
      check(stat !== null, 'the other session sees the ephemeral');
      checkEqual(stat.ephemeralOwner, owner.sessionId, 'ephemeralOwner is the owner session');
      checkEqual(((await owner.exists(path)) as Stat).ephemeralOwner, owner.sessionId, 'the owner sees itself');
      check(owner.sessionId !== keeper.sessionId, 'two sessions have two ids');
      const seen = recorder();
      await keeper.exists(path, { watch: seen.watcher });
      await owner.close();
      await waitFor(() => seen.events.length > 0, 'NodeDeleted of the ephemeral');
      checkEqual(seen.events, [{ type: 'NodeDeleted', path }], 'the watcher hears the ephemeral go');
      await keeper.sync(path);
      checkEqual(await keeper.exists(path), null, 'the ephemeral is gone');
      checkEqual(await keeper.getChildren(base), [], 'nothing left under the base');
    },
  },
  {
    name: "getEphemerals lists this session's ephemerals by string prefix, sorted",
    zookeeper: 'ZooKeeper.getEphemerals(prefixPath) (3.6+): the caller session only; the prefix is a plain string',
    async run({ keeper, another, base }) {
      const other = await another();
      await keeper.create(`${base}/eb`, '', { mode: 'ephemeral' });
      await keeper.create(`${base}/ea`, '', { mode: 'ephemeral' });
      await keeper.create(`${base}/persistent`);
      await keeper.create(`${base}/x`, '', { mode: 'ephemeral' });
      await other.create(`${base}/ec`, '', { mode: 'ephemeral' });
      checkEqual(await keeper.getEphemerals(base), [`${base}/ea`, `${base}/eb`, `${base}/x`], 'under the base');
      checkEqual(await keeper.getEphemerals(`${base}/e`), [`${base}/ea`, `${base}/eb`], 'a string prefix');
      check((await keeper.getEphemerals()).includes(`${base}/x`), "the default prefix '/' lists them all");
      checkEqual(await other.getEphemerals(base), [`${base}/ec`], "the other session's own");
    },
  },
  {
    name: 'calls after close() reject with SESSIONEXPIRED; close is idempotent and emits closed',
    zookeeper: 'ClientCnxn on a CLOSED connection answers SESSIONEXPIRED (-112) (conLossPacket)',
    async run({ another, base }) {
      const k = await another();
      const states: KeeperState[] = [];
      k.on('state', (state) => states.push(state));
      checkEqual(k.state, 'connected', 'a joined keeper is connected');
      await k.close();
      checkEqual(k.state, 'closed', 'state after close');
      checkEqual(states, ['closed'], 'one state event');
      const error = await checkRejects(k.create(`${base}/late`), 'SESSIONEXPIRED', 'create after close');
      checkEqual(error.errno, -112, 'errno');
      await checkRejects(k.getData(base), 'SESSIONEXPIRED', 'a read after close');
      await checkRejects(k.addAuthInfo('digest', 'a:b'), 'SESSIONEXPIRED', 'addAuthInfo after close');
      await k.close();
      checkEqual(states, ['closed'], 'a second close changes nothing');
    },
  },
  {
    name: 'status() and the session: the serving peer, a quorum, a negotiated timeout',
    zookeeper: 'ZooKeeper.getSessionId / getSessionTimeout; the peer status is meshkeeper API.md',
    async run({ keeper }) {
      const status = keeper.status();
      check(typeof status.peerId === 'string' && status.peerId.length > 0, 'a peer id');
      check(['leader', 'follower', 'candidate', 'observer'].includes(status.role), `a role, got ${status.role}`);
      check(status.voters.length >= 1, 'at least one voter');
      check(status.quorum, 'a serving ensemble has a quorum');
      check(status.appliedIndex <= status.commitIndex, 'applied <= committed');
      check(Number.isInteger(status.term) && status.term >= 1, 'a term');
      check(keeper.sessionTimeoutMs >= 4000 && keeper.sessionTimeoutMs <= 40_000, 'a timeout within ZooKeeper bounds');
      check(typeof keeper.sessionId === 'string' && keeper.sessionId.length > 0, 'a session id');
    },
  },
];

const watchCases: ApiCase[] = [
  {
    name: 'a getData watch fires once, even while another watch on the path keeps firing',
    zookeeper: 'Standard watches are one-time triggers (zookeeperProgrammers "ZooKeeper Watches"); ZKWatchManager.materialize removes them',
    async run({ keeper, base }) {
      const p = `${base}/w`;
      await keeper.create(p, '0');
      const seen = recorder();
      await keeper.getData(p, { watch: seen.watcher });
      await keeper.setData(p, '1');
      await keeper.setData(p, '2');
      await settle(keeper, p);
      checkEqual(seen.events, [{ type: 'NodeDataChanged', path: p }], 'one event for two changes');
      const once = recorder();
      const always = recorder();
      await keeper.exists(p, { watch: once.watcher });
      await keeper.addWatch(p, 'persistent', always.watcher);
      await keeper.setData(p, '3');
      await keeper.setData(p, '4');
      await settle(keeper, p);
      checkEqual([once.events.length, always.events.length], [1, 2], 'the one-shot is used up although events for the path keep coming');
    },
  },
  {
    name: 'exists on a missing node watches for its creation; getData on a missing node sets no watch',
    zookeeper: 'ExistsWatchRegistration registers on NONODE too; DataWatchRegistration only on success',
    async run({ keeper, base }) {
      const p = `${base}/later`;
      const onExists = recorder();
      const onGetData = recorder();
      checkEqual(await keeper.exists(p, { watch: onExists.watcher }), null, 'missing');
      await checkRejects(keeper.getData(p, { watch: onGetData.watcher }), 'NONODE', 'getData of the missing node');
      await keeper.create(p);
      await keeper.setData(p, 'x');
      await settle(keeper, p);
      checkEqual(onExists.events, [{ type: 'NodeCreated', path: p }], 'the exists watch fires on creation, once');
      checkEqual(onGetData.events, [], 'the failed getData set no watch');
    },
  },
  {
    name: 'a child watch fires on child create and delete, not on child data',
    zookeeper: 'getChildren watches fire NodeChildrenChanged (and NodeDeleted of the node itself)',
    async run({ keeper, base }) {
      const seen = recorder();
      await keeper.create(`${base}/a`);
      checkEqual(await keeper.getChildren(base, { watch: seen.watcher }), ['a'], 'children');
      await keeper.setData(`${base}/a`, 'changed');
      await settle(keeper, base);
      checkEqual(seen.events, [], "a child's data is not a child change");
      await keeper.create(`${base}/b`);
      await keeper.delete(`${base}/b`);
      await settle(keeper, base);
      checkEqual(seen.events, [{ type: 'NodeChildrenChanged', path: base }], 'one event (one-shot)');
    },
  },
  {
    name: 'NodeDeleted fires the data, exists and child watches of the node',
    zookeeper: 'ZKWatchManager.materialize(NodeDeleted): dataWatches, existWatches and childWatches of the path',
    async run({ keeper, base }) {
      const p = `${base}/d`;
      await keeper.create(p);
      const data = recorder();
      const exist = recorder();
      const child = recorder();
      const parent = recorder();
      await keeper.getData(p, { watch: data.watcher });
      await keeper.exists(p, { watch: exist.watcher });
      await keeper.getChildren(p, { watch: child.watcher });
      await keeper.getChildren(base, { watch: parent.watcher });
      await keeper.delete(p);
      await settle(keeper, base);
      const deleted = [{ type: 'NodeDeleted', path: p }];
      checkEqual(data.events, deleted, 'data watch');
      checkEqual(exist.events, deleted, 'exists watch');
      checkEqual(child.events, deleted, 'child watch');
      checkEqual(parent.events, [{ type: 'NodeChildrenChanged', path: base }], "the parent's child watch");
    },
  },
  {
    name: 'a persistent watch keeps firing for its path, child changes included',
    zookeeper: 'addWatch(path, AddWatchMode.PERSISTENT) (3.6+): every event type of the path, until removed',
    async run({ keeper, base }) {
      const p = `${base}/p`;
      await keeper.create(p);
      const seen = recorder();
      await keeper.addWatch(p, 'persistent', seen.watcher);
      await keeper.setData(p, '1');
      await keeper.setData(p, '2');
      await keeper.create(`${p}/c`);
      await keeper.setData(`${p}/c`, 'x');
      await keeper.delete(`${p}/c`);
      await keeper.delete(p);
      await keeper.create(p);
      await settle(keeper, p);
      checkEqual(
        seen.events.map((e) => `${e.type} ${e.path}`),
        ['NodeDataChanged', 'NodeDataChanged', 'NodeChildrenChanged', 'NodeChildrenChanged', 'NodeDeleted', 'NodeCreated'].map((t) => `${t} ${p}`),
        'every event of the path, in order, none of the child itself',
      );
    },
  },
  {
    name: 'a recursive watch hears the whole subtree but never NodeChildrenChanged',
    zookeeper: 'AddWatchMode.PERSISTENT_RECURSIVE; ZKWatchManager.addPersistentWatches skips child events',
    async run({ keeper, base }) {
      const r = `${base}/r`;
      await keeper.create(r);
      const seen = recorder();
      const children = recorder();
      await keeper.addWatch(r, 'persistent_recursive', seen.watcher);
      await keeper.create(`${r}/a`);
      await keeper.getChildren(`${r}/a`, { watch: children.watcher });
      await keeper.create(`${r}/a/b`, '');
      await keeper.setData(`${r}/a/b`, 'x');
      await keeper.delete(`${r}/a/b`);
      await keeper.setData(r, 'self');
      await keeper.create(`${base}/outside`);
      await settle(keeper, r);
      checkEqual(
        seen.events.map((e) => `${e.type} ${e.path}`),
        [`NodeCreated ${r}/a`, `NodeCreated ${r}/a/b`, `NodeDataChanged ${r}/a/b`, `NodeDeleted ${r}/a/b`, `NodeDataChanged ${r}`],
        'the subtree, in order, no child events and nothing outside',
      );
      checkEqual(children.events, [{ type: 'NodeChildrenChanged', path: `${r}/a` }], 'the child watch on a descendant still fires');
    },
  },
  {
    name: 'a watcher registered several times for one path is called once per event',
    zookeeper: 'ZKWatchManager keeps Sets of Watchers and materializes one Set per event',
    async run({ keeper, base }) {
      const p = `${base}/dup`;
      await keeper.create(p);
      const seen = recorder();
      await keeper.getData(p, { watch: seen.watcher });
      await keeper.getData(p, { watch: seen.watcher });
      await keeper.exists(p, { watch: seen.watcher });
      await keeper.addWatch(p, 'persistent', seen.watcher);
      await keeper.addWatch(base, 'persistent_recursive', seen.watcher);
      await keeper.setData(p, 'x');
      await settle(keeper, p);
      checkEqual(seen.events, [{ type: 'NodeDataChanged', path: p }], 'one call');
      const other = recorder();
      await keeper.getData(p, { watch: other.watcher });
      await keeper.setData(p, 'y');
      await settle(keeper, p);
      checkEqual(seen.events.length, 2, 'the persistent registrations fire again');
      checkEqual(other.events.length, 1, 'a second function is a second watcher');
    },
  },
  {
    name: 'a watcher sees its event before any read that reflects the change',
    zookeeper: 'zookeeperProgrammers "ZooKeeper Watches": a client never sees a change for which it set a watch before the event',
    async run({ keeper, another, base }) {
      const p = `${base}/order`;
      await keeper.create(p, 'old');
      const writer = await another();
      const seen = recorder();
      await keeper.getData(p, { watch: seen.watcher });
      await writer.setData(p, 'new');
      let reflected = false;
      await waitFor(async () => {
        const { data } = await keeper.getData(p);
        reflected = text(data) === 'new';
        if (reflected) check(seen.events.length === 1, 'the event arrived before the read that shows the new data');
        return reflected;
      }, 'the change to reach the reader');
      const own = recorder();
      await keeper.getData(p, { watch: own.watcher });
      await keeper.setData(p, 'mine');
      checkEqual(own.events.length, 1, "the event of the keeper's own write arrives before the write's answer");
    },
  },
  {
    name: 'removeWatches: one watcher, all watchers, NOWATCHER',
    zookeeper: 'ZooKeeper.removeWatches / removeAllWatches (WatcherType.Any) and NoWatcherException (-121)',
    async run({ keeper, base }) {
      const p = `${base}/rw`;
      await keeper.create(p);
      const a = recorder();
      const b = recorder();
      await keeper.getData(p, { watch: a.watcher });
      await keeper.getData(p, { watch: b.watcher });
      await keeper.removeWatches(p, a.watcher);
      await keeper.setData(p, '1');
      await settle(keeper, p);
      checkEqual([a.events.length, b.events.length], [0, 1], 'only the removed watcher is silent');
      const error = await checkRejects(keeper.removeWatches(p, a.watcher), 'NOWATCHER', 'removing it again');
      checkEqual(error.errno, -121, 'errno');
      await checkRejects(keeper.removeWatches(`${base}/none`), 'NOWATCHER', 'no watch at the path');
      const persistent = recorder();
      await keeper.addWatch(p, 'persistent', persistent.watcher);
      await keeper.exists(p, { watch: a.watcher });
      await keeper.removeWatches(p);
      await keeper.setData(p, '2');
      await settle(keeper, p);
      checkEqual([persistent.events.length, a.events.length], [0, 0], 'removeWatches without a watcher removes them all');
      const again = recorder();
      await keeper.addWatch(p, 'persistent', again.watcher);
      await keeper.setData(p, '3');
      await settle(keeper, p);
      checkEqual(again.events.length, 1, 'a watch added after removal works');
    },
  },
];

const multiCases: ApiCase[] = [
  {
    name: 'multi: every op applies, in order, with per-op results',
    zookeeper: 'ZooKeeper.multi: later ops see earlier ones; CreateResult, SetDataResult, CheckResult, DeleteResult',
    async run({ keeper, base }) {
      const results = await keeper.multi([
        { op: 'create', path: `${base}/m`, data: 'a' },
        { op: 'create', path: `${base}/m/s-`, mode: 'persistent_sequential' },
        { op: 'setData', path: `${base}/m`, data: 'b', version: 0 },
        { op: 'check', path: `${base}/m`, version: 1 },
        { op: 'create', path: `${base}/gone` },
        { op: 'delete', path: `${base}/gone`, version: 0 },
      ]);
      checkEqual(results.map((r) => r.op), ['create', 'create', 'setData', 'check', 'create', 'delete'], 'one result per op');
      const [first, second, third] = results;
      check(first?.op === 'create' && second?.op === 'create' && third?.op === 'setData', 'result kinds');
      checkEqual(second.path, `${base}/m/s-0000000000`, 'a sequential create names its path');
      checkEqual(third.stat.version, 1, 'setData result carries the Stat');
      checkEqual(first.stat.czxid, third.stat.mzxid, 'every op shares the multi zxid');
      checkEqual(text((await keeper.getData(`${base}/m`)).data), 'b', 'applied');
      checkEqual(await keeper.exists(`${base}/gone`), null, 'created and deleted in one multi');
      checkEqual(await keeper.multi([]), [], 'an empty multi succeeds');
    },
  },
  {
    name: "multi: all or nothing; the error is the first failing op's, with per-op results",
    zookeeper: 'KeeperException.getResults(): OK before the failure, its code, RUNTIMEINCONSISTENCY after',
    async run({ keeper, base }) {
      await keeper.create(`${base}/v`, '', {});
      const refused = keeper.multi([
        { op: 'create', path: `${base}/a` },
        { op: 'setData', path: `${base}/missing`, data: 'x' },
        { op: 'check', path: `${base}/v`, version: 5 },
        { op: 'create', path: `${base}/b` },
      ]);
      const error = await checkRejects(refused, 'NONODE', 'the first failing op decides the code');
      check(error instanceof MultiError, 'a MultiError (a KeeperError)');
      checkEqual(error.failedOp, 1, 'the failing op');
      checkEqual(
        error.results,
        [
          { op: 'error', code: 'OK' },
          { op: 'error', code: 'NONODE' },
          { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
          { op: 'error', code: 'RUNTIMEINCONSISTENCY' },
        ],
        'per-op results',
      );
      checkEqual(await keeper.getChildren(base), ['v'], 'nothing applied');
      const version = await checkRejects(keeper.multi([{ op: 'setData', path: `${base}/v`, data: 'x' }, { op: 'check', path: `${base}/v`, version: 0 }]), 'BADVERSION', 'a check after a setData');
      checkEqual((version as MultiError).results.map((r) => (r.op === 'error' ? r.code : r.op)), ['OK', 'BADVERSION'], 'check results');
      checkEqual((await keeper.exists(`${base}/v`))?.version, 0, 'the setData was rolled back');
    },
  },
  {
    name: 'multi: a malformed op is refused before sending, with per-op results',
    zookeeper: 'ZooKeeper.multi validates every Op first (Op.validate: PathUtils, validateTTL)',
    async run({ keeper, base }) {
      const error = await checkRejects(
        keeper.multi([{ op: 'create', path: `${base}/ok` }, { op: 'delete', path: 'relative' }, { op: 'check', path: base, version: 0 }]),
        'BADARGUMENTS',
        'a relative path in op 1',
      );
      check(error instanceof MultiError, 'a MultiError');
      checkEqual(error.results.map((r) => (r.op === 'error' ? r.code : r.op)), ['OK', 'BADARGUMENTS', 'RUNTIMEINCONSISTENCY'], 'per-op results');
      await checkRejects(keeper.multi([{ op: 'getData', path: base } as never]), 'BADARGUMENTS', 'a read inside a multi');
      checkEqual(await keeper.exists(`${base}/ok`), null, 'nothing applied');
    },
  },
];

const aclCases: ApiCase[] = [
  {
    name: 'digest auth: the identity, NOAUTH without it, access with it',
    zookeeper: 'DigestAuthenticationProvider: digest:user:base64(sha1(user:password)); KeeperException.NoAuthException (-102)',
    async run({ keeper, another, base }) {
      checkEqual(await digestId('super:test'), SUPER_TEST_DIGEST, "ZooKeeper's documented digest of super:test");
      const alice = await digestId('alice:secret');
      const acl: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'digest', id: alice } }];
      await keeper.addAuthInfo('digest', 'alice:secret');
      const p = `${base}/private`;
      await keeper.create(p, 'secret data', { acl });
      await keeper.create(`${p}/child`, '', { acl });
      const stranger = await another();
      check((await stranger.exists(p)) !== null, 'exists needs no permission');
      const error = await checkRejects(stranger.getData(p), 'NOAUTH', 'getData without READ');
      checkEqual(error.errno, -102, 'errno');
      await checkRejects(stranger.setData(p, 'x'), 'NOAUTH', 'setData without WRITE');
      await checkRejects(stranger.create(`${p}/mine`), 'NOAUTH', 'create without CREATE');
      await checkRejects(stranger.delete(`${p}/child`), 'NOAUTH', 'delete without DELETE on the parent');
      await checkRejects(stranger.getChildren(p), 'NOAUTH', 'getChildren without READ');
      await checkRejects(stranger.getACL(p), 'NOAUTH', 'getACL without READ or ADMIN');
      await stranger.addAuthInfo('digest', 'alice:wrong');
      await checkRejects(stranger.getData(p), 'NOAUTH', 'a wrong password is another identity');
      await stranger.addAuthInfo('digest', 'alice:secret');
      checkEqual(text((await stranger.getData(p)).data), 'secret data', 'READ with the identity');
      await stranger.setData(p, 'changed');
      // The two sessions may be served by different peers: sync before reading another's write.
      await keeper.sync(p);
      checkEqual(text((await keeper.getData(p)).data), 'changed', 'WRITE with the identity');
    },
  },
  {
    name: "the auth scheme expands to the session's identities; without one it is INVALIDACL",
    zookeeper: "PrepRequestProcessor.fixupACL: Ids.CREATOR_ALL_ACL (auth:) becomes the caller's authenticated ids",
    async run({ keeper, another, base }) {
      const anonymous = await another();
      await checkRejects(anonymous.create(`${base}/x`, '', { acl: [...CREATOR_ALL_ACL] }), 'INVALIDACL', 'auth scheme with no identity');
      await keeper.addAuthInfo('digest', 'bob:pw');
      await keeper.create(`${base}/mine`, '', { acl: [...CREATOR_ALL_ACL] });
      const { acl } = await keeper.getACL(`${base}/mine`);
      checkEqual(acl, [{ perms: Perms.ALL, id: { scheme: 'digest', id: await digestId('bob:pw') } }], 'expanded to the digest id');
    },
  },
  {
    name: 'INVALIDACL: an empty list, an unknown scheme, a malformed id',
    zookeeper: 'KeeperException.InvalidACLException (-114): validateACL in the client, fixupACL on the server',
    async run({ keeper, base }) {
      const error = await checkRejects(keeper.create(`${base}/a`, '', { acl: [] }), 'INVALIDACL', 'an empty ACL');
      checkEqual(error.errno, -114, 'errno');
      await checkRejects(keeper.create(`${base}/b`, '', { acl: [{ perms: Perms.ALL, id: { scheme: 'ip', id: '127.0.0.1' } }] }), 'INVALIDACL', 'the ip scheme has no provider here');
      await checkRejects(keeper.create(`${base}/c`, '', { acl: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'someone' } }] }), 'INVALIDACL', 'world:someone');
      await checkRejects(keeper.create(`${base}/d`, '', { acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'no-colon' } }] }), 'INVALIDACL', 'a malformed digest id');
      await keeper.create(`${base}/e`);
      await checkRejects(keeper.setACL(`${base}/e`, []), 'INVALIDACL', 'setACL with an empty list');
      checkEqual(await keeper.getChildren(base), ['e'], 'nothing else was created');
    },
  },
  {
    name: 'getACL and setACL: aversion, BADVERSION, ADMIN, redaction',
    zookeeper: 'ZooKeeper.setACL(path, acl, aversion); getACL redacts digest ids without ADMIN (3.9)',
    async run({ keeper, another, base }) {
      const p = `${base}/acl`;
      await keeper.create(p);
      const initial = await keeper.getACL(p);
      checkEqual(initial.acl, [...OPEN_ACL_UNSAFE], 'OPEN_ACL_UNSAFE by default');
      checkEqual(initial.stat.aversion, 0, 'aversion 0');
      const carol = await digestId('carol:pw');
      const acl: ACL[] = [
        { perms: Perms.ALL, id: { scheme: 'digest', id: carol } },
        { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
      ];
      const stat = await keeper.setACL(p, acl, 0);
      checkEqual([stat.aversion, stat.version], [1, 0], 'aversion moves, version does not');
      await checkRejects(keeper.setACL(p, acl, 0), 'NOAUTH', 'the old ACL is gone: no ADMIN any more');
      const reader = await another();
      const seen = await reader.getACL(p);
      checkEqual(seen.acl[0]?.id, { scheme: 'digest', id: 'carol:x' }, 'the digest is redacted without ADMIN');
      await checkRejects(reader.setACL(p, [...OPEN_ACL_UNSAFE]), 'NOAUTH', 'setACL without ADMIN');
      await reader.addAuthInfo('digest', 'carol:pw');
      checkEqual((await reader.getACL(p)).acl[0]?.id.id, carol, 'the digest is shown with ADMIN');
      await checkRejects(reader.setACL(p, [...OPEN_ACL_UNSAFE], 0), 'BADVERSION', 'a stale aversion');
      checkEqual((await reader.setACL(p, [...OPEN_ACL_UNSAFE], 1)).aversion, 2, 'the right aversion');
    },
  },
  {
    name: 'addAuthInfo: unknown schemes and malformed digests are refused',
    zookeeper: 'ProviderRegistry has no provider for the scheme: AUTHFAILED (-115); the session goes on here',
    async run({ keeper, base }) {
      checkEqual((await checkRejects(keeper.addAuthInfo('ip', '127.0.0.1'), 'AUTHFAILED', 'an unknown scheme')).errno, -115, 'errno');
      await checkRejects(keeper.addAuthInfo('digest', 'no-password'), 'BADARGUMENTS', 'no colon');
      await checkRejects(keeper.addAuthInfo('digest', ':pw'), 'BADARGUMENTS', 'no user');
      await keeper.create(`${base}/still-fine`);
    },
  },
];

const orderCases: ApiCase[] = [
  {
    name: 'sync then read sees every write committed before the sync',
    zookeeper: 'ZooKeeper.sync: "a read after it sees every update before the sync" (zookeeperProgrammers, Consistency Guarantees)',
    async run({ keeper, another, base }) {
      const writer = await another();
      const p = `${base}/s`;
      await writer.create(p, '0');
      for (let i = 1; i <= 5; i++) {
        await writer.setData(p, String(i));
        await keeper.sync(p);
        checkEqual(text((await keeper.getData(p)).data), String(i), `read after sync ${i}`);
      }
      await keeper.sync();
    },
  },
  {
    name: 'pipelined calls complete and take effect in the order they were issued',
    zookeeper: 'ZooKeeper guarantee: "updates from a client are applied in the order that they were sent", replies in order (FIFO client order)',
    async run({ keeper, base }) {
      const p = `${base}/fifo`;
      const completions: number[] = [];
      const calls: Promise<unknown>[] = [];
      const track = (index: number, call: Promise<unknown>): void => {
        calls.push(call.then((value) => (completions.push(index), value)));
      };
      track(0, keeper.create(p, '0'));
      const versionsSeen: Promise<number>[] = [];
      for (let i = 1; i <= 40; i++) {
        track(calls.length, keeper.setData(p, String(i), i - 1)); // an explicit version: out of order would be BADVERSION
        if (i % 10 === 0) {
          const read = keeper.getData(p);
          track(calls.length, read);
          versionsSeen.push(read.then(({ stat }) => stat.version));
        }
      }
      track(calls.length, keeper.create(`${p}/child`, '', { mode: 'ephemeral' }));
      track(calls.length, keeper.delete(`${p}/child`));
      const gone = keeper.exists(`${p}/child`);
      track(calls.length, gone);
      await Promise.all(calls);
      checkEqual(await gone, null, 'exists after the delete issued before it');
      checkEqual(completions, completions.slice().sort((a, b) => a - b), 'completions in issue order');
      checkEqual(await Promise.all(versionsSeen), [10, 20, 30, 40], 'each read sees exactly the writes issued before it');
      checkEqual(text((await keeper.getData(p)).data), '40', 'the last write wins');
    },
  },
  {
    name: 'addAuthInfo is in effect for the calls issued after it, without awaiting it',
    zookeeper: "ZooKeeper.addAuthInfo is queued like any request: later requests carry the identity",
    async run({ keeper, base }) {
      const auth = keeper.addAuthInfo('digest', 'dave:pw');
      const created = keeper.create(`${base}/d`, '', { acl: [...CREATOR_ALL_ACL] });
      await auth;
      checkEqual(await created, `${base}/d`, 'the auth: ACL found the identity');
    },
  },
  {
    name: 'removeWatches issued right after a watching read removes that watch',
    zookeeper: 'ZKWatchManager: a read registers its watch on its reply, before later replies; removal follows in order',
    async run({ keeper, base }) {
      const p = `${base}/r`;
      await keeper.create(p);
      const seen = recorder();
      const read = keeper.getData(p, { watch: seen.watcher });
      const removed = keeper.removeWatches(p, seen.watcher);
      await read;
      await removed;
      await keeper.setData(p, 'x');
      await settle(keeper, p);
      checkEqual(seen.events, [], 'the watch was removed');
    },
  },
];

export const API_CASES: readonly ApiCase[] = [...znodeCases, ...errorCases, ...sessionCases, ...watchCases, ...multiCases, ...aclCases, ...orderCases];

export function caseNamed(name: string): ApiCase {
  const found = API_CASES.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no API case named ${JSON.stringify(name)}`);
  return found;
}

let baseCounter = 0;

/** Runs one case on a fresh connection: creates its base path, runs it, closes every Keeper it
 *  opened, removes what it left, and calls the connection's cleanup. */
export async function runApiCase(apiCase: ApiCase, connect: Connect): Promise<void> {
  const connection = await connect();
  const opened: Keeper[] = [];
  baseCounter += 1;
  const slug = apiCase.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40).replace(/-+$/, '');
  const base = `/api-${slug}-${Date.now().toString(36)}-${baseCounter}`;
  let failure: unknown = null;
  try {
    await connection.keeper.create(base);
    const ctx: ApiContext = {
      keeper: connection.keeper,
      base,
      another: async () => {
        const keeper = await connection.connectAnother();
        opened.push(keeper);
        return keeper;
      },
    };
    await apiCase.run(ctx);
  } catch (error) {
    failure = error;
  }
  for (const keeper of opened) await keeper.close();
  if (connection.keeper.state === 'connected') await removeTree(connection.keeper, base).catch(() => undefined);
  await connection.cleanup();
  if (failure !== null) {
    if (failure instanceof Error) failure.message = `${apiCase.name} [ZooKeeper: ${apiCase.zookeeper}]\n${failure.message}`;
    throw failure;
  }
}

/** Deletes `path` and everything below it (best effort: the case may have left ACLs in the way). */
async function removeTree(keeper: Keeper, path: string): Promise<void> {
  for (const child of await keeper.getChildren(path)) await removeTree(keeper, `${path}/${child}`);
  await keeper.delete(path);
}

/** What defineApiSuite needs of a test runner: vitest's, or Playwright's `test.describe`/`test`. */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
}

/** Registers every case with a runner, grouped under `label`. */
export function defineApiSuite(label: string, connect: Connect, runner: TestRunner, options: { timeoutMs?: number } = {}): void {
  runner.describe(`API suite: ${label}`, () => {
    for (const apiCase of API_CASES) runner.it(apiCase.name, () => runApiCase(apiCase, connect), options.timeoutMs);
  });
}
