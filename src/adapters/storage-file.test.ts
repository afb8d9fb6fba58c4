// Proves file storage keeps exactly what it acknowledged: the storage compliance suite on temp
// directories (with torn appends and half-written generations as crash points, and a flipped byte
// as corruption), log rotation by size, the queue bound, a damaged snapshot file, and a real crash:
// a child process appending in a loop is killed with SIGKILL, then load must return the state
// after some step at or beyond the last one the child reported acknowledged (a consistent prefix).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReplicaStorage } from '../peer/interfaces.js';
import { ENTRY_DATA_BYTES_MAX } from '../core/limits.js';
import {
  STORAGE_COMPLIANCE_CASES, batch, entries, entry, loadFrom, patternBytes, persistTo, runStorageCase,
  type StorageFactory, type StoreUnderTest,
} from './storage-compliance.js';
import { CRASH_BOOTSTRAP, recoveredStep } from './storage-crash-workload.js';
import { FILE_QUEUE_OPERATIONS_MAX, LOG_ROTATE_BYTES, openFileStorage, type FileStorage } from './storage-file.js';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshkeeper-file-storage-'));
  roots.push(dir);
  return dir;
}

/** Crash points: how much of the batch's bytes reached the disk. */
const TEARS: readonly { name: string; tear: (bytes: Uint8Array) => Uint8Array; renamed: boolean }[] = [
  { name: 'torn after one byte', tear: (b) => b.slice(0, 1), renamed: false },
  { name: 'torn inside a record header', tear: (b) => b.slice(0, 5), renamed: false },
  { name: 'torn halfway', tear: (b) => b.slice(0, Math.floor(b.length / 2)), renamed: false },
  { name: 'torn one byte short', tear: (b) => b.slice(0, b.length - 1), renamed: false },
  { name: 'the commit record never reached the disk (zeros)', tear: (b) => zeroed(b, b.length - 12, b.length), renamed: false },
  { name: 'a middle block never reached the disk (zeros)', tear: (b) => zeroed(b, Math.floor(b.length / 3), Math.floor(b.length / 3) + 4096), renamed: false },
  { name: 'written whole, crash before it was synced', tear: (b) => b, renamed: true },
];

function zeroed(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const copy = bytes.slice();
  copy.fill(0, Math.max(0, from), Math.min(copy.length, to));
  return copy;
}

class FileStoreUnderTest implements StoreUnderTest {
  private current: FileStorage | null = null;
  constructor(readonly dir: string) {}

  async open(): Promise<ReplicaStorage> {
    await this.close();
    this.current = await openFileStorage(this.dir);
    return this.current;
  }

  async close(): Promise<void> {
    await this.current?.close();
    this.current = null;
  }

  readonly crash = {
    variants: TEARS.map((t) => ({ name: t.name, mayKeepBatch: t.renamed })),
    crashDuringPersist: async (storage: ReplicaStorage, write: Parameters<FileStorage['persist']>[0], variant: number) => {
      const tear = TEARS[variant];
      expect(tear).toBeDefined();
      await (storage as FileStorage).crashDuringPersistForTesting(write, tear!.tear, tear!.renamed);
      this.current = null;
    },
  };

