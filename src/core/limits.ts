/**
 * Every limit in meshkeeper, as a named constant with its unit last and the reason for its value
 * (TigerBeetle's and js-libp2p's habit). Nothing else in the code base hard-codes a bound.
 */

// --- Transport ------------------------------------------------------------------------------

/** The largest message we put on a data channel: the size every browser pair is known to carry
 *  unfragmented (larger messages fail between some browser pairs). Consensus batches fit in it. */
export const MESSAGE_BYTES_MAX = 16 * 1024;

// --- Requests and the data tree (ZooKeeper semantics) ----------------------------------------

/** ZooKeeper's jute.maxbuffer default (0xfffff): the largest whole request a ZooKeeper server
 *  accepts. Beyond it ZooKeeper drops the connection; we answer BADARGUMENTS and change nothing. */
export const REQUEST_BYTES_MAX = 1_048_575;

/** The largest znode value: just under REQUEST_BYTES_MAX, leaving 1 KiB for the path, the ACL and
 *  the request's header, so that a single create or setData of this size still fits one request. */
export const DATA_BYTES_MAX = REQUEST_BYTES_MAX - 1024;

/** The longest path, in UTF-8 bytes. ZooKeeper has no separate bound (only jute.maxbuffer); 4 KiB
 *  keeps any single-path request small and a getChildren name list of a wide node bounded. */
export const PATH_BYTES_MAX = 4096;

/** The most children one znode may have (QUOTAEXCEEDED beyond): a getChildren answer of the widest
 *  node, at ~10-byte names, stays under REQUEST_BYTES_MAX as ZooKeeper's own answer must. */
export const CHILDREN_PER_NODE_MAX = 100_000;

/** The most znodes one tree holds (QUOTAEXCEEDED beyond): a browser tab keeps its whole replica in
 *  memory; at a few hundred bytes of overhead per znode, 1,000,000 is a few hundred MB at most. */
export const NODES_MAX = 1_000_000;

/** The most entries in one ACL list: ZooKeeper has no bound; real ACLs have a handful. */
export const ACL_ENTRIES_MAX = 64;

/** The longest ACL scheme or id, in UTF-8 bytes (a digest id is user:base64(sha1), ~40 bytes + user). */
export const ACL_ID_BYTES_MAX = 512;

/** The most ids a session may authenticate (ZooKeeper's addAuthInfo, called a few times at most). */
export const AUTH_IDS_MAX = 16;

/** The most operations in one multi: ZooKeeper bounds a multi only by jute.maxbuffer; 1,000 ops of
 *  small znodes is far above real use and keeps one txn's apply time bounded. */
export const MULTI_OPS_MAX = 1000;

/** The longest session id, in UTF-8 bytes (the runtime's ids are 16-32 characters). */
export const SESSION_ID_BYTES_MAX = 64;

/** The most open sessions in one ensemble: each holds a row in every replica's sessions table. */
export const SESSIONS_MAX = 65_536;

/** ZooKeeper's largest TTL (EphemeralType.TTL: 40 bits of milliseconds, ~34.8 years). */
export const TTL_MS_MAX = 0xff_ffff_ffff;

// --- Data tree: containers, TTL nodes and watches ---------------------------------------------

/** The most container and TTL nodes one `DataTree.due()` call examines. The leader sweeps on a
 *  timer; bounding each sweep keeps one call well under a millisecond however many containers exist,
 *  and a cursor carries the sweep on where the last call stopped. */
export const SWEEP_NODES_PER_CALL_MAX = 10_000;

/** The most paths one `DataTree.due()` call returns: each becomes a deleteContainer proposal, and
 *  ZooKeeper's ContainerManager likewise rate-limits its deletes (maxPerMinute, default 10,000) so a
 *  burst of expiring containers does not flood the log. */
export const SWEEP_PATHS_PER_CALL_MAX = 1000;

/** The most (path, watcher) registrations one serving peer's watch manager holds, over all tables
 *  (QUOTAEXCEEDED beyond). ZooKeeper has no bound; each registration costs ~100 bytes, so this caps
 *  a peer's watch memory at ~100 MB. */
export const WATCHES_MAX = 1_000_000;

// --- Consensus (src/core/consensus, src/core/codec/raft.ts) --------------------------------

/** The default election timeout: a follower that hears nothing from a leader for a randomized
 *  [T, 2T) ticks campaigns (dissertation §3.4, §9.3). Ten heartbeats' worth is etcd's default and
 *  lets a leader miss several heartbeats (a busy or briefly throttled tab) before anyone campaigns. */
