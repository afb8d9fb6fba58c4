/**
 * A one-replica driver: prep a request, give it the next zxid, apply it, tell the preparer. What a
 * leader's runtime does, without the log in between, for tests and for simulator models. It can
 * also hold prepared txns back (`prepOnly` / `applyPrepared`) to exercise the overlay.
 */

import { assert } from '../assert.js';
import type { Applied } from './apply.js';
import { DataTree, type DataTreeOptions } from './data-tree.js';
import type { Prepared, Preparer } from './prep.js';
import type { Id, PrepContext, SessionId, Txn, WriteRequest } from './types.js';

export interface Caller {
  sessionId?: SessionId | null;
  auth?: Id[];
  /** Defaults to the harness clock. */
  time?: number;
}

export interface Run extends Applied {
  txn: Txn;
  zxid: number;
  prepared: Prepared;
}

export class TreeHarness {
  readonly tree: DataTree;
  readonly preparer: Preparer;
  /** The next zxid to hand out. */
  nextZxid = 1;
  /** The clock written into txn headers (ms); tests move it by hand. */
  now = 1_700_000_000_000;
  private readonly held: { txn: Txn; zxid: number }[] = [];

  constructor(options: DataTreeOptions = {}) {
    this.tree = new DataTree(options);
    this.preparer = this.tree.preparer();
  }

  context(caller: Caller = {}): PrepContext {
    const zxid = this.nextZxid;
    this.nextZxid += 1;
    return { sessionId: caller.sessionId ?? null, auth: caller.auth ?? [], time: caller.time ?? this.now, zxid };
  }

  /** Prepares and holds the txn (not applied): the overlay now shows it. */
  prepOnly(request: WriteRequest, caller: Caller = {}): Prepared & { zxid: number } {
    const ctx = this.context(caller);
    const prepared = this.preparer.prep(request, ctx);
    this.held.push({ txn: prepared.txn, zxid: ctx.zxid });
    return { ...prepared, zxid: ctx.zxid };
  }

  /** Applies the oldest held txn, if any. */
  applyNext(): Run | undefined {
    const next = this.held.shift();
    if (next === undefined) return undefined;
    const applied = this.tree.apply(next.txn, next.zxid);
    this.preparer.applied(next.zxid);
    return { ...applied, txn: next.txn, zxid: next.zxid, prepared: { txn: next.txn, failure: null } };
  }

  /** Applies every held txn in order; returns their outcomes. */
  applyPrepared(): Run[] {
    const runs: Run[] = [];
    for (let run = this.applyNext(); run !== undefined; run = this.applyNext()) runs.push(run);
    return runs;
  }

  /** prep + apply at once. */
  run(request: WriteRequest, caller: Caller = {}): Run {
    assert(this.held.length === 0, 'harness: apply held txns before running more');
    const ctx = this.context(caller);
    const prepared = this.preparer.prep(request, ctx);
    const applied = this.tree.apply(prepared.txn, ctx.zxid);
    this.preparer.applied(ctx.zxid);
    return { ...applied, txn: prepared.txn, zxid: ctx.zxid, prepared };
  }

  /** Opens a session (and asserts it opened). */
  openSession(sessionId: SessionId, timeoutMs = 10_000): Run {
    const run = this.run({ op: 'createSession', sessionId, timeoutMs });
    assert(run.result.ok, `harness: session ${sessionId} opened`);
    return run;
  }
}
