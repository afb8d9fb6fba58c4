// The lock playground's pure parts (the live view across tabs runs in e2e/playground.spec.ts): the
// queue is the recipe's participants in sequence order whatever the listing order (getChildren
// sorts by name, which starts with a random id), other children are ignored, the first holds, and
// entries read as their peer, "this tab" or their session.
import { describe, expect, it } from 'vitest';
import { describeEntry, LOCK_NAME_PATTERN, lockPath, queueOrder, splitQueue, type QueueEntry } from './lock-playground.js';

const node = (id: string, sequence: number, kind = 'lock'): string => `_c_${id.repeat(32).slice(0, 32)}-${kind}-${String(sequence).padStart(10, '0')}`;

describe('lock playground queue', () => {
  it('orders participants by sequence, not by name', () => {
    const names = [node('f', 2), node('0', 7), node('a', 1), node('c', 10)];
    expect(queueOrder([...names].sort())).toEqual([node('a', 1), node('f', 2), node('0', 7), node('c', 10)]);
  });

  it('ignores children that are not this recipe\'s lock nodes', () => {
    expect(queueOrder(['lease-1', node('b', 3, 'read'), node('d', 4), 'x'])).toEqual([node('d', 4)]);
  });

  it('the first holds, the rest wait in order', () => {
    const entry = (name: string, token: number): QueueEntry => ({ name, sequence: token, token, owner: `s${token}`, peer: `p${token}` });
    const { holder, waiters } = splitQueue([entry('a', 1), entry('b', 2), entry('c', 3)]);
    expect(holder?.peer).toBe('p1');
    expect(waiters.map((w) => w.peer)).toEqual(['p2', 'p3']);
    expect(splitQueue([])).toEqual({ holder: null, waiters: [] });
  });

  it('entries read as their peer, marked when they are this tab, else by session', () => {
    const entry: QueueEntry = { name: 'n', sequence: 1, token: 9, owner: 's1', peer: 'peer-1' };
    expect(describeEntry(entry, 's1')).toBe('peer-1 (this tab)');
    expect(describeEntry(entry, 's2')).toBe('peer-1');
    expect(describeEntry({ ...entry, peer: null }, null)).toBe('session s1');
  });

  it('lock names are one short path segment', () => {
    expect(lockPath('printer')).toBe('/playground/locks/printer');
    expect(LOCK_NAME_PATTERN.test('printer-2.a_b')).toBe(true);
    for (const bad of ['', 'a/b', 'a b', 'x'.repeat(65)]) expect(LOCK_NAME_PATTERN.test(bad)).toBe(false);
  });
});
