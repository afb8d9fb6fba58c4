/**
 * Every limit of the signaling relay and its client, as a named constant with its unit last and the
 * reason for its value. The relay serves untrusted sockets, so everything a socket can make it hold
 * or do is capped here; the server and client take these as defaults that tests may lower.
 *
 * Browser-safe: no Node imports (the client bundles it).
 */

import { MESSAGE_BYTES_MAX, PEER_ID_BYTES_MAX } from '../core/limits.js';

// --- Wire ---------------------------------------------------------------------------------------

/** The wire protocol version, the first field of every frame (text `v`, binary first byte). A relay
 *  closes a socket that speaks another version with CLOSE_CODE.version, and the client does not
 *  retry: a newer or older peer needs a matching relay, not patience. */
export const RELAY_PROTOCOL_VERSION = 1;

/** The default URL path where the relay accepts WebSocket upgrades (shared with the app server). */
export const RELAY_PATH_DEFAULT = '/relay';

/** The longest room name in bytes (ASCII only, see RELAY_NAME_PATTERN): names are chosen by people
 *  or derived from an app id; 128 leaves room for prefixes without letting a join carry a blob. */
export const RELAY_ROOM_BYTES_MAX = 128;

/** The longest peer id: the consensus layer's own bound, so that every id the relay admits is one
 *  the mesh can carry in its message headers. */
export const RELAY_PEER_ID_BYTES_MAX = PEER_ID_BYTES_MAX;

/** Room names and peer ids: unreserved URL characters plus ':' — printable in logs and close
 *  reasons, no whitespace or control characters, no confusable Unicode. Runtime ids look like
 *  `standalone-0a1b2c3d` or a random hex string. */
export const RELAY_NAME_PATTERN = /^[A-Za-z0-9._:~-]+$/;

/** The deepest nesting a signal's JSON `data` may have: simple-peer's signals (offer/answer with
 *  `sdp`, candidate objects, renegotiate/transceiverRequest) nest at most 3 levels. The cap keeps
 *  the relay's validation walk and re-serialization from ever recursing deeply. */
export const RELAY_SIGNAL_DEPTH_MAX = 8;

/** The largest frame the relay reads from a socket (WebSocket payload, text or binary). An SDP offer
 *  with many candidates is 2-10 KiB; a fallback frame carries one data-channel message of
 *  MESSAGE_BYTES_MAX (16 KiB) plus a small header. 64 KiB covers both with room and keeps one
 *  socket's read buffer small. Larger frames close the socket (1009) before they are buffered. */
export const RELAY_MESSAGE_BYTES_MAX = 64 * 1024;

/** The largest payload of one fallback (relayed) frame: exactly one data-channel message, which is
 *  what the mesh sends while the channel to that peer is not up. */
export const RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX = MESSAGE_BYTES_MAX;

/** WebSocket close codes the relay uses (4000-4999 are for applications, RFC 6455 7.4.2). The
 *  client stops reconnecting after `malformed`, `version` and `replaced` (retrying cannot help, and
 *  after `replaced` it would evict the newer socket of the same peer in turn). */
export const CLOSE_CODE = {
  /** The peer left (sent `leave`), or the client closed. */
  normal: 1000,
  /** The relay is shutting down. */
  goingAway: 1001,
  /** A frame above RELAY_MESSAGE_BYTES_MAX (sent by `ws` itself, before buffering it). */
  tooBig: 1009,
  /** Bad JSON, a field of the wrong type or range, an unknown type, binary garbage, or a message
   *  out of order (anything before `join`, a second `join`). */
  malformed: 4400,
  /** No `join` within the join timeout. */
  joinTimeout: 4408,
  /** A newer socket joined the same room with the same peer id. */
  replaced: 4409,
  /** A frame in another protocol version. */
  version: 4426,
  /** More frames per second than the socket's token bucket allows. */
  rate: 4429,
  /** The socket read too slowly: its send backlog passed RELAY_SOCKET_BUFFERED_BYTES_MAX. */
  backlog: 4413,
  /** The relay holds RELAY_ROOMS_MAX rooms and the join named a new one. */
  roomsFull: 4503,
  /** The room holds RELAY_PEERS_PER_ROOM_MAX peers. */
  roomFull: 4504,
} as const;

/** The largest `settlingMs` a `list` may carry (decoders refuse more): a minute is far above any
 *  grace a relay needs (RELAY_SETTLING_MS) and bounds how long a relay can make a joiner wait. */
export const RELAY_SETTLING_MS_MAX = 60_000;

// --- Relay server caps ----------------------------------------------------------------------------

/** The most rooms one relay holds: a relay serves a handful of ensembles (one per app and
 *  environment); 1024 bounds its memory (rooms x peers) to a few MB of bookkeeping. */
export const RELAY_ROOMS_MAX = 1024;

/** The most peers in one room: an ensemble has at most CONFIG_PEERS_MAX (32) members; twice that
 *  leaves room for tabs that are joining, reconnecting or about to be removed. */
export const RELAY_PEERS_PER_ROOM_MAX = 64;

/** The most open sockets (joined or not): bounds file descriptors and per-socket state, including
 *  sockets that connect and never join (each lives at most RELAY_JOIN_TIMEOUT_MS). Beyond it the
 *  upgrade is refused with HTTP 503. */
export const RELAY_SOCKETS_MAX = 4096;

/** Frames per second a socket may send, on average (token bucket refill rate). A join trickles ICE
 *  candidates to every listed peer (tens of signals per peer pair at most) and the fallback carries
 *  consensus traffic while channels come up: heartbeats and appends at tens per second per peer. */
