/**
 * The messages Raft peers exchange (dissertation Figure 3.1 RPCs, §9.6 PreVote, §3.10
 * TimeoutNow, §5.3 InstallSnapshot in chunks, §6.4 ReadIndex), and `messageProblem`, the one
 * validation used before encoding (as an assertion) and after decoding (as an error value).
 *
 * Every message carries the sender's current term, except the vote responses, which echo the
 * request's term when granting (a pre-vote is for a future term; see raft.ts). There are no
 * "local" messages: ticks, proposals and the like are calls on RawNode.
 */

import { ENTRY_DATA_BYTES_MAX, READ_REQUEST_ID_BYTES_MAX, SNAPSHOT_BYTES_MAX, SNAPSHOT_CHUNK_BYTES_MAX } from '../limits.js';
import { configProblem, decodeConfigEntry, peerIdProblem, utf8Bytes } from './config.js';
import type { Entry, PeerId, SnapshotMeta } from './types.js';

interface Envelope {
  readonly from: PeerId;
  readonly to: PeerId;
  readonly term: number;
}

/** RequestVote (Figure 3.1) or its PreVote twin (§9.6), sent for term `term`. `transfer` marks a
 *  campaign started by TimeoutNow (§3.10), which the leader lease does not block. */
export interface VoteRequest extends Envelope {
  readonly type: 'vote' | 'pre-vote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly transfer: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: 'vote-response' | 'pre-vote-response';
  readonly reject: boolean;
}

