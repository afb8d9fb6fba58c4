// Proves the versioned znode model against ZooKeeper's semantics (programmer's guide: versions,
// NODEEXISTS, NONODE, BADVERSION; a re-created node restarts at version 0) through the checker:
// anomalies a broken ensemble would show are rejected, correct histories (with unknown outcomes)
// accepted, and each path is checked on its own.

import { describe, expect, it } from 'vitest';
import { type Operation, UNKNOWN, checkLinearizability } from '../linearizability.js';
import { type ZnodeInput, type ZnodeOutput, znodeApply, znodeModel } from './znode.js';

type ZnodeOperation = Operation<ZnodeInput, ZnodeOutput>;
const model = znodeModel();
let idNext = 0;
const op = (input: ZnodeInput, output: ZnodeOutput, invokeTime: number, returnTime: number, client = 'c'): ZnodeOperation =>
  ({ id: idNext++, client, input, invokeTime, returnTime, output });
const lost = (input: ZnodeInput, invokeTime: number): ZnodeOperation =>
  ({ id: idNext++, client: 'lost', input, invokeTime, returnTime: Infinity, output: UNKNOWN });
const verdictOf = (history: ZnodeOperation[]): string => checkLinearizability(model, history).result;

const create = (data: string): ZnodeInput => ({ kind: 'create', path: '/n', data });
const getData: ZnodeInput = { kind: 'getData', path: '/n' };
const setData = (data: string, version: number): ZnodeInput => ({ kind: 'setData', path: '/n', data, version });
const remove = (version: number): ZnodeInput => ({ kind: 'delete', path: '/n', version });

describe('znodeApply (the sequential semantics)', () => {
  it('follows ZooKeeper for each operation', () => {
    const absent = { exists: false } as const;
    const node = { exists: true, data: 'a', version: 3 } as const;
    expect(znodeApply(absent, create('x'))).toEqual({ output: { code: 'OK', version: 0 }, next: { exists: true, data: 'x', version: 0 } });
    expect(znodeApply(node, create('x')).output).toEqual({ code: 'NODEEXISTS' });
    expect(znodeApply(absent, getData).output).toEqual({ code: 'NONODE' });
    expect(znodeApply(node, getData).output).toEqual({ code: 'OK', data: 'a', version: 3 });
    expect(znodeApply(node, { kind: 'exists', path: '/n' }).output).toEqual({ code: 'OK', version: 3 });
    expect(znodeApply(node, setData('b', 2)).output).toEqual({ code: 'BADVERSION' });
    expect(znodeApply(node, setData('b', 3))).toEqual({ output: { code: 'OK', version: 4 }, next: { exists: true, data: 'b', version: 4 } });
    expect(znodeApply(node, setData('b', -1)).output).toEqual({ code: 'OK', version: 4 });
    expect(znodeApply(absent, setData('b', -1)).output).toEqual({ code: 'NONODE' });
    expect(znodeApply(node, remove(0)).output).toEqual({ code: 'BADVERSION' });
    expect(znodeApply(node, remove(-1))).toEqual({ output: { code: 'OK' }, next: absent });
    expect(znodeApply(absent, remove(-1)).output).toEqual({ code: 'NONODE' });
  });
});

describe('znode histories', () => {
  it('rejects two creates of one path that both succeed, accepts one NODEEXISTS', () => {
    expect(verdictOf([op(create('a'), { code: 'OK' }, 0, 10), op(create('b'), { code: 'OK' }, 5, 15)])).toBe('illegal');
    expect(verdictOf([op(create('a'), { code: 'OK' }, 0, 10), op(create('b'), { code: 'NODEEXISTS' }, 5, 15)])).toBe('ok');
  });

  it('rejects two conditional setData from one version that both succeed', () => {
    const history = [
      op(create('a'), { code: 'OK' }, 0, 1),
      op(setData('b', 0), { code: 'OK', version: 1 }, 2, 10, 'c1'),
      op(setData('c', 0), { code: 'OK', version: 1 }, 3, 11, 'c2'),
    ];
    expect(verdictOf(history)).toBe('illegal');
    const secondLoses = [...history.slice(0, 2), op(setData('c', 0), { code: 'BADVERSION' }, 3, 11, 'c2')];
    expect(verdictOf(secondLoses)).toBe('ok');
  });

  it('rejects a stale read after delete, and a version that goes back', () => {
    const base = [op(create('a'), { code: 'OK' }, 0, 1), op(setData('b', -1), { code: 'OK', version: 1 }, 2, 3)];
    expect(verdictOf([...base, op(remove(-1), { code: 'OK' }, 4, 5), op(getData, { code: 'OK', data: 'b', version: 1 }, 6, 7)])).toBe('illegal');
    expect(verdictOf([...base, op(getData, { code: 'OK', data: 'a', version: 0 }, 6, 7)])).toBe('illegal');
    expect(verdictOf([...base, op(getData, { code: 'OK', data: 'b', version: 0 }, 6, 7)])).toBe('illegal');
    expect(verdictOf([...base, op(getData, { code: 'OK', data: 'b', version: 1 }, 6, 7)])).toBe('ok');
  });

  it('restarts versions at 0 when a node is re-created', () => {
    const history = [
      op(create('a'), { code: 'OK' }, 0, 1),
      op(setData('b', 0), { code: 'OK', version: 1 }, 2, 3),
      op(remove(1), { code: 'OK' }, 4, 5),
      op(create('c'), { code: 'OK', version: 0 }, 6, 7),
    ];
    expect(verdictOf([...history, op(getData, { code: 'OK', data: 'c', version: 0 }, 8, 9)])).toBe('ok');
    expect(verdictOf([...history, op(getData, { code: 'OK', data: 'c', version: 2 }, 8, 9)])).toBe('illegal');
  });

  it('takes an unknown create as done between a NONODE and a NODEEXISTS', () => {
    const history = [
      lost(create('a'), 0),
      op(getData, { code: 'NONODE' }, 10, 20),
      op(create('b'), { code: 'NODEEXISTS' }, 30, 40),
      op(getData, { code: 'OK', data: 'a', version: 0 }, 50, 60),
    ];
    expect(verdictOf(history)).toBe('ok');
    // But the node it made cannot hold data nobody wrote.
    expect(verdictOf([...history.slice(0, 3), op(getData, { code: 'OK', data: 'b', version: 0 }, 50, 60)])).toBe('illegal');
  });

  it('checks each path on its own', () => {
    const history = [
      op({ kind: 'create', path: '/a', data: 'x' }, { code: 'OK' }, 0, 10),
      op({ kind: 'create', path: '/b', data: 'y' }, { code: 'OK' }, 0, 10),
      op({ kind: 'getData', path: '/b' }, { code: 'NONODE' }, 20, 30),
    ];
    const verdict = checkLinearizability(model, history);
    expect(verdict.result).toBe('illegal');
    expect(verdict.partitions.map((partition) => partition.result)).toEqual(['ok', 'illegal']);
    expect(verdict.explanation).toContain('getData(/b) -> NONODE');
  });
});
