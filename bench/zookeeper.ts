/**
 * Apache ZooKeeper for the side-by-side figures (`--with-zookeeper`): Debian's `zookeeper` package
 * (installed with apt-get when missing and run as root), three servers on 127.0.0.1 run as plain
 * java processes (no systemd) from configs in a temp dir (tickTime 2000, forceSync yes, `srvr`
 * allowed to find the leader), and node-zookeeper-client as the client. The same workloads as
 * meshkeeper's run through `BenchClient`; the lock is ZooKeeper's recipe (ephemeral sequential
 * nodes, each waiter watching its predecessor).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zookeeper, { type Client, type Exception } from 'node-zookeeper-client';
import { FORM_TIMEOUT_MS, benchNow, waitUntil, type System } from './systems.js';
import { awaitAcquire, beginAcquire, runLockClient, runOps, writeUntilSuccess, type BenchClient, type BenchLock, type LockCycle, type LockSpec, type OpsResult, type OpsSpec } from './workloads.js';

const JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'];
const SERVERS = 3;
const SESSION_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 30_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A four-letter word's answer ('' when the server does not answer). */
function fourLetterWord(port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

async function modeOf(port: number): Promise<string | null> {
  return /Mode: (\w+)/.exec(await fourLetterWord(port, 'srvr'))?.[1] ?? null;
}

function ensureInstalled(log: (message: string) => void): void {
  if (JARS.every((jar) => existsSync(jar))) return;
  if (process.getuid?.() !== 0) throw new Error('ZooKeeper is not installed and this is not root: run `apt-get install -y zookeeper` with sudo');
  log('installing Debian\'s zookeeper package (apt-get install -y zookeeper)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'zookeeper'], { stdio: 'inherit', env });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'zookeeper'], { stdio: 'inherit', env });
  }
  if (result.status !== 0 || !JARS.every((jar) => existsSync(jar))) throw new Error('apt-get install zookeeper failed');
}

function call<T>(run: (callback: (error: Exception | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((error, value) => (error === null || error === undefined ? resolve(value) : reject(error)));
  });
}

async function connectClient(ports: number[], sessionTimeout = SESSION_TIMEOUT_MS): Promise<Client> {
  const client = zookeeper.createClient(ports.map((port) => `127.0.0.1:${port}`).join(','), { sessionTimeout, spinDelay: 100, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no ZooKeeper session within ${CONNECT_TIMEOUT_MS} ms on ports ${ports.join(',')}`));
    }, CONNECT_TIMEOUT_MS);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  return client;
}

function benchClient(client: Client): BenchClient {
  return {
    create: (path, data) => call<string>((cb) => client.create(path, Buffer.from(data), zookeeper.CreateMode.PERSISTENT, cb)),
    setData: (path, data) => call((cb) => client.setData(path, Buffer.from(data), -1, cb)),
    getData: (path) => call((cb) => client.getData(path, null, cb)),
  };
}

function sequenceOf(name: string): number {
  return Number(name.slice(-10));
}

/** ZooKeeper's lock recipe (zookeeperRecipes: "Locks"), without the herd effect. */
class ZkLock implements BenchLock {
  #node: string | null = null;

  constructor(
    readonly client: Client,
    readonly dir: string,
  ) {}

  async acquire(): Promise<void> {
    const created = await call<string>((cb) => this.client.create(`${this.dir}/lock-`, Buffer.alloc(0), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb));
    const mine = created.slice(this.dir.length + 1);
    for (;;) {
      const children = (await call<string[]>((cb) => this.client.getChildren(this.dir, null, cb))).filter((c) => c.startsWith('lock-'));
      children.sort((x, y) => sequenceOf(x) - sequenceOf(y));
      const index = children.indexOf(mine);
      if (index < 0) throw new Error(`our lock node ${created} vanished`);
      if (index === 0) {
        this.#node = created;
        return;
      }
      const predecessor = `${this.dir}/${children[index - 1] as string}`;
      let fired!: () => void;
      const gone = new Promise<void>((resolve) => {
        fired = resolve;
      });
      const stat = await call((cb) => this.client.exists(predecessor, () => fired(), cb));
      if (stat !== null) await gone;
    }
  }

  async release(): Promise<void> {
    const node = this.#node;
    this.#node = null;
    if (node !== null) await call<void>((cb) => this.client.remove(node, -1, (error) => cb(error, undefined)));
  }
}

/** g's lock holder: a client in a process of its own (so it can be killed: its socket closes, its
 *  session lives on until it times out) that creates the first lock node under ZK_DIR and prints
 *  `held`; on SIGTERM it closes its session, then exits. */
const HOLDER_SCRIPT = `
const zk = require('node-zookeeper-client');
const client = zk.createClient(process.env.ZK_CONN, { sessionTimeout: Number(process.env.ZK_TIMEOUT), spinDelay: 100, retries: 0 });
client.once('connected', () => client.create(process.env.ZK_DIR + '/lock-', Buffer.alloc(0), zk.CreateMode.EPHEMERAL_SEQUENTIAL, (error, path) => {
  if (error) { console.error(String(error)); process.exit(1); }
  process.stdout.write('held ' + path + '\\n');
}));
process.once('SIGTERM', () => {
  client.once('disconnected', () => process.exit(0));
  setTimeout(() => process.exit(0), 2000);
  client.close();
});
client.connect();
`;

async function startHolder(port: number, dir: string, sessionTimeoutMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', HOLDER_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZK_CONN: `127.0.0.1:${port}`, ZK_DIR: dir, ZK_TIMEOUT: String(sessionTimeoutMs) } });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ZooKeeper lock holder did not hold within ${CONNECT_TIMEOUT_MS} ms: ${output}`));
    }, CONNECT_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('held ')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ZooKeeper lock holder exited (${code}): ${output}`));
    });
  });
  return child;
}

interface Server {
  id: number;
  clientPort: number;
  config: string;
  process: ChildProcess | null;
}

export interface ZooKeeperEnsemble {
  system(): Promise<System>;
  close(): Promise<void>;
}

export async function startZooKeeper(log: (message: string) => void, lockLossSessionTimeoutMs = 4000): Promise<ZooKeeperEnsemble> {
  ensureInstalled(log);
  const dir = await mkdtemp(join(tmpdir(), 'meshkeeper-bench-zk-'));
  const servers: Server[] = [];
  const clients: Client[] = [];
  const quorum: string[] = [];
  for (let id = 1; id <= SERVERS; id++) quorum.push(`server.${id}=127.0.0.1:${await freePort()}:${await freePort()}`);
  for (let id = 1; id <= SERVERS; id++) {
    const dataDir = join(dir, `zk${id}`);
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'myid'), `${id}\n`);
    const clientPort = await freePort();
    const config = join(dir, `zoo${id}.cfg`);
    await writeFile(
      config,
      [
        'tickTime=2000',
        'initLimit=10',
        'syncLimit=5',
        `dataDir=${dataDir}`,
        `clientPort=${clientPort}`,
        'clientPortAddress=127.0.0.1',
        'forceSync=yes',
        '4lw.commands.whitelist=*',
        'admin.enableServer=false',
        'maxClientCnxns=0',
        ...quorum,
        '',
      ].join('\n'),
    );
    servers.push({ id, clientPort, config, process: null });
  }

  const startServer = (server: Server): void => {
    server.process = spawn('java', ['-Xmx512m', '-cp', JARS.join(':'), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', server.config], {
      stdio: ['ignore', 'ignore', 'ignore'],
      cwd: dir,
    });
  };
  const stopServer = async (server: Server): Promise<void> => {
    const child = server.process;
    server.process = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  };
  const modes = (): Promise<Array<string | null>> => Promise.all(servers.map((server) => modeOf(server.clientPort)));
  const waitQuorum = (): Promise<void> =>
    waitUntil(
      async () => {
        const all = await modes();
        return all.filter((m) => m === 'leader').length === 1 && all.filter((m) => m === 'follower').length === SERVERS - 1;
      },
      'a ZooKeeper leader and two followers',
      FORM_TIMEOUT_MS,
    );
  const byRole = async (): Promise<{ leader: Server; followers: Server[] }> => {
    const all = await modes();
    const leader = servers[all.indexOf('leader')];
    if (leader === undefined) throw new Error('no ZooKeeper leader');
    return { leader, followers: servers.filter((_, i) => all[i] === 'follower') };
  };

  const close = async (): Promise<void> => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(servers.map(stopServer));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    log(`starting 3 ZooKeeper servers (client ports ${servers.map((s) => s.clientPort).join(', ')})`);
    for (const server of servers) startServer(server);
    await waitQuorum();
  } catch (error) {
    await close();
    throw error;
  }

  const system = async (): Promise<System> => {
    const { followers } = await byRole();
    const opsClient = await connectClient([(followers[0] as Server).clientPort]);
    clients.push(opsClient);
    const lockClients: Client[] = [];
    for (const server of servers) lockClients.push(await connectClient([server.clientPort]));
    clients.push(...lockClients);
    const ops = benchClient(opsClient);
    const ensure = async (paths: string[]): Promise<void> => {
      for (const path of paths) {
        await ops.create(path, new Uint8Array(16)).catch((error: Exception) => {
          if (error.getCode?.() !== zookeeper.Exception.NODE_EXISTS) throw error;
        });
      }
    };
    return {
      name: 'zookeeper',
      ensure,
      ops: (spec: OpsSpec): Promise<OpsResult> => runOps(ops, spec),
      async lock(path: string, specs: LockSpec[]): Promise<LockCycle[][]> {
        await ensure([path]);
        return Promise.all(specs.map((spec, i) => runLockClient(new ZkLock(lockClients[i % lockClients.length] as Client, path), spec)));
      },
      async failover(prefix: string, deadlineMs: number): Promise<number> {
        const { leader, followers } = await byRole();
        const writer = await connectClient([(followers[0] as Server).clientPort]);
        try {
          const killedAt = benchNow();
          const killed = stopServer(leader);
          const write = await writeUntilSuccess(benchClient(writer), prefix, deadlineMs);
          await killed;
          if (!write.ok) throw new Error(`no write succeeded within ${deadlineMs} ms after the ZooKeeper leader was killed: ${write.lastError}`);
          startServer(leader);
          await waitQuorum();
          return write.doneAt - killedAt;
        } finally {
          writer.close();
        }
      },
      async lockLoss(path: string, how: 'kill' | 'close', deadlineMs: number): Promise<number> {
        await ensure([path]);
        const { leader, followers } = await byRole();
        const holderServer = followers[0] as Server;
        // A client of its own on another server (the lock clients' sessions may not have outlived f).
        const waiterClient = await connectClient([(followers[1] ?? leader).clientPort]);
        const holder = await startHolder(holderServer.clientPort, path, lockLossSessionTimeoutMs).catch((error: unknown) => {
          waiterClient.close();
          throw error;
        });
        const gone = new Promise((resolve) => holder.once('exit', resolve));
        try {
          beginAcquire('g-zk-waiter', new ZkLock(waiterClient, path));
          await new Promise((resolve) => setTimeout(resolve, 500));
          const lostAt = benchNow();
          holder.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
          const acquiredAt = await awaitAcquire('g-zk-waiter', deadlineMs, true);
          return acquiredAt - lostAt;
        } finally {
          holder.kill('SIGKILL');
          await gone;
          waiterClient.close();
        }
      },
      close: async () => undefined,
    };
  };
  return { system, close };
}
