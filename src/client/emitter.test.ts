// Proves the two small pieces the Keeper stands on: the typed emitter (a throwing listener is
// reported and the others still run; one registration per function) and the sequencer (plain
// steps run at once while nothing waits; steps issued after a barrier wait until it settles).
import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter.js';
import { Sequencer } from './sequencer.js';

describe('Emitter', () => {
  it('calls every listener once, reports one that throws, and stops calling removed ones', () => {
    const reported: string[] = [];
    const emitter = new Emitter<{ tick: number }>((_error, context) => reported.push(context));
    const seen: number[] = [];
    const listener = (n: number): void => {
      seen.push(n);
    };
    emitter.on('tick', () => {
      throw new Error('boom');
    });
    const off = emitter.on('tick', listener);
    emitter.on('tick', listener);
    emitter.emit('tick', 1);
    off();
    emitter.emit('tick', 2);
    expect(seen).toEqual([1]);
    expect(reported).toEqual(["a 'tick' listener", "a 'tick' listener"]);
    expect(emitter.listenerCount('tick')).toBe(1);
  });
});

describe('Sequencer', () => {
  it('runs plain steps at once and holds later steps behind a barrier', async () => {
    const sequencer = new Sequencer();
    const order: string[] = [];
    sequencer.run(() => order.push('a'));
    expect(order).toEqual(['a']);
    let open!: () => void;
    const barrier = sequencer.barrier(() => new Promise<string>((resolve) => (open = () => resolve('done'))));
    sequencer.run(() => order.push('b'));
    expect(order).toEqual(['a']);
    expect(sequencer.waiting).toBe(1);
    open();
    expect(await barrier).toBe('done');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(order).toEqual(['a', 'b']);
  });

  it('moves on after a barrier that throws, synchronously or not', async () => {
    const sequencer = new Sequencer();
    const order: string[] = [];
    const first = sequencer.barrier(() => {
      throw new Error('sync');
    });
    const second = sequencer.barrier(async () => {
      throw new Error('async');
    });
    sequencer.run(() => order.push('after'));
    await expect(first).rejects.toThrow('sync');
    await expect(second).rejects.toThrow('async');
    expect(order).toEqual(['after']);
  });
});
