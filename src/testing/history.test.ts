// Proves the history recorder's contract: times come from the clock passed in, an unknown
// outcome is recorded with returnTime Infinity and no guessed output, operations still pending
// count as unknown, each operation finishes exactly once, the clock may not run backwards, and
// the recorder's orders break ties at equal times (happensBefore).

import { describe, expect, it } from 'vitest';
import { HistoryRecorder, UNKNOWN, happensBefore, isUnknown } from './history.js';

function recorderAt(times: number[]): HistoryRecorder<string, string> {
  let index = 0;
  return new HistoryRecorder<string, string>({ clock: () => times[Math.min(index++, times.length - 1)] ?? 0 });
}

describe('HistoryRecorder', () => {
  it('records invoke and return times from the clock, and outputs as given', () => {
    const recorder = recorderAt([5, 7, 9, 12]);
    const first = recorder.invoke('c1', 'write 1');
    const second = recorder.invoke('c2', 'read');
    recorder.ok(first, 'ok');
    recorder.ok(second, '1');
    expect(recorder.history()).toEqual([
      { id: first, client: 'c1', input: 'write 1', invokeTime: 5, returnTime: 9, output: 'ok', invokeOrder: 0, returnOrder: 2 },
      { id: second, client: 'c2', input: 'read', invokeTime: 7, returnTime: 12, output: '1', invokeOrder: 1, returnOrder: 3 },
    ]);
  });

  it('records an unknown outcome with returnTime Infinity, and pending ones as unknown', () => {
    const recorder = recorderAt([1, 2, 3]);
    const lost = recorder.invoke('c1', 'write 1');
    const pending = recorder.invoke('c2', 'write 2');
    recorder.unknown(lost);
    expect(recorder.pendingCount()).toBe(1);
    const history = recorder.history();
    expect(history.map((operation) => [operation.id, operation.returnTime, isUnknown(operation.output)])).toEqual([
      [lost, Infinity, true],
      [pending, Infinity, true],
    ]);
    expect(history[0]?.output).toBe(UNKNOWN);
    expect(history[0]?.returnOrder).toBeUndefined();
  });

  it('refuses to finish an operation twice, or one never invoked', () => {
    const recorder = recorderAt([1, 2, 3]);
    const id = recorder.invoke('c1', 'read');
    recorder.ok(id, '0');
    expect(() => recorder.ok(id, '0')).toThrow(/pending/);
    expect(() => recorder.unknown(id)).toThrow(/pending/);
    expect(() => recorder.unknown(99)).toThrow(/pending/);
  });

  it('refuses UNKNOWN as a known output', () => {
    const recorder = new HistoryRecorder<string, string | typeof UNKNOWN>({ clock: () => 0 });
    const id = recorder.invoke('c1', 'read');
    expect(() => recorder.ok(id, UNKNOWN)).toThrow(/unknown\(\)/);
  });

  it('refuses a clock that goes backwards', () => {
    const recorder = recorderAt([10, 5]);
    const id = recorder.invoke('c1', 'read');
    expect(() => recorder.ok(id, '0')).toThrow(/backwards/);
  });

  it('is bounded', () => {
    const recorder = new HistoryRecorder<string, string>({ clock: () => 0, operationsMax: 2 });
    recorder.invoke('c1', 'a');
    recorder.invoke('c1', 'b');
    expect(() => recorder.invoke('c1', 'c')).toThrow(/at most 2/);
    expect(() => new HistoryRecorder({ clock: () => 0, operationsMax: 1e12 })).toThrow(/HISTORY_OPERATIONS_MAX/);
  });

  it('orders equal times by what it saw first', () => {
    const recorder = recorderAt([0, 10, 10, 20]);
    const write = recorder.invoke('c1', 'write');
    recorder.ok(write, 'ok');
    const read = recorder.invoke('c2', 'read');
    recorder.ok(read, '1');
    const [writeOperation, readOperation] = recorder.history();
    expect(writeOperation?.returnTime).toBe(readOperation?.invokeTime);
    expect(writeOperation && readOperation && happensBefore(writeOperation, readOperation)).toBe(true);
    expect(writeOperation && readOperation && happensBefore(readOperation, writeOperation)).toBe(false);
  });
});
