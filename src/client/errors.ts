/**
 * The client's errors: KeeperError (src/core/errors.ts) with a readable message per code, and
 * MultiError, the KeeperError a failed multi rejects with, carrying the per-op results as
 * ZooKeeper's KeeperException.getResults() does.
 */

import { KeeperError, type FailureName } from '../core/errors.js';
import type { OpResult } from '../core/tree/types.js';

/** What each code means, for the message of an error the serving peer answered with. */
const MEANING: Partial<Record<FailureName, string>> = {
  NONODE: 'no node exists at this path',
  NODEEXISTS: 'a node already exists at this path',
  BADVERSION: "the expected version does not match the node's",
  NOTEMPTY: 'the node has children',
  NOCHILDRENFOREPHEMERALS: 'an ephemeral node cannot have children',
  NOAUTH: "the session's identities lack the permission this needs",
  BADARGUMENTS: 'invalid arguments',
  INVALIDACL: 'invalid ACL',
  SESSIONEXPIRED: 'the session has expired',
  CONNECTIONLOSS: 'the connection to the serving peer was lost; the outcome is unknown',
  OPERATIONTIMEOUT: 'the call was not answered in time; the outcome is unknown',
  QUOTAEXCEEDED: 'a capacity limit was reached',
  NOWATCHER: 'no such watch at this path',
  UNIMPLEMENTED: 'not implemented',
  RUNTIMEINCONSISTENCY: 'an earlier op of the multi failed',
  THROTTLEDOP: 'the serving peer has too many calls of this session pending; not executed',
  AUTHFAILED: 'authentication failed',
};

export function meaningOf(code: FailureName): string {
  return MEANING[code] ?? code;
}

/** The error a failed call rejects with when the serving peer refused it; `reason` is the peer's
 *  own explanation when it gave one. */
export function answeredError(code: FailureName, path: string | undefined, op: string, reason?: string): KeeperError {
  const meaning = op === 'create' && code === 'NONODE' ? 'the parent node does not exist' : meaningOf(code);
  return new KeeperError(code, reason === undefined ? `${op}: ${meaning}` : `${op}: ${meaning} (${reason})`, path);
}

/** A failed multi: `code` is the first failing op's, `results` has one entry per op — OK before
 *  the failing one, its code, RUNTIMEINCONSISTENCY after (ZooKeeper's ErrorResults). */
export class MultiError extends KeeperError {
  readonly results: OpResult[];
  /** The index of the first failing op. */
  readonly failedOp: number;

  constructor(options: { code: FailureName; results: OpResult[]; failedOp: number; path?: string; reason?: string }) {
    const reason = options.reason ?? meaningOf(options.code);
    super(options.code, `multi op ${options.failedOp} failed: ${reason}`, options.path);
    this.results = options.results;
    this.failedOp = options.failedOp;
  }
}

/** The per-op results of a multi refused at `failedOp` before anything was sent. */
export function refusedResults(count: number, failedOp: number, code: FailureName): OpResult[] {
  return Array.from({ length: count }, (_, i): OpResult => {
    if (i < failedOp) return { op: 'error', code: 'OK' };
    if (i === failedOp) return { op: 'error', code };
    return { op: 'error', code: 'RUNTIMEINCONSISTENCY' };
  });
}

/** The calls after close() or expiry: SESSIONEXPIRED, as ZooKeeper's Java client answers every
 *  call on a CLOSED connection (ClientCnxn.conLossPacket). The call was never sent. */
export function endedError(state: 'closed' | 'expired' | 'closing', op: string): KeeperError {
  const why =
    state === 'expired'
      ? 'the session has expired; join again for a new session'
      : 'the keeper was closed (close() was called); join again for a new session';
  return new KeeperError('SESSIONEXPIRED', `${op}: ${why}`);
}