/** AppendEntries (Figure 3.1). `entries[i].index === prevLogIndex + 1 + i`. */
export interface Append extends Envelope {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * The answer to an append (or to a completed snapshot). Accepted: `index` is the last index the
 * follower now matches. Rejected: `index` is the rejected append's prevLogIndex, and the hint
 * (§5.3 fast backtracking, etcd's RejectHint/LogTerm) names the largest index at or below it whose
 * term is at most the leader's prevLogTerm, with that term.
 */
export interface AppendResponse extends Envelope {
  readonly type: 'append-response';
  readonly index: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly rejectHintTerm: number;
}

/** A heartbeat: an empty append without a consistency check (etcd's MsgHeartbeat). `commit` is
 *  capped by the leader at the follower's match, so it never exceeds what the follower holds.
 *  `readRound` is the leader's latest ReadIndex round (§6.4); 0 when none. */
export interface Heartbeat extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly readRound: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'heartbeat-response';
  readonly readRound: number;
}

/** One chunk of InstallSnapshot (§5.3, Figure 5.3): `data` is bytes [offset, offset + length) of
 *  a snapshot of `size` bytes; `done` on the last. Each chunk repeats `meta` so that a follower can
 *  tell a new snapshot from the one it is receiving. */
export interface SnapshotChunk extends Envelope {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/** Progress of a snapshot transfer: the follower holds bytes [0, offset) of snapshot (index,
 *  snapshotTerm). `resend` means the chunk just received was not the one expected, so the leader
 *  must continue from `offset` (0 restarts the transfer: a follower that restarted lost its buffer). */
export interface SnapshotResponse extends Envelope {
  readonly type: 'snapshot-response';
  readonly index: number;
  readonly snapshotTerm: number;
  readonly offset: number;
  readonly resend: boolean;
}

/** A follower forwards a ReadIndex request to its leader (§6.4). */
export interface ReadIndexRequest extends Envelope {
  readonly type: 'read-index';
  readonly requestId: string;
}

export interface ReadIndexResponse extends Envelope {
  readonly type: 'read-index-response';
  readonly requestId: string;
  readonly index: number;
}

/** §3.10: the leader tells a caught-up voter to campaign at once. */
export interface TimeoutNow extends Envelope {
  readonly type: 'timeout-now';
}

/** A follower asks its leader to hand leadership to `target` (§3.10). */
export interface TransferLeader extends Envelope {
  readonly type: 'transfer-leader';
  readonly target: PeerId;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | Append
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotResponse
  | ReadIndexRequest
  | ReadIndexResponse
  | TimeoutNow
  | TransferLeader;

export type MessageType = Message['type'];

export const MESSAGE_TYPES: readonly MessageType[] = [
  'vote',
  'vote-response',
  'pre-vote',
  'pre-vote-response',
  'append',
  'append-response',
  'heartbeat',
  'heartbeat-response',
  'snapshot',
  'snapshot-response',
  'read-index',
  'read-index-response',
  'timeout-now',
  'transfer-leader',
];

function isIndex(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function requestIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return 'request id is not a string';
  if (utf8Bytes(id) > READ_REQUEST_ID_BYTES_MAX) return `request id longer than ${READ_REQUEST_ID_BYTES_MAX} bytes`;
  return null;
}

function entryProblem(entry: Entry, index: number, term: number): string | null {
  if (entry.index !== index) return `entry index ${entry.index} where ${index} was expected`;
  if (!isIndex(entry.term) || entry.term < 1) return 'entry term is not a positive integer';
  if (entry.term > term) return `entry term ${entry.term} above the message term ${term}`;
  if (!(entry.data instanceof Uint8Array)) return 'entry data is not bytes';
  if (entry.data.length > ENTRY_DATA_BYTES_MAX) return `entry data above ${ENTRY_DATA_BYTES_MAX} bytes`;
  if (entry.kind === 'noop' && entry.data.length !== 0) return 'a noop entry carries data';
  if (entry.kind === 'config' && !decodeConfigEntry(entry.data).ok) return 'a config entry does not decode';
  return null;
}

function appendProblem(m: Append): string | null {
  if (!isIndex(m.prevLogIndex) || !isIndex(m.prevLogTerm) || !isIndex(m.commit)) return 'append indexes are not non-negative integers';
  if (m.prevLogTerm > m.term) return 'append prevLogTerm above the term';
  let lastTerm = m.prevLogTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const entry = m.entries[i] as Entry;
    const problem = entryProblem(entry, m.prevLogIndex + 1 + i, m.term);
    if (problem !== null) return problem;
    if (entry.term < lastTerm) return 'append entry terms decrease';
    lastTerm = entry.term;
  }
  return null;
}

function snapshotProblem(m: SnapshotChunk): string | null {
  if (!isIndex(m.meta.index) || !isIndex(m.meta.term) || m.meta.index < 1) return 'snapshot meta index/term invalid';
  if (m.meta.term > m.term) return 'snapshot term above the message term';
  const config = configProblem(m.meta.config);
  if (config !== null) return `snapshot config: ${config}`;
  if (!isIndex(m.size) || m.size > SNAPSHOT_BYTES_MAX) return 'snapshot size invalid';
  if (!isIndex(m.offset)) return 'snapshot offset invalid';
  if (m.data.length > SNAPSHOT_CHUNK_BYTES_MAX) return 'snapshot chunk too large';
  if (m.offset + m.data.length > m.size) return 'snapshot chunk beyond the size';
  if (m.done !== (m.offset + m.data.length === m.size)) return 'snapshot done flag disagrees with the size';
  return null;
}

function bodyProblem(m: Message): string | null {
  switch (m.type) {
    case 'vote':
    case 'pre-vote':
      return isIndex(m.lastLogIndex) && isIndex(m.lastLogTerm) ? null : 'vote last log invalid';
    case 'append':
      return appendProblem(m);
    case 'append-response':
      return isIndex(m.index) && isIndex(m.rejectHint) && isIndex(m.rejectHintTerm) ? null : 'append response indexes invalid';
    case 'heartbeat':
      return isIndex(m.commit) && isIndex(m.readRound) ? null : 'heartbeat fields invalid';
    case 'heartbeat-response':
      return isIndex(m.readRound) ? null : 'heartbeat response round invalid';
    case 'snapshot':
      return snapshotProblem(m);
    case 'snapshot-response':
      return isIndex(m.index) && isIndex(m.snapshotTerm) && isIndex(m.offset) ? null : 'snapshot response fields invalid';
    case 'read-index':
      return requestIdProblem(m.requestId);
    case 'read-index-response':
      return requestIdProblem(m.requestId) ?? (isIndex(m.index) ? null : 'read index invalid');
    case 'transfer-leader':
      return peerIdProblem(m.target);
    case 'vote-response':
    case 'pre-vote-response':
    case 'timeout-now':
      return null;
  }
}

/** Why `m` is not a well-formed message, or null. Checked before encode and after decode. */
export function messageProblem(m: Message): string | null {
  if (!MESSAGE_TYPES.includes(m.type)) return `unknown message type ${String(m.type)}`;
  const from = peerIdProblem(m.from);
  if (from !== null) return `from: ${from}`;
  const to = peerIdProblem(m.to);
  if (to !== null) return `to: ${to}`;
  if (m.from === m.to) return 'a message to itself';
  if (!isIndex(m.term)) return 'term is not a non-negative integer';
  return bodyProblem(m);
}
