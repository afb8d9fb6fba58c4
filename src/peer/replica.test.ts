// Proves the Ready loop in Replica: a 3-replica group over an in-test message queue elects a leader,
// replicates proposals in order to every state machine, queues work while a (deferred) storage write
// is pending, compacts its log, and a replica restarted from its MemoryStore re-applies exactly what
// it had (dissertation §3.8: persistent state survives restarts).
import { describe, expect, it } from 'vitest';
import { Prng } from '../core/prng.js';
import type { Entry, Message, PersistedState, Snapshot } from '../core/consensus/index.js';
import { makeConfig } from '../core/consensus/index.js';
import { MemoryStorage, MemoryStore } from '../adapters/storage-memory.js';
import type { PersistBatch, ReplicaStorage, StateMachine } from './interfaces.js';
import { Replica } from './replica.js';

class Log implements StateMachine {
  values: string[] = [];
  apply(entry: Entry): void {
    this.values.push(new TextDecoder().decode(entry.data));
  }
  restore(snapshot: Snapshot): void {
    this.values = snapshot.data.length === 0 ? [] : (JSON.parse(new TextDecoder().decode(snapshot.data)) as string[]);
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.values));
  }
}

/** Storage whose writes complete only when the test says so (to see the queue at work). */
class DeferredStorage implements ReplicaStorage {
  readonly inner = new MemoryStorage();
  pending: (() => void)[] = [];
  load(done: Parameters<ReplicaStorage['load']>[0]): void { this.inner.load(done); }
  persist(batch: PersistBatch, done: (error: Error | null) => void): void {
    this.pending.push(() => this.inner.persist(batch, done));
  }
  compact(snapshot: Snapshot, done: (error: Error | null) => void): void {
    this.pending.push(() => this.inner.compact(snapshot, done));
  }
  flush(): void {
    while (this.pending.length > 0) this.pending.shift()?.();
  }
}

const ids = ['a', 'b', 'c'];

function group(options: { snapshotEntriesInterval?: number; stores?: Map<string, MemoryStore> } = {}) {
  const inbox: Message[] = [];
  const machines = new Map<string, Log>();
  const replicas = new Map<string, Replica>();
  const stores = options.stores ?? new Map(ids.map((id) => [id, new MemoryStore()]));
  for (const [index, id] of ids.entries()) {
    const machine = new Log();
    machines.set(id, machine);
    Replica.start({
      raft: { id, prng: new Prng(index + 1) },
      storage: new MemoryStorage(stores.get(id)),
      stateMachine: machine,
      send: (message) => inbox.push(message),
      bootstrap: makeConfig(ids, []),
      ...(options.snapshotEntriesInterval === undefined ? {} : { snapshotEntriesInterval: options.snapshotEntriesInterval }),
    }, (result) => {
      if (!result.ok) throw result.error;
      replicas.set(id, result.replica);
    });
  }
  const deliver = (): void => {
    for (let round = 0; round < 10_000 && inbox.length > 0; round++) {
      const message = inbox.shift() as Message;
      replicas.get(message.to)?.step(message);
    }
  };
  const leader = (): Replica | undefined => [...replicas.values()].find((r) => r.status().role === 'leader');
  const elect = (): Replica => {
    for (let tick = 0; tick < 200 && leader() === undefined; tick++) {
      for (const replica of replicas.values()) replica.tick();
      deliver();
    }
    const found = leader();
    expect(found).toBeDefined();
    return found as Replica;
  };
  return { inbox, machines, replicas, stores, deliver, leader, elect };
}

function propose(replica: Replica, value: string): void {
  replica.withNode((node) => {
    const outcome = node.propose(new TextEncoder().encode(value));
    expect(outcome.ok).toBe(true);
  });
}

describe('Replica', () => {
  it('elects a leader and applies proposals in order on every replica', () => {
    const g = group();
    const leader = g.elect();
    for (const value of ['x', 'y', 'z']) propose(leader, value);
    g.deliver();
    for (let tick = 0; tick < 5; tick++) { for (const r of g.replicas.values()) r.tick(); g.deliver(); }
    for (const machine of g.machines.values()) expect(machine.values).toEqual(['x', 'y', 'z']);
  });

  it('queues proposals while a storage write is pending and sends them together after it', () => {
    const storage = new DeferredStorage();
    const machine = new Log();
    let replica: Replica | undefined;
    Replica.start({ raft: { id: 'solo', prng: new Prng(9) }, storage, stateMachine: machine, send: () => undefined, bootstrap: makeConfig(['solo'], []) },
      (result) => { if (result.ok) replica = result.replica; });
    storage.flush(); // the bootstrap write
    expect(replica).toBeDefined();
    const solo = replica as Replica;
    solo.withNode((node) => node.campaign());
    storage.flush();
    expect(solo.status().role).toBe('leader');
    propose(solo, 'one'); // starts a batch; storage holds it
    expect(storage.pending.length).toBe(1);
    let ran = 0;
    solo.withNode(() => { ran += 1; });
    expect(ran).toBe(0); // queued behind the pending write
    propose(solo, 'two');
    propose(solo, 'three');
    storage.flush();
    storage.flush();
    expect(ran).toBe(1);
    expect(machine.values).toEqual(['one', 'two', 'three']);
  });

  it('compacts its log and restarts from storage with the same state', () => {
    const g = group({ snapshotEntriesInterval: 5 });
    const leader = g.elect();
    for (let i = 0; i < 12; i++) propose(leader, `v${i}`);
    g.deliver();
    for (let tick = 0; tick < 5; tick++) { for (const r of g.replicas.values()) r.tick(); g.deliver(); }
    const expected = Array.from({ length: 12 }, (_, i) => `v${i}`);
    for (const machine of g.machines.values()) expect(machine.values).toEqual(expected);
    const stored = g.stores.get('b')?.state() as PersistedState;
    expect(stored.snapshot.meta.index).toBeGreaterThan(0);

    // Restart everyone from their stores: state machines come back from snapshot + log.
    for (const replica of g.replicas.values()) replica.stop();
    const again = group({ stores: g.stores, snapshotEntriesInterval: 5 });
    const leader2 = again.elect();
    propose(leader2, 'after');
    again.deliver();
    for (let tick = 0; tick < 5; tick++) { for (const r of again.replicas.values()) r.tick(); again.deliver(); }
    for (const machine of again.machines.values()) expect(machine.values).toEqual([...expected, 'after']);
  });
});
