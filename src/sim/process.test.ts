// Proves a node's thread in the simulator: work runs at once while running; waits while paused
// and then runs in arrival order on resume (a frozen tab keeps its state); is dropped while
// crashed, along with the work that was waiting; and work bound to an earlier incarnation (its
// timers, its fsync callbacks) is dropped after a restart. Waiting work is bounded.

import { describe, expect, it } from 'vitest';
import { NodeProcess } from './process.js';

describe('NodeProcess', () => {
  it('runs work now while running, later while paused, never while crashed', () => {
    const process = new NodeProcess('n1');
    const ran: string[] = [];
    expect(process.run(() => ran.push('a'))).toBe('ran');
    process.pause();
    expect(process.run(() => ran.push('b'))).toBe('deferred');
    expect(process.run(() => ran.push('c'))).toBe('deferred');
    expect(ran).toEqual(['a']);
    process.resume();
    expect(ran).toEqual(['a', 'b', 'c']);
    process.crash();
    expect(process.run(() => ran.push('d'))).toBe('dropped');
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(process.counters()).toMatchObject({ ran: 1, deferred: 2, replayed: 2, droppedCrashed: 1 });
  });

  it('drops the waiting work of a node that crashes while paused', () => {
    const process = new NodeProcess('n1');
    const ran: string[] = [];
    process.pause();
    process.run(() => ran.push('waiting'));
    process.crash();
    process.restart();
    expect(ran).toEqual([]);
    expect(process.state()).toBe('running');
  });

  it('keeps the order when replayed work pauses or crashes the node again', () => {
    const process = new NodeProcess('n1');
    const ran: string[] = [];
    process.pause();
    process.run(() => {
      ran.push('first');
      process.pause();
    });
    process.run(() => ran.push('second'));
    process.resume();
    expect(ran).toEqual(['first']);
    process.run(() => ran.push('third'));
    process.resume();
    expect(ran).toEqual(['first', 'second', 'third']);
  });

  it('drops work bound to an earlier incarnation', () => {
    const process = new NodeProcess('n1');
    const ran: string[] = [];
    const oldTimer = process.bind(() => ran.push('old'));
    process.crash();
    process.restart();
    expect(process.incarnation()).toBe(1);
    const newTimer = process.bind(() => ran.push('new'));
    oldTimer();
    newTimer();
    expect(ran).toEqual(['new']);
    expect(process.counters().droppedStale).toBe(1);
  });

  it('bounds the waiting work', () => {
    const process = new NodeProcess('n1', 2);
    process.pause();
    expect(process.run(() => undefined)).toBe('deferred');
    expect(process.run(() => undefined)).toBe('deferred');
    expect(process.run(() => undefined)).toBe('dropped');
    expect(process.counters().droppedOverflow).toBe(1);
  });

  it('refuses impossible transitions', () => {
    const process = new NodeProcess('n1');
    expect(() => process.resume()).toThrow(/paused/);
    expect(() => process.restart()).toThrow(/crashed/);
    process.crash();
    expect(() => process.pause()).toThrow(/running/);
    expect(() => process.crash()).toThrow(/already/);
  });
});
