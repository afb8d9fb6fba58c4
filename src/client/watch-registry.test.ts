// Proves the client watch registry materializes events by ZooKeeper's rules (ZKWatchManager.
// materialize, 3.9): which kinds each event type fires, one-shots used up, persistent ones kept,
// recursive ones for every ancestor-or-self but never for NodeChildrenChanged, one call per
// function per event, and which server-side watches may go when client watchers are removed.
import { describe, expect, it } from 'vitest';
import type { WatchEventType } from '../core/tree/types.js';
import { WatchRegistry, type ClientWatchKind } from './watch-registry.js';
import type { Watcher } from './types.js';

const named = (name: string): Watcher & { label: string } => Object.assign(() => undefined, { label: name });
const labels = (set: Set<Watcher>): string[] => [...set].map((w) => (w as Watcher & { label: string }).label).sort();

describe('WatchRegistry.materialize', () => {
  const table: [WatchEventType, string[]][] = [
    ['NodeCreated', ['data', 'exist', 'persistent', 'recursive-ancestor', 'recursive-self']],
    ['NodeDataChanged', ['data', 'exist', 'persistent', 'recursive-ancestor', 'recursive-self']],
    ['NodeChildrenChanged', ['child', 'persistent']],
    ['NodeDeleted', ['child', 'data', 'exist', 'persistent', 'recursive-ancestor', 'recursive-self']],
  ];
  for (const [type, expected] of table) {
    it(`${type} fires ${expected.join(', ')}`, () => {
      const registry = new WatchRegistry();
      const kinds: [ClientWatchKind, string, string][] = [
        ['data', '/a/b', 'data'],
        ['exist', '/a/b', 'exist'],
        ['child', '/a/b', 'child'],
        ['persistent', '/a/b', 'persistent'],
        ['persistent_recursive', '/a', 'recursive-ancestor'],
        ['persistent_recursive', '/a/b', 'recursive-self'],
        ['persistent_recursive', '/a/b/c', 'recursive-descendant'],
        ['persistent', '/a', 'persistent-parent'],
        ['data', '/a/bb', 'sibling'],
      ];
      for (const [kind, path, name] of kinds) registry.add(kind, path, named(name));
      expect(labels(registry.materialize(type, '/a/b'))).toEqual(expected);
    });
  }

  it('uses up one-shots and keeps persistent watches', () => {
    const registry = new WatchRegistry();
    registry.add('data', '/x', named('data'));
    registry.add('persistent', '/x', named('persistent'));
    expect(labels(registry.materialize('NodeDataChanged', '/x'))).toEqual(['data', 'persistent']);
    expect(labels(registry.materialize('NodeDataChanged', '/x'))).toEqual(['persistent']);
    expect(registry.size).toBe(1);
  });

  it('calls a function once per event however often and under however many kinds it is registered', () => {
    const registry = new WatchRegistry();
    const w = named('w');
    registry.add('data', '/x', w);
    registry.add('data', '/x', w);
    registry.add('exist', '/x', w);
    registry.add('persistent', '/x', w);
    registry.add('persistent_recursive', '/', w);
    expect(registry.size).toBe(4);
    expect(registry.materialize('NodeDeleted', '/x').size).toBe(1);
  });

  it('a recursive watch on / hears everything but child events; events on / itself', () => {
    const registry = new WatchRegistry();
    registry.add('persistent_recursive', '/', named('root'));
    expect(labels(registry.materialize('NodeCreated', '/deep/er/path'))).toEqual(['root']);
    expect(labels(registry.materialize('NodeDataChanged', '/'))).toEqual(['root']);
    expect(labels(registry.materialize('NodeChildrenChanged', '/deep'))).toEqual([]);
  });
});

describe('WatchRegistry.remove', () => {
  it('removes one function and says which server watches nobody needs any more', () => {
    const registry = new WatchRegistry();
    const a = named('a');
    const b = named('b');
    registry.add('data', '/x', a);
    registry.add('exist', '/x', b);
    registry.add('child', '/x', a);
    registry.add('persistent_recursive', '/x', a);
    // data and exist share the server's data table: b's exist watch still needs it.
    expect(registry.remove('/x', a)).toEqual({ removed: true, serverKinds: ['children', 'persistent_recursive'] });
    expect(registry.contains('/x', a)).toBe(false);
    expect(registry.contains('/x', b)).toBe(true);
    expect(registry.remove('/x', b)).toEqual({ removed: true, serverKinds: ['data'] });
    expect(registry.remove('/x', b)).toEqual({ removed: false, serverKinds: [] });
    expect(registry.size).toBe(0);
  });

  it('removes every function at a path when none is named', () => {
    const registry = new WatchRegistry();
    registry.add('data', '/x', named('a'));
    registry.add('data', '/x', named('b'));
    registry.add('persistent', '/x', named('c'));
    registry.add('data', '/y', named('d'));
    expect(registry.contains('/x', undefined)).toBe(true);
    expect(registry.remove('/x', undefined)).toEqual({ removed: true, serverKinds: ['data', 'persistent'] });
    expect(registry.size).toBe(1);
  });

  it('refuses registrations beyond its bound', () => {
    const registry = new WatchRegistry(2);
    registry.add('data', '/a', named('a'));
    registry.add('data', '/b', named('b'));
    expect(registry.hasRoom()).toBe(false);
    expect(() => registry.add('data', '/c', named('c'))).toThrow(/hasRoom/);
    registry.clear();
    expect(registry.hasRoom()).toBe(true);
  });
});
