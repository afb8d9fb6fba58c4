// Proves the linearizability check on histories recorded the simulator's way (clients on virtual
// time through HistoryRecorder, timed-out operations UNKNOWN, never guessed): a real run's history,
// with its unknown operations, is accepted; the same history with one read changed to a value never
// written, or to the initial value after a write completed (a lost acknowledged write), is
// rejected. The checker's own hand-made cases (stale reads, double CAS, unknowns that take effect
// late or never, ...) are in src/testing/linearizability.test.ts and linearizability.random.test.ts.
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../test-support/seed.js';
import type { Operation } from '../../testing/history.js';
import { checkLinearizability, isUnknown } from '../../testing/linearizability.js';
import { keyedRegisterModel, type KeyedRegisterInput, type RegisterOutput } from '../../testing/models/register.js';
import { raftSimProfile } from './profiles.js';
import { RaftSim } from './raft-sim.js';

type Op = Operation<KeyedRegisterInput, RegisterOutput>;

function recorded(seed: number): Op[] {
  const sim = new RaftSim({ seed, profile: raftSimProfile('crashes') });
  sim.run();
  return sim.history.history();
}

const replace = (history: readonly Op[], changed: Op): Op[] => history.map((operation) => (operation.id === changed.id ? changed : operation));

describe('histories recorded by the simulator', () => {
  const seed = testSeed() % 1_000_000_000;
  const history = recorded(seed);
  console.info(`history.test: seed ${seed} (profile crashes): ${history.length} operations, ${history.filter((op) => isUnknown(op.output)).length} unknown`);

  it('are accepted, unknown operations included', () => {
    expect(history.some((operation) => isUnknown(operation.output))).toBe(true);
    expect(checkLinearizability(keyedRegisterModel(), history).result).toBe('ok');
  });

  it('are rejected with a read of a value never written', () => {
    const read = history.find((operation) => operation.input.kind === 'read' && !isUnknown(operation.output));
    expect(read).toBeDefined();
    const tampered = replace(history, { ...(read as Op), output: { kind: 'read', value: 'never-written' } });
    expect(checkLinearizability(keyedRegisterModel(), tampered).result).toBe('illegal');
  });

  it('are rejected when a read misses a write acknowledged before it began', () => {
    const writeDone = (operation: Op): boolean => operation.input.kind === 'write' && !isUnknown(operation.output);
    const read = history.find((candidate) =>
      candidate.input.kind === 'read' && !isUnknown(candidate.output) &&
      history.some((write) => writeDone(write) && write.input.key === candidate.input.key && write.returnTime < candidate.invokeTime));
    expect(read).toBeDefined();
    const tampered = replace(history, { ...(read as Op), output: { kind: 'read', value: null } });
    const verdict = checkLinearizability(keyedRegisterModel(), tampered);
    expect(verdict.result).toBe('illegal');
    expect(verdict.explanation).toContain('NOT linearizable');
  });
});
