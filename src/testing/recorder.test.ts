// Proves the recorder and the checker together on a simulated service, as the simulator will use
// them: clients on a virtual clock (many events at equal times) call a register server over a
// lossy link; lost replies are recorded as unknown. A correct server's histories are always
// accepted; a server that sometimes answers reads from a stale copy is caught.

import { describe, expect, it } from 'vitest';
import type { Prng } from '../core/prng.js';
import { Scheduler } from '../sim/scheduler.js';
import { testSeed, withSeed } from '../test-support/seed.js';
import { HistoryRecorder, checkLinearizability } from './linearizability.js';
import { type RegisterInput, type RegisterOutput, type RegisterValue, registerModel } from './models/register.js';

function simulate(prng: Prng, staleReadProbability: number) {
  const scheduler = new Scheduler();
  const recorder = new HistoryRecorder<RegisterInput, RegisterOutput>({ clock: () => scheduler.now() });
  let value: RegisterValue = null;
  let stale: RegisterValue = null; // what a lagging replica would still show
  let serial = 0;
  const serve = (input: RegisterInput): RegisterOutput => {
    switch (input.kind) {
      case 'read':
        return { kind: 'read', value: prng.chance(staleReadProbability) ? stale : value };
      case 'write':
        stale = value;
        value = input.value;
        return { kind: 'write' };
      case 'cas': {
        const ok = value === input.expected;
        if (ok) {
          stale = value;
          value = input.value;
        }
        return { kind: 'cas', ok };
      }
    }
  };
  const client = (name: string, remaining: number): void => {
    if (remaining === 0) return;
    const roll = prng.int(0, 2);
    const input: RegisterInput = roll === 0
      ? { kind: 'read' }
      : roll === 1
        ? { kind: 'write', value: `${name}-${serial++}` }
        : { kind: 'cas', expected: value, value: `${name}-${serial++}` };
    const id = recorder.invoke(name, input);
    // The request reaches the server (or not), the reply comes back (or not): integer delays,
    // so many events share a virtual time.
    const requestLost = prng.chance(0.05);
    const replyLost = prng.chance(0.05);
    scheduler.schedule(prng.int(0, 3), 'request', () => {
      const output = requestLost ? null : serve(input);
      scheduler.schedule(prng.int(0, 3), 'reply', () => {
        if (output === null || replyLost) recorder.unknown(id);
        else recorder.ok(id, output);
        client(name, remaining - 1);
      });
    });
  };
  for (const name of ['c1', 'c2', 'c3', 'c4']) client(name, 60);
  scheduler.runUntilIdle({ eventsMax: 10_000 });
  expect(recorder.pendingCount()).toBe(0);
  return recorder.history();
}

describe('recorder and checker on a simulated register service', () => {
  it('accepts every history of a correct server', () => {
    withSeed('accepts every history of a correct server', testSeed(), (prng) => {
      for (let round = 0; round < 20; round++) {
        const verdict = checkLinearizability(registerModel(), simulate(prng, 0));
        if (verdict.result !== 'ok') throw new Error(`round ${round}: ${verdict.result}\n${verdict.explanation}`);
      }
    });
  });

  it('catches a server that serves stale reads', () => {
    withSeed('catches a server that serves stale reads', testSeed(), (prng) => {
      let caught = 0;
      for (let round = 0; round < 20; round++) {
        const verdict = checkLinearizability(registerModel(), simulate(prng, 0.2));
        expect(verdict.result).not.toBe('unknown-timeout');
        if (verdict.result === 'illegal') caught += 1;
      }
      expect(caught).toBeGreaterThan(15);
    });
  });
});