export const RELAY_MESSAGES_PER_SECOND = 200;

/** The token bucket's capacity: the burst a socket may send at once. A newcomer to a room of 32
 *  sends an offer plus ~10 candidates to each: ~350 signals within a second. */
export const RELAY_MESSAGES_BURST = 500;

/** Fallback payload bytes per second a socket may send (byte token bucket refill rate). The
 *  fallback is a bridge while data channels come up, not a transport: 256 KiB/s carries heartbeats
 *  and a modest catch-up, and keeps one socket from turning the relay into a bulk pipe. Over it,
 *  frames are dropped and counted (the sender stays connected): the mesh retries as Raft does. */
export const RELAY_FALLBACK_BYTES_PER_SECOND = 256 * 1024;

/** The fallback byte bucket's capacity: one second's worth plus a few whole messages. */
export const RELAY_FALLBACK_BYTES_BURST = RELAY_FALLBACK_BYTES_PER_SECOND + 4 * RELAY_FALLBACK_BYTES_PER_MESSAGE_MAX;

/** A recipient's send backlog above which fallback frames to it are dropped (counted): a peer that
 *  reads slowly gets no more bulk bytes, while signals still reach it. */
export const RELAY_FALLBACK_BUFFERED_BYTES_MAX = 1024 * 1024;

/** A socket's send backlog above which it is closed (CLOSE_CODE.backlog): bounds what the relay
 *  buffers for a reader that has stalled without its TCP connection dying. */
export const RELAY_SOCKET_BUFFERED_BYTES_MAX = 4 * 1024 * 1024;

/** How often the relay pings each socket (WebSocket ping frames; browsers and `ws` answer them in
 *  the network stack, so a throttled or hidden tab still answers). */
export const RELAY_PING_INTERVAL_MS = 10_000;

/** Pings in a row left unanswered before the relay drops the socket and announces `left`: 2 misses
 *  drop a dead peer within 20-30 s while tolerating one lost or late pong. */
export const RELAY_PONGS_MISSED_MAX = 2;

/** How long a socket may stay connected without joining: a join is the first frame a client sends
 *  after open, so 10 s is generous on any link, yet keeps idle sockets from holding slots. */
export const RELAY_JOIN_TIMEOUT_MS = 10_000;

// --- Relay client ----------------------------------------------------------------------------

/** The first reconnect delay: quick enough that a relay restart is barely noticed. */
export const RELAY_CLIENT_BACKOFF_INITIAL_MS = 250;

/** The longest reconnect delay (the backoff doubles up to it): a peer keeps serving its existing
 *  data channels while the relay is away, so retrying every few seconds forever is cheap and means
 *  a relay that comes back after minutes is found again without a restart. Retries are bounded in
 *  rate, not in number. Short, because it sets the relay's settling grace (RELAY_SETTLING_MS): the
 *  first peer of a new room after a relay start waits that long before it founds the ensemble. */
export const RELAY_CLIENT_BACKOFF_MAX_MS = 4_000;

/** Margin over the clients' longest reconnect delay in RELAY_SETTLING_MS: a reconnect that
 *  fires at the very end of its backoff still needs its TCP connect and join round trip. */
export const RELAY_SETTLING_MARGIN_MS = 1_500;

/** How long after it starts a relay says its room lists may be incomplete (`list.settlingMs`): the
 *  peers of a room that lived on through a relay restart come back within their longest reconnect
 *  delay (RELAY_CLIENT_BACKOFF_MAX_MS) plus a connect, so until then an empty room may only look
 *  empty, and a fresh peer must not bootstrap a second ensemble in it (peer/networked.ts). */
export const RELAY_SETTLING_MS = RELAY_CLIENT_BACKOFF_MAX_MS + RELAY_SETTLING_MARGIN_MS;

/** Frames queued while the client is (re)connecting: enough for the signals of one join round;
 *  beyond it sends are dropped and counted (the mesh retries on the next `list`). */
export const RELAY_CLIENT_QUEUE_MESSAGES_MAX = 128;

/** Bytes queued while the client is (re)connecting: a few fallback messages' worth. */
export const RELAY_CLIENT_QUEUE_BYTES_MAX = 256 * 1024;

/** The client's own send budget: half the relay's, so that network jitter that bunches frames up
 *  never makes the relay see a burst over its cap and close us. Over it, sends are dropped. */
export const RELAY_CLIENT_MESSAGES_PER_SECOND = RELAY_MESSAGES_PER_SECOND / 2;
export const RELAY_CLIENT_MESSAGES_BURST = RELAY_MESSAGES_BURST / 2;

/** The client's send backlog above which sends are dropped (counted): a relay link that cannot
 *  keep up gets no more queued in the browser's socket buffer. */
export const RELAY_CLIENT_BUFFERED_BYTES_MAX = RELAY_FALLBACK_BUFFERED_BYTES_MAX;

/** How often the client pings the relay (application `ping`; the browser API cannot see protocol
 *  pings). A relay that has sent nothing for RELAY_CLIENT_PINGS_MISSED_MAX intervals is taken as
 *  dead and the client reconnects: a half-open TCP connection is otherwise never noticed. */
export const RELAY_CLIENT_PING_INTERVAL_MS = 10_000;
export const RELAY_CLIENT_PINGS_MISSED_MAX = 2;

/** How long a connection attempt may take (open + join answered) before the client gives up on it
 *  and backs off: a TCP connect to a black-holed address otherwise hangs for minutes. */
export const RELAY_CLIENT_CONNECT_TIMEOUT_MS = 10_000;
