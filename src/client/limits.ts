/**
 * The client's own bounds, each with its reason (units last). The data model's limits (path and
 * data sizes, ACL sizes, multi size, TTL) live in src/core/limits.ts and are enforced by the tree;
 * these bound what a Keeper holds in memory and what join() accepts.
 */

import { SESSION_TICK_MS, SESSION_TIMEOUT_TICKS_MAX, SESSION_TIMEOUT_TICKS_MIN } from '../peer/constants.js';

/** The most watcher registrations one Keeper holds (a (kind, path, function) triple each). The
 *  serving peer caps its own table at WATCHES_MAX; the client side keeps Sets of functions per
 *  path, so one server watch may stand for many client registrations. ~100 bytes each: ~100 MB. */
export const WATCHERS_PER_KEEPER_MAX = 1_000_000;

/** The most calls one Keeper has in flight (issued, not answered). Each holds a promise and its
 *  request; beyond this the caller is far ahead of the ensemble and a clear QUOTAEXCEEDED beats
 *  unbounded memory. A pipelined burst of 100,000 small writes is still accepted. */
export const CALLS_IN_FLIGHT_MAX = 100_000;

/** The longest room name, in characters: a label that travels in every relay message. */
export const ROOM_NAME_CHARS_MAX = 128;

/** The longest room secret, in characters: an HMAC key (any length works; 1 KiB is plenty). */
export const ROOM_SECRET_CHARS_MAX = 1024;

/** The voter target's bounds and default, and the session tick, are the peer runtime's (one
 *  source of truth: join refuses what the peer would refuse). */
export { SESSION_TICK_MS, TARGET_VOTERS_DEFAULT as VOTERS_DEFAULT, TARGET_VOTERS_MAX as VOTERS_MAX } from '../peer/constants.js';

/** ZooKeeper's minSessionTimeout default: two ticks. */
export const SESSION_TIMEOUT_MS_MIN = SESSION_TIMEOUT_TICKS_MIN * SESSION_TICK_MS;

/** ZooKeeper's maxSessionTimeout default: twenty ticks. */
export const SESSION_TIMEOUT_MS_MAX = SESSION_TIMEOUT_TICKS_MAX * SESSION_TICK_MS;

/** The default session timeout (API.md's example). */
export const SESSION_TIMEOUT_MS_DEFAULT = 10_000;

/** The longest client-side request timeout: ten minutes; longer is no timeout in practice. */
export const REQUEST_TIMEOUT_MS_MAX = 600_000;

/** How long close() waits for the calls issued before it to be answered before it closes the
 *  session anyway (those calls then fail with CONNECTIONLOSS: outcome unknown). One session
 *  timeout: by then the ensemble would have expired a silent session anyway. */
export const CLOSE_DRAIN_TIMEOUTS = 1;

/** Keeper.join tries to open its session this many times when an attempt ends in CONNECTIONLOSS
 *  (a joining peer that installs the ensemble's snapshot fails the writes in flight; the benchmark
 *  found a peer joining a 15,000-znode ensemble lose its first attempt). */
export const OPEN_SESSION_ATTEMPTS_MAX = 5;

/** The pause before attempt n + 1 is n times this: long enough for a snapshot install to finish. */
export const OPEN_SESSION_RETRY_MS = 250;