  async corrupt(): Promise<void> {
    const path = (this.current as FileStorage).logPathForTesting();
    await this.close();
    const bytes = await readFile(path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0xff;
    await writeFile(path, bytes);
  }
}

const factory: StorageFactory = {
  name: 'file',
  async create() {
    return new FileStoreUnderTest(await tempDir());
  },
  async destroy(store) {
    await (store as FileStoreUnderTest).close();
    await rm((store as FileStoreUnderTest).dir, { recursive: true, force: true });
  },
};

describe('file storage compliance', () => {
  for (const testCase of STORAGE_COMPLIANCE_CASES) {
    it(testCase.name, async () => {
      const result = await runStorageCase(factory, testCase);
      if (result.note !== undefined) console.log(`file storage, ${testCase.name}: ${result.note} (${result.durationMs.toFixed(0)} ms)`);
      expect(result.error ?? null).toBeNull();
      expect(result.status).toBe('passed');
    });
  }
});

async function bootstrapped(dir: string): Promise<FileStorage> {
  const storage = await openFileStorage(dir);
  await persistTo(storage, CRASH_BOOTSTRAP);
  return storage;
}

describe('file storage specifics', () => {
  it('rotates a log grown past LOG_ROTATE_BYTES with mostly overwritten content', async () => {
    const dir = await tempDir();
    const storage = await bootstrapped(dir);
    const big = patternBytes(ENTRY_DATA_BYTES_MAX, 7);
    const rounds = Math.ceil(LOG_ROTATE_BYTES / ENTRY_DATA_BYTES_MAX) + 2;
    for (let round = 1; round <= rounds; round++) {
      await persistTo(storage, batch({ entries: [entry(1, round, big), entry(2, round)], hardState: { term: round, vote: null, commit: 0 }, sync: false }));
    }
    await storage.close();
    const logs = (await readdir(dir)).filter((name) => name.endsWith('.wal'));
    expect(logs).toHaveLength(1);
    expect((await stat(join(dir, logs[0]!))).size).toBeLessThan(LOG_ROTATE_BYTES / 2);
    const reopened = await openFileStorage(dir);
    const loaded = await loadFrom(reopened);
    await reopened.close();
    expect(loaded?.entries.map((e) => `${e.index}/${e.term}`)).toEqual([`1/${rounds}`, `2/${rounds}`]);
    expect(loaded?.hardState.term).toBe(rounds);
  });

  it(`refuses more than FILE_QUEUE_OPERATIONS_MAX (${FILE_QUEUE_OPERATIONS_MAX}) queued operations`, async () => {
    const storage = await bootstrapped(await tempDir());
    const outcomes = await Promise.all(
      Array.from({ length: FILE_QUEUE_OPERATIONS_MAX + 1 }, (_, i) => new Promise<Error | null>((resolve) => storage.persist(batch({ entries: [entry(i + 1, 1)], sync: false }), resolve))),
    );
    expect(outcomes.slice(0, FILE_QUEUE_OPERATIONS_MAX).every((e) => e === null)).toBe(true);
    expect(outcomes[FILE_QUEUE_OPERATIONS_MAX]?.message).toMatch(/FILE_QUEUE_OPERATIONS_MAX/);
    await storage.close();
  });

  it('reports a damaged snapshot file through load', async () => {
    const dir = await tempDir();
    const storage = await bootstrapped(dir);
    await persistTo(storage, batch({ entries: entries(1, 5, 1) }));
    await new Promise<void>((resolve, reject) => storage.compact({ meta: { index: 3, term: 1, config: { voters: ['a'], learners: [] } }, data: patternBytes(5000, 3) }, (e) => (e ? reject(e) : resolve())));
    await storage.close();
    const snapshot = (await readdir(dir)).find((name) => name.endsWith('.snap'));
    const bytes = await readFile(join(dir, snapshot!));
    bytes[100] = (bytes[100] as number) ^ 1;
    await writeFile(join(dir, snapshot!), bytes);
    const reopened = await openFileStorage(dir);
    const result = await new Promise<Parameters<Parameters<ReplicaStorage['load']>[0]>[0]>((resolve) => reopened.load(resolve));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/checksum/);
    const refused = await new Promise<Error | null>((resolve) => reopened.persist(batch({ entries: [entry(6, 1)] }), resolve));
    expect(refused).not.toBeNull();
    await reopened.close();
  });

  it('truncates a torn tail at open, reports mid-log damage, and appends after the truncation', async () => {
    const dir = await tempDir();
    const storage = await bootstrapped(dir);
    await persistTo(storage, batch({ entries: entries(1, 4, 1), hardState: { term: 1, vote: 'a', commit: 1 } }));
    const path = storage.logPathForTesting();
    const acknowledged = (await stat(path)).size;
    await storage.crashDuringPersistForTesting(batch({ entries: [entry(3, 2, patternBytes(9000, 1))] }), (b) => b.slice(0, 5000), false);
    expect((await stat(path)).size).toBe(acknowledged + 5000);
    const recovered = await openFileStorage(dir);
    expect((await stat(path)).size).toBe(acknowledged);
    expect((await loadFrom(recovered))?.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/1', '3/1', '4/1']);
    await persistTo(recovered, batch({ entries: [entry(5, 1)] }));
    await persistTo(recovered, batch({ entries: [entry(6, 1)] }));
    await recovered.close();
    const bytes = await readFile(path);
    bytes[acknowledged + 20] = (bytes[acknowledged + 20] as number) ^ 0x10; // inside the synced batch of entry 5
    await writeFile(path, bytes);
    const damaged = await openFileStorage(dir);
    const result = await new Promise<Parameters<Parameters<ReplicaStorage['load']>[0]>[0]>((resolve) => damaged.load(resolve));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/later commit says was durable/);
    await damaged.close();
    expect((await readFile(path)).length, 'a corrupt log is left as it was').toBe(bytes.length);
  });
});

const CHILD = fileURLToPath(new URL('./storage-file.crash-child.ts', import.meta.url));

/** Acks to wait for before the kill, per round: across compactions (every 50 steps) and a received
 *  snapshot (step 173), and at different moments of the write loop. */
const KILL_AFTER_ACKS = [37, 180, 333];

async function runChildUntilKilled(dir: string, acks: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lastAck = -1;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^ack (\d+)$/.exec(line);
      if (match !== null) lastAck = Number(match[1]);
    }
    if (lastAck >= acks) child.kill('SIGKILL');
  });
  const how = await exited;
  expect(how, `child ended by itself: ${stderr}`).toBe('SIGKILL');
  return lastAck;
}

describe('file storage under SIGKILL', () => {
  for (const acks of KILL_AFTER_ACKS) {
    it(`a child killed after ${acks} acknowledged steps loses none of them`, async () => {
      const dir = await tempDir();
      const lastAck = await runChildUntilKilled(dir, acks);
      expect(lastAck).toBeGreaterThanOrEqual(acks);
      const recovered = await openFileStorage(dir);
      const { step: matched, difference } = await recoveredStep(recovered, lastAck);
      await recovered.close();
      console.log(`SIGKILL after ack ${lastAck}: recovered the state after step ${matched}`);
      expect(matched, `no step from ${lastAck} on matches what loaded: ${difference}`).not.toBeNull();
    });
  }
});
