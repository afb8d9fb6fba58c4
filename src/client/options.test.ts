// Proves Keeper.join's options are checked in full before anything starts (API.md "Joining an
// ensemble"): unknown options, wrong types and values out of bounds are BADARGUMENTS naming the
// option; combinations a later piece of work brings are UNIMPLEMENTED naming that piece; the
// standalone plan gets ZooKeeper's session timeout bounds (2 to 20 ticks of 2 s); a browser
// without a relay plans the ensemble of its profile's tabs, Node without one the standalone.
import { describe, expect, it } from 'vitest';
import { KeeperError } from '../core/errors.js';
import { NOT_YET, planJoin } from './options.js';

const node = { node: true };
const browser = { node: false };

function refusal(options: unknown, platform = node): KeeperError {
  try {
    planJoin(options, platform);
  } catch (error) {
    expect(error).toBeInstanceOf(KeeperError);
    return error as KeeperError;
  }
  throw new Error('expected planJoin to refuse');
}

describe('planJoin', () => {
  it('plans the standalone ensemble with the defaults', () => {
    expect(planJoin({ storage: 'memory' }, node)).toEqual({
      kind: 'standalone',
      room: 'meshkeeper',
      secret: undefined,
      voters: 3,
      sessionTimeoutMs: 10_000,
      requestTimeoutMs: 0,
    });
    expect(planJoin({ storage: 'memory', room: 'r', secret: 's', voters: 1, sessionTimeoutMs: 4000, requestTimeoutMs: 500 }, node)).toMatchObject({
      room: 'r',
      secret: 's',
      voters: 1,
      sessionTimeoutMs: 4000,
      requestTimeoutMs: 500,
    });
  });

  it('refuses bad options with BADARGUMENTS naming them', () => {
    const cases: [unknown, RegExp][] = [
      [{ storage: 'memory', colour: 'red' }, /unknown join option "colour"/],
      ['memory', /must be an object/],
      [{ storage: 'disk' }, /storage must be/],
      [{ storage: 'file:' }, /needs a directory/],
      [{ storage: 'memory', room: '' }, /room must be 1 to/],
      [{ storage: 'memory', room: 7 }, /room must be a string/],
      [{ storage: 'memory', voters: 2 }, /voters must be odd/],
      [{ storage: 'memory', voters: 9 }, /voters must be between 1 and 7/],
      [{ storage: 'memory', voters: 1.5 }, /voters must be an integer/],
      [{ storage: 'memory', sessionTimeoutMs: 3999 }, /sessionTimeoutMs must be between 4000 and 40000/],
      [{ storage: 'memory', sessionTimeoutMs: 40_001 }, /sessionTimeoutMs must be between 4000 and 40000/],
      [{ storage: 'memory', requestTimeoutMs: 0 }, /requestTimeoutMs must be between 1/],
      [{ storage: 'memory', relay: 'http://x' }, /relay must be a ws/],
      [{ storage: 'memory', secret: '' }, /secret must be/],
    ];
    for (const [options, message] of cases) {
      const error = refusal(options);
      expect(error.code, JSON.stringify(options)).toBe('BADARGUMENTS');
      expect(error.message).toMatch(message);
    }
  });

  it('plans a networked join for a relay URL, with the platform\'s default storage', () => {
    expect(planJoin({ relay: 'ws://127.0.0.1:8787/relay', room: 'demo' }, node)).toEqual({
      kind: 'network',
      relay: 'ws://127.0.0.1:8787/relay',
      room: 'demo',
      secret: undefined,
      storage: 'file:./meshkeeper-data',
      voters: 3,
      sessionTimeoutMs: 10_000,
      requestTimeoutMs: 0,
    });
    expect(planJoin({ relay: 'wss://relay.example/x', secret: 's' }, browser)).toMatchObject({ kind: 'network', storage: 'indexeddb', secret: 's' });
  });

  it('names the piece of work that brings each other way to join (UNIMPLEMENTED)', () => {
    expect(refusal({})).toMatchObject({ code: 'UNIMPLEMENTED', errno: -6 });
    expect(refusal({}).message).toContain(NOT_YET.standaloneStorage);
    expect(refusal({ storage: 'file:/tmp/x' }).message).toContain(NOT_YET.standaloneStorage);
    expect(refusal({ storage: 'indexeddb' })).toMatchObject({ code: 'BADARGUMENTS' });
    expect(refusal({ storage: 'indexeddb', relay: 'ws://127.0.0.1:8787' }).message).toMatch(/indexeddb' is for browsers/);
    expect(refusal({ storage: 'file:/x' }, browser).code).toBe('BADARGUMENTS');
  });

  it('plans the ensemble of this profile\'s tabs for a browser without a relay (BroadcastChannel)', () => {
    expect(planJoin({ room: 'demo' }, browser)).toEqual({
      kind: 'tabs',
      room: 'demo',
      secret: undefined,
      storage: 'indexeddb',
      voters: 3,
      sessionTimeoutMs: 10_000,
      requestTimeoutMs: 0,
    });
    expect(planJoin({}, browser)).toMatchObject({ kind: 'tabs', room: 'meshkeeper' });
    expect(planJoin({ storage: 'memory', secret: 's', voters: 5, sessionTimeoutMs: 4000, requestTimeoutMs: 500 }, browser)).toEqual({
      kind: 'tabs',
      room: 'meshkeeper',
      secret: 's',
      storage: 'memory',
      voters: 5,
      sessionTimeoutMs: 4000,
      requestTimeoutMs: 500,
    });
    // The same checks as every other plan: bad options are still refused in a browser.
    expect(refusal({ room: '' }, browser).code).toBe('BADARGUMENTS');
    expect(refusal({ voters: 4 }, browser).code).toBe('BADARGUMENTS');
    // Node without a relay stays the standalone ensemble.
    expect(planJoin({ storage: 'memory' }, node).kind).toBe('standalone');
  });
});

describe('replica: false (a client-only attachment, issue 6)', () => {
  it('plans an attachment over a relay, refuses what does not apply, and needs a relay', () => {
    expect(planJoin({ relay: 'ws://127.0.0.1:8787/relay', room: 'r', replica: false, sessionTimeoutMs: 6000 }, node)).toEqual({
      kind: 'client',
      relay: 'ws://127.0.0.1:8787/relay',
      room: 'r',
      secret: undefined,
      sessionTimeoutMs: 6000,
      requestTimeoutMs: 0,
    });
    expect(planJoin({ relay: 'ws://127.0.0.1:8787/relay', replica: true, storage: 'memory' }, node).kind).toBe('network');
    expect(refusal({ relay: 'ws://127.0.0.1:8787/relay', replica: 'no' }, node).code).toBe('BADARGUMENTS');
    expect(refusal({ relay: 'ws://127.0.0.1:8787/relay', replica: false, storage: 'memory' }, node).code).toBe('BADARGUMENTS');
    expect(refusal({ relay: 'ws://127.0.0.1:8787/relay', replica: false, voters: 3 }, node).code).toBe('BADARGUMENTS');
    expect(refusal({ replica: false }, node).code).toBe('BADARGUMENTS');
    expect(refusal({ replica: false }, browser).code).toBe('UNIMPLEMENTED');
  });
});
