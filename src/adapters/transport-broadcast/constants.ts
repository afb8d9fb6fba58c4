/**
 * The BroadcastChannel transport's limits and timings, each with its reason (transport.ts says how
 * they are used). Browser-safe; no Node imports.
 */

import { PEER_ID_BYTES_MAX } from '../../core/limits.js';
import { WIRE_MESSAGE_BYTES_MAX } from '../../peer/constants.js';

/** The envelope format's version: an envelope of another version is dropped as malformed (tabs of
 *  one profile can run two builds of an app for a moment, during a deploy). */
export const BROADCAST_PROTOCOL_VERSION = 1;

/** The largest payload: the runtime's wire limit, as every transport (transport-compliance.ts).
 *  BroadcastChannel itself needs no chunking (structured clone, no frame size). */
export const BROADCAST_MESSAGE_BYTES_MAX = WIRE_MESSAGE_BYTES_MAX;

/** The longest peer id accepted in an envelope (the runtime's own bound). */
export const BROADCAST_PEER_ID_CHARS_MAX = PEER_ID_BYTES_MAX;

/** A tab says it is here this often. Hidden tabs clamp timers to 1 s (DESIGN.md "Time in
 *  browsers"), so a shorter interval would buy nothing where it matters most. */
export const HEARTBEAT_INTERVAL_MS = 1000;

/** A peer heard from neither by heartbeat nor by any message for this long has left (a crashed or
 *  frozen tab; a closing tab says bye at once). Four missed beats: a hidden tab's clamped timer
 *  fires late by up to a beat, and a busy main thread answers late too, so one late beat never
 *  drops a live peer; the runtime confirms a departure by silence again (DEPARTURE_CONFIRM_MS). */
export const SILENCE_LIMIT_MS = 4 * HEARTBEAT_INTERVAL_MS + HEARTBEAT_INTERVAL_MS / 2;

/** After its hello, a fresh transport waits this long for the tabs already in the room to answer
 *  before it reports its first room list. A responsive tab answers within a BroadcastChannel round
 *  trip (~0.2-0.4 ms measured); the window covers a tab busy with a short task. A tab too busy to
 *  answer in time is still listed: it holds its presence lock (presenceLockPrefix), which the list
 *  reads, so the window need not cover long tasks. Tabs opened together wait for each other's
 *  window in turn (the bootstrap lock), so it stays short. */
export const DISCOVERY_WINDOW_MS = 50;

/** How long open() waits for this peer's presence lock. The name is unique per peer id, so only a
 *  second transport with the same id (a closing one releasing it, or a real duplicate) can hold it. */
export const PRESENCE_GRANT_WAIT_MS = 2000;

/** The most peers one transport tracks: a room has at most 7 voters and some observers; more than
 *  this many distinct ids on one channel is a fault, and the extra ones are not tracked. */
export const BROADCAST_PEERS_MAX = 256;

/** The most listeners waiting for the first room list (one per start; a leak beyond is a bug). */
export const LIST_LISTENERS_MAX = 64;

/** The BroadcastChannel (and Web Lock name prefix) of a room. */
export const channelName = (room: string): string => `meshkeeper:${room}`;

/** The Web Lock a fresh tab holds from its discovery until its peer has started, so that of two
 *  tabs opened together exactly one bootstraps the ensemble (platform/browser.ts). */
export const bootstrapLockName = (room: string): string => `${channelName(room)}:bootstrap`;

/** The prefix of the Web Locks peers hold while their transport is open (one per peer): the
 *  browser's lock manager lists them even when their tab is too busy to answer a hello. */
export const presenceLockPrefix = (room: string, secretTag: string): string => `${channelName(room)}:peer:${secretTag}:`;
