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
