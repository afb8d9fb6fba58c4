// Proves the in-process network (transport-memory.ts): synchronous delivery trampolines re-entrant
// sends (no handler re-entered, per-pair order kept); deferred delivery keeps per-pair order even
// when the scheduler runs callbacks out of order; partitions, one-way blocks and disconnects drop
// messages (in flight too), heal restores them; inject delivers forged bytes; sent bytes are copied.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from './transport-memory.js';
import { ManualClock } from '../peer/clock-manual.js';

const b = (n: number) => new Uint8Array([n]);

describe('MemoryNetwork', () => {
  it('delivers synchronously without re-entering a handler, in order per pair', () => {
    const network = new MemoryNetwork();
    const a = network.connect('a');
    const bPeer = network.connect('b');
    const log: string[] = [];
    let inside = false;
    bPeer.onMessage((from, bytes) => {
      expect(inside).toBe(false);
      inside = true;
      log.push(`b<-${from}:${bytes[0]}`);
      if (bytes[0] === 1) bPeer.send('a', b(10));
      inside = false;
    });
    a.onMessage((from, bytes) => {
      log.push(`a<-${from}:${bytes[0]}`);
      if (bytes[0] === 10) a.send('b', b(3));
    });
    a.send('b', b(1));
    a.send('b', b(2));
    expect(log).toEqual(['b<-a:1', 'a<-b:10', 'b<-a:3', 'b<-a:2']);
  });

  it('keeps per-pair order under a scheduler that runs callbacks in reverse', () => {
    const callbacks: (() => void)[] = [];
    const network = new MemoryNetwork({ delivery: (deliver) => callbacks.push(deliver) });
    const a = network.connect('a');
    const got: number[] = [];
    network.connect('b').onMessage((_from, bytes) => got.push(bytes[0] as number));
    for (let i = 0; i < 5; i++) a.send('b', b(i));
    for (const deliver of callbacks.reverse()) deliver();
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('drops across partitions and blocks, also for messages in flight; heal restores', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ delivery: (deliver) => void clock.after(5, deliver) });
    const got: string[] = [];
    const [a] = ['a', 'b', 'c'].map((id) => {
      const transport = network.connect(id);
      transport.onMessage((from, bytes) => got.push(`${from}->${id}:${bytes[0]}`));
      return transport;
    });
    a?.send('b', b(1)); // in flight when the partition starts: dropped
    network.partition(['a'], ['b', 'c']);
    a?.send('c', b(2));
    clock.advance(10);
    expect(got).toEqual([]);
    expect(network.canReach('b', 'c')).toBe(true);
    network.heal();
    network.block('a', 'b');
    a?.send('b', b(3));
    a?.send('c', b(4));
    clock.advance(10);
    expect(got).toEqual(['a->c:4']);
    expect(network.stats.dropped).toBe(3);
  });

  it('loses in-flight messages of a disconnected peer, even after it reconnects', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ delivery: (deliver) => void clock.after(5, deliver) });
    const a = network.connect('a');
    const got: number[] = [];
    network.connect('b').onMessage((_from, bytes) => got.push(bytes[0] as number));
    a.send('b', b(1));
    network.disconnect('b');
    network.reconnect('b');
    a.send('b', b(2));
    clock.advance(10);
    expect(got).toEqual([2]);
  });

  it('injects forged bytes and copies what is sent', () => {
    const network = new MemoryNetwork();
    const a = network.connect('a');
    const got: Uint8Array[] = [];
    network.connect('b').onMessage((_from, bytes) => got.push(bytes));
    network.isolate('a');
    network.inject('a', 'b', b(7));
    network.heal();
    const sent = b(8);
    a.send('b', sent);
    sent[0] = 99;
    expect(got.map((bytes) => bytes[0])).toEqual([7, 8]);
  });
});

describe('ManualClock', () => {
  it('runs timers in time order, ties in set order, including timers set while advancing', () => {
    const clock = new ManualClock(0);
    const log: string[] = [];
    clock.after(10, () => log.push('10a'));
    clock.after(5, () => {
      log.push('5');
      clock.after(0, () => log.push('5+0'));
      clock.after(5, () => log.push('5+5'));
    });
    const cancel = clock.after(7, () => log.push('7'));
    clock.after(10, () => log.push('10b'));
    cancel();
    clock.advance(9);
    expect(log).toEqual(['5', '5+0']);
    expect(clock.now()).toBe(9);
    clock.advance(1);
    expect(log).toEqual(['5', '5+0', '10a', '10b', '5+5']);
    expect(clock.pending).toBe(0);
  });
});
