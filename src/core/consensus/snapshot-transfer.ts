/**
 * InstallSnapshot in chunks (dissertation §5.3, Figure 5.3; §5.1 "discard the entire log").
 *
 * Leader: a follower whose next entry is compacted enters the snapshot state; the leader streams
 * its latest snapshot in chunks of SNAPSHOT_CHUNK_BYTES_MAX, at most SNAPSHOT_CHUNKS_IN_FLIGHT_MAX
 * unacknowledged. Each chunk message (meta + chunk) stays within MESSAGE_BYTES_MAX.
 *
 * Follower: it keeps the chunks of one snapshot in memory (volatile, bounded by the size the
 * chunks declare, at most SNAPSHOT_BYTES_MAX) and answers each with the offset it holds. A chunk
 * beyond that offset (one was lost), or of another snapshot at a non-zero offset, is answered
 * with `resend` and the offset to continue from: the transfer resumes after lost chunks and
 * restarts from 0 after a follower restart or when the leader moved to a newer snapshot. A
 * duplicate chunk is simply acknowledged. The last chunk installs the
 * snapshot (Ready.snapshot) and is answered by an append-response at the snapshot's index, which
 * returns the follower to probe/replicate.
 */

import { assert } from '../assert.js';
import { SNAPSHOT_CHUNK_BYTES_MAX, SNAPSHOT_CHUNKS_IN_FLIGHT_MAX } from '../limits.js';
import type { SnapshotChunk, SnapshotResponse } from './messages.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import type { PeerId, Snapshot, SnapshotMeta } from './types.js';

/** A snapshot being received (follower). */
export interface IncomingSnapshot {
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly chunks: Uint8Array[];
  received: number;
}

const WINDOW_BYTES = SNAPSHOT_CHUNKS_IN_FLIGHT_MAX * SNAPSHOT_CHUNK_BYTES_MAX;

/** Leader: switch `to` to the snapshot state and start streaming. Always sends. */
export function sendSnapshot(r: Raft, to: PeerId, progress: Progress): boolean {
  assert(r.snapshot.meta.index === r.log.snapshotMeta().index, 'the snapshot held is the log base');
  assert(r.snapshot.meta.index >= progress.next - 1, 'the snapshot covers what the follower lacks');
  progress.becomeSnapshot(r.snapshot.meta.index, r.snapshot.meta.term);
  sendChunks(r, to, progress);
  return true;
}

function sendChunks(r: Raft, to: PeerId, progress: Progress): void {
  const snapshot = r.snapshot;
  if (progress.snapshot === null || progress.snapshot.index !== snapshot.meta.index) {
    // The leader compacted again: stream the newer snapshot from the start.
    progress.becomeSnapshot(snapshot.meta.index, snapshot.meta.term);
  }
  const transfer = progress.snapshot;
  assert(transfer !== null, 'snapshot state has a transfer');
  const size = snapshot.data.length;
  for (let chunks = 0; !transfer.finalSent && transfer.sentOffset - transfer.ackedOffset < WINDOW_BYTES; chunks++) {
    assert(chunks < SNAPSHOT_CHUNKS_IN_FLIGHT_MAX + 1, 'chunk loop is bounded by the window');
    const offset = transfer.sentOffset;
    const length = Math.min(SNAPSHOT_CHUNK_BYTES_MAX, size - offset);
    const done = offset + length === size;
    const data = snapshot.data.subarray(offset, offset + length);
    r.send({ type: 'snapshot', from: r.id, to, term: r.term, meta: snapshot.meta, size, offset, data, done });
    transfer.sentOffset += length;
    transfer.finalSent = done;
  }
}

