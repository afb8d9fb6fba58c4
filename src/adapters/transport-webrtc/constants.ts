/**
 * The WebRTC mesh's limits and timings: every one a named constant with its unit last and the
 * reason for its value (js-libp2p's constants.ts habit). Byte sizes count data-channel payload
 * bytes; times are milliseconds of the injected Clock.
 */

import { MESSAGE_BYTES_MAX, PEER_ID_BYTES_MAX } from '../../core/limits.js';
import { WIRE_MESSAGE_BYTES_MAX } from '../../peer/constants.js';

// --- Framing ----------------------------------------------------------------------------------

/** The largest data-channel message (one frame, header included): the size every browser pair is
 *  known to carry unfragmented (core/limits.ts MESSAGE_BYTES_MAX). Larger messages are split. */
export const FRAME_BYTES_MAX = MESSAGE_BYTES_MAX;

/** The largest message the mesh carries (reassembled from frames): the peer runtime's largest wire
 *  message. Anything larger is refused at `send` and never reassembled on receipt. */
export const MESSAGE_BYTES_MAX_WIRE = WIRE_MESSAGE_BYTES_MAX;

/** The framing protocol's version, sent in HELLO: peers of another version are refused rather
 *  than misread. Bump on any change to the frame layouts in framing.ts. */
export const PROTOCOL_VERSION = 1;

/** Random bytes in each side's admission challenge: 256 bits make a repeated challenge (and so a
 *  replayed proof) as unlikely as guessing the HMAC key. */
export const NONCE_BYTES = 32;

/** Random bytes naming one mesh instance (one run of a peer): relayed messages name the sender's
 *  and the receiver's incarnations so a relay cannot replay them across restarts. 128 bits. */
export const INCARNATION_BYTES = 16;

/** HMAC-SHA-256 output. */
export const MAC_BYTES = 32;

/** The longest peer id in a HELLO (core/limits.ts). */
export const HELLO_PEER_ID_BYTES_MAX = PEER_ID_BYTES_MAX;

// --- Backpressure -------------------------------------------------------------------------------

/** Above this many bytes buffered in the data channel, frames wait in the mesh's own queue. 1 MiB
 *  keeps far below the browsers' hard limit (Chrome closes a channel whose buffer passes 16 MiB)
 *  while deep enough to keep a loopback or LAN link busy between drain checks. */
export const BUFFERED_AMOUNT_HIGH_BYTES = 1024 * 1024;

/** Draining resumes below this: simple-peer sets the channel's bufferedAmountLowThreshold to
 *  64 KiB, so the two agree on what "low" means. */
export const BUFFERED_AMOUNT_LOW_BYTES = 64 * 1024;

/** While frames wait, the mesh re-checks bufferedAmount this often (simple-peer does not expose the
 *  channel's `bufferedamountlow` event). 2 ms drains 1 MiB of backlog at loopback speed with few
 *  wake-ups; browsers clamp it to >= 1 ms (4 ms when nested), which only slows a backlog. */
export const DRAIN_CHECK_MS = 2;

/** The most messages queued for one peer (waiting for the channel's buffer or for admission).
 *  Raft retransmits what is lost, so a deeper queue only adds latency; 4096 covers a full
 *  pipeline of appends plus heartbeats and session pings. Beyond it a message is dropped. */
export const SEND_QUEUE_MESSAGES_MAX = 4096;

/** The most bytes queued for one peer: two maximal wire messages, so one large append (or a
 *  snapshot chunk train) can always wait behind another instead of being dropped. */
export const SEND_QUEUE_BYTES_MAX = 2 * WIRE_MESSAGE_BYTES_MAX;

/** The most frames held on receipt while the sender's proof is being verified (WebCrypto is
 *  asynchronous): a sender sends nothing but HELLO and PROOF before it is admitted, so anything
 *  near this bound is a protocol violation; 64 frames (1 MiB) is generous. */
export const INBOUND_HELD_FRAMES_MAX = 64;

// --- Admission and connections --------------------------------------------------------------------

/** A connection that has not connected and admitted in this long is destroyed and retried: ICE on
 *  one machine or a LAN takes milliseconds, through STUN a second or two; 15 s is generous and
 *  still notices a peer that vanished without the relay noticing. */
export const CONNECT_TIMEOUT_MS = 15_000;

/** After refusing a wrong proof, the connection stays open this long (ignoring everything) so our
 *  own proof reaches the remote before the close: it then refuses us too and stops retrying.
 *  Loopback and LAN deliver a frame in well under a millisecond; 250 ms allows a slow path. */
export const REFUSAL_LINGER_MS = 250;

/** The first retry after a failed or closed connection (the connection's initiator re-offers). */
export const RECONNECT_BACKOFF_INITIAL_MS = 250;

/** Retries back off by doubling up to this interval and stay there while the peer is in the room:
 *  the retry count is unbounded but its rate is not (at most one offer per 10 s per peer), and a
 *  peer that leaves the room ends its retries. */
export const RECONNECT_BACKOFF_MAX_MS = 10_000;

/** Each backoff is randomized by +-25 % so peers that failed together do not retry in lock-step. */
export const RECONNECT_JITTER_FRACTION = 0.25;

/** The side that did not initiate a failed connection waits this much longer than the initiator's
 *  backoff before it offers itself (the initiator may have crashed without leaving the room); if
 *  both offer, the glare rule (lower peer id's offer wins) settles it. */
export const RESPONDER_TAKEOVER_DELAY_MS = 2_000;

/** The most remote peers one mesh tracks: a room holds a handful of voters and observers (the
 *  configuration allows CONFIG_PEERS_MAX = 32); 256 leaves room for churn between room events. */
export const REMOTES_MAX = 256;

/** The longest connection id accepted in a signal envelope (ours are ~20 characters). */
export const CONNECTION_ID_CHARS_MAX = 64;

// --- Relay fallback --------------------------------------------------------------------------------

/** The largest payload sent through the relay while no channel is up: with the relayed envelope
 *  (RELAYED_HEADER_BYTES, ~90 bytes) it stays within one 16 KiB frame, the size the relay is asked
 *  to forward. Larger messages (big appends, snapshot chunks) wait for a channel; Raft resends. */
export const RELAYED_PAYLOAD_BYTES_MAX = 15 * 1024;

/** The most relayed messages per peer waiting for WebCrypto (signing out, verifying in); beyond
 *  it they are dropped. The relay caps its own rate; this only bounds our memory. */
export const RELAYED_PENDING_MAX = 256;