export const ELECTION_TIMEOUT_TICKS_DEFAULT = 10;

/** The default heartbeat interval: the leader sends heartbeats every tick. The peer picks the tick
 *  length; one heartbeat per tick keeps the election timeout a whole number of heartbeats. */
export const HEARTBEAT_INTERVAL_TICKS_DEFAULT = 1;

/** The longest election timeout a node accepts (a configuration check): beyond it, a crashed
 *  leader would leave the ensemble without writes for too long at any sensible tick length. */
export const ELECTION_TIMEOUT_TICKS_MAX = 1000;

/** The most append messages in flight (sent, not acknowledged) to one follower in replicate
 *  state: pipelining without letting one slow follower queue unbounded data in its channel. At
 *  16 KiB per message, 64 messages is 1 MiB per follower, a few round trips of a fast link. */
export const APPEND_MESSAGES_IN_FLIGHT_MAX = 64;

/** The most entry bytes in flight to one follower: caps memory the transport buffers for a
 *  follower whatever the entry sizes (a few large entries must not evade the message count).
 *  Matches APPEND_MESSAGES_IN_FLIGHT_MAX full messages. */
export const APPEND_BYTES_IN_FLIGHT_MAX = 64 * 16 * 1024;

/** The most entries in one append message: keeps a message's decode and step time bounded even
 *  for tiny entries (a 16 KiB message of empty no-ops would otherwise hold thousands). */
export const APPEND_ENTRIES_PER_MESSAGE_MAX = 1024;

/** The largest entry payload: a txn of one maximal request (REQUEST_BYTES_MAX) with its header and
 *  the leader's metadata, rounded up to 2 MiB. Larger proposals are refused before the log. An
 *  entry above MESSAGE_BYTES_MAX travels alone in one append; the transport fragments it. */
export const ENTRY_DATA_BYTES_MAX = 2 * 1024 * 1024;

/** The most bytes of entry payload a leader holds uncommitted (proposed in its term, not yet
 *  committed) before it refuses proposals (etcd's MaxUncommittedEntriesSize): bounds the memory
 *  and catch-up cost of a leader that lost its quorum but keeps accepting writes. */
export const UNCOMMITTED_BYTES_MAX = 16 * 1024 * 1024;

/** The most entry payload bytes handed to the application in one Ready (at least one entry is
 *  always handed out): keeps one apply batch, and one storage transaction, bounded. */
export const APPLY_BYTES_PER_READY_MAX = 4 * 1024 * 1024;

/** The largest snapshot chunk: with a snapshot header (meta with a config of CONFIG_PEERS_MAX ids
 *  of PEER_ID_BYTES_MAX, about 2.2 KiB) the chunk message stays under MESSAGE_BYTES_MAX. */
export const SNAPSHOT_CHUNK_BYTES_MAX = 12 * 1024;

/** The most snapshot chunks in flight to one follower: pipelines a large snapshot over a link
 *  with latency while bounding what the channel buffers (4 x 12 KiB). */
export const SNAPSHOT_CHUNKS_IN_FLIGHT_MAX = 4;

/** The largest snapshot (state machine bytes) a node builds or receives: a follower buffers the
 *  whole snapshot in memory before installing it. A tree at NODES_MAX of small znodes is a few
 *  hundred MB; 512 MiB bounds it with room. */
export const SNAPSHOT_BYTES_MAX = 512 * 1024 * 1024;

/** The longest peer id, in UTF-8 bytes: runtime ids are 16-32 characters; the cap keeps every
 *  message header small and bounded. */
export const PEER_ID_BYTES_MAX = 64;

/** The most members (voters + learners) in one configuration: DESIGN.md targets at most 7 voters,
 *  plus observers (tabs and edge peers); the cap bounds the snapshot header and the leader's
 *  per-peer state and fan-out. */
export const CONFIG_PEERS_MAX = 32;

/** The most ReadIndex requests a leader holds (waiting for its term's first commit or for its
 *  heartbeat round): beyond it readIndex answers an error and the caller retries. */
export const READ_REQUESTS_PENDING_MAX = 4096;

/** The longest ReadIndex request id, in UTF-8 bytes (the peer forms `<peer>:<counter>`). */
export const READ_REQUEST_ID_BYTES_MAX = 128;