/** Leader: the follower reports how much of the snapshot it holds. */
export function handleSnapshotResponse(r: Raft, m: SnapshotResponse, progress: Progress): void {
  progress.recentActive = true;
  const transfer = progress.snapshot;
  if (progress.state !== 'snapshot' || transfer === null) return;
  if (transfer.index !== m.index || transfer.term !== m.snapshotTerm || m.offset > transfer.sentOffset) return;
  if (!m.resend) {
    transfer.ackedOffset = Math.max(transfer.ackedOffset, m.offset);
    if (transfer.rewoundTo !== null && transfer.ackedOffset > transfer.rewoundTo) transfer.rewoundTo = null;
  } else if (transfer.rewoundTo !== m.offset) {
    // Resume (or restart, at 0) from what the follower holds; later resends for the same offset
    // answer chunks that were already in flight and change nothing.
    transfer.rewoundTo = m.offset;
    transfer.ackedOffset = m.offset;
    transfer.sentOffset = m.offset;
    transfer.finalSent = false;
  }
  sendChunks(r, m.from, progress);
}

/** Leader, on a heartbeat response in the snapshot state: if nothing was acknowledged since the
 *  previous one, chunks were lost; resend from the acknowledged offset. */
export function resendStalledSnapshot(r: Raft, to: PeerId, progress: Progress): void {
  const transfer = progress.snapshot;
  if (transfer === null) return;
  if (transfer.ackedOffset === transfer.ackedAtLastHeartbeat) {
    transfer.sentOffset = transfer.ackedOffset;
    transfer.finalSent = false;
    transfer.rewoundTo = null;
  }
  transfer.ackedAtLastHeartbeat = transfer.ackedOffset;
  sendChunks(r, to, progress);
}

function respondChunk(r: Raft, m: SnapshotChunk, offset: number, resend: boolean): void {
  const response: SnapshotResponse = {
    type: 'snapshot-response',
    from: r.id,
    to: m.from,
    term: r.term,
    index: m.meta.index,
    snapshotTerm: m.meta.term,
    offset,
    resend,
  };
  r.send(response);
}

function sameSnapshot(incoming: IncomingSnapshot, m: SnapshotChunk): boolean {
  return incoming.meta.index === m.meta.index && incoming.meta.term === m.meta.term && incoming.size === m.size;
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const data = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  assert(offset === size, 'snapshot chunks add up to its size');
  return data;
}

/** Follower: one chunk of InstallSnapshot. */
export function handleSnapshotChunk(r: Raft, m: SnapshotChunk): void {
  if (m.meta.index <= r.log.committed) {
    // Nothing to install: we already hold and committed that much.
    r.incoming = null;
    r.send({ type: 'append-response', from: r.id, to: m.from, term: r.term, index: r.log.committed, reject: false, rejectHint: 0, rejectHintTerm: 0 });
    return;
  }
  if (r.incoming === null || !sameSnapshot(r.incoming, m)) {
    if (m.offset !== 0) {
      respondChunk(r, m, 0, true);
      return;
    }
    r.incoming = { meta: m.meta, size: m.size, chunks: [], received: 0 };
  }
  const incoming = r.incoming;
  if (m.offset !== incoming.received) {
    // A duplicate (below what we hold) is acknowledged; a gap (a chunk was lost) asks the
    // leader to resend from what we hold.
    respondChunk(r, m, incoming.received, m.offset > incoming.received);
    return;
  }
  incoming.chunks.push(m.data.slice());
  incoming.received += m.data.length;
  if (!m.done) {
    respondChunk(r, m, incoming.received, false);
    return;
  }
  r.incoming = null;
  installSnapshot(r, m.from, { meta: incoming.meta, data: concat(incoming.chunks, incoming.size) });
}

function installSnapshot(r: Raft, leader: PeerId, snapshot: Snapshot): void {
  const { meta } = snapshot;
  if (r.log.matchTerm(meta.index, meta.term)) {
    // Our log already holds the snapshot's last entry: by Log Matching everything before it
    // matches too, and it is committed. Keep the log; just commit (etcd's fast-forward).
    r.log.commitTo(meta.index);
  } else {
    r.log.restore(meta);
    r.pendingSnapshot = snapshot;
    r.snapshot = snapshot;
  }
  r.send({ type: 'append-response', from: r.id, to: leader, term: r.term, index: r.log.lastIndex(), reject: false, rejectHint: 0, rejectHintTerm: 0 });
}
