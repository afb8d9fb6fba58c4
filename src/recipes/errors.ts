/**
 * The recipes' errors (STYLE.md's three outcomes):
 * - an ensemble failure is a KeeperError with ZooKeeper's code (SESSIONEXPIRED, CONNECTIONLOSS…);
 * - an abort rejects with the signal's reason (a DOMException 'AbortError' for a plain abort()),
 *   a timeout with a DOMException 'TimeoutError' — what AbortSignal.timeout() and the Web Locks
 *   API use; DOMException is global in Node 20 and in browsers;
 * - a call made in the wrong state (releasing a lock that is not held) is 'InvalidStateError'.
 */

import { KeeperError, isOutcomeUnknown, type FailureName } from '../index.js';

export function timeoutError(what: string, timeoutMs: number): DOMException {
  return new DOMException(`${what}: not done within ${timeoutMs} ms`, 'TimeoutError');
}

export function abortError(message: string): DOMException {
  return new DOMException(message, 'AbortError');
}

export function invalidState(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}

/** What an aborted signal rejects with: its reason, as every Web API does. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? abortError('the operation was aborted');
}

export function badArgument(message: string, path?: string): KeeperError {
  return new KeeperError('BADARGUMENTS', message, path);
}

export function hasCode(error: unknown, ...codes: FailureName[]): error is KeeperError {
  return error instanceof KeeperError && codes.includes(error.code);
}

/** CONNECTIONLOSS or OPERATIONTIMEOUT: the call may or may not have taken effect. */
export function isUnknownOutcome(error: unknown): error is KeeperError {
  return error instanceof KeeperError && isOutcomeUnknown(error.code);
}

/** The session is over (closed or expired): nothing more can be done with this keeper. */
export function sessionEnded(what: string): KeeperError {
  return new KeeperError('SESSIONEXPIRED', `${what}: the session ended`);
}
