/**
 * Admission cryptography (DESIGN.md "Admission"): peers prove knowledge of the room secret with
 * HMAC-SHA-256 over fresh challenges, and relayed messages carry an HMAC tag. WebCrypto only
 * (globalThis.crypto.subtle: browsers and Node 20), so this file bundles for the browser.
 *
 * The key is HMAC-SHA-256 keyed by SHA-256(domain || secret): the hash gives a fixed-length,
 * never-empty key (WebCrypto refuses empty HMAC keys), so a room without a secret runs the same
 * handshake with the hash of the empty secret — both sides still agree on the protocol, and a
 * peer of another protocol or another secret is refused. The relay never sees the secret.
 *
 * What a proof binds (concatPrefixed, so fields cannot slide into each other):
 *   "meshkeeper/admit/v1", room, prover id, verifier id, prover's nonce, prover's incarnation,
 *   verifier's nonce, and the DTLS certificate fingerprints of the prover's and the verifier's end.
 * The verifier's fresh nonce makes a recorded proof useless later; the two ids in a fixed order
 * make a proof useless when reflected back to its prover; the prover's HELLO fields (nonce,
 * incarnation) are authenticated by it, which is what lets relayed messages name incarnations.
 * The fingerprints bind the proof to this one DTLS connection: without them a man in the middle
 * (the relay itself, which forwards the SDP) could open a channel to each of two honest peers and
 * pass each one's challenge and proof to the other, ending up admitted to both. With them, each
 * honest peer binds the fingerprints it sees, which differ between the two halves of such a relay
 * (the attacker cannot present an honest peer's certificate without its private key).
 * Admission proves membership of the room, not identity: anyone with the secret may claim any id.
 */

import { concatPrefixed, writeSeq } from './framing.js';
import { INCARNATION_BYTES, MAC_BYTES, NONCE_BYTES } from './constants.js';

const ADMIT_DOMAIN = 'meshkeeper/admit/v1';
const RELAY_DOMAIN = 'meshkeeper/relay/v1';
const KEY_DOMAIN = 'meshkeeper/room-secret/v1';

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (value === undefined) throw new Error('WebCrypto (crypto.subtle) is required for mesh admission');
  return value;
}

/** A copy backed by a plain ArrayBuffer (what WebCrypto's BufferSource type wants). */
function plain(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

export async function deriveRoomKey(secret: string): Promise<CryptoKey> {
  const material = await subtle().digest('SHA-256', concatPrefixed([KEY_DOMAIN, secret]));
  return subtle().importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

export const newNonce = (): Uint8Array => randomBytes(NONCE_BYTES);
export const newIncarnation = (): Uint8Array => randomBytes(INCARNATION_BYTES);

export interface ProofInput {
  readonly room: string;
  readonly prover: string;
  readonly verifier: string;
  readonly proverNonce: Uint8Array;
  readonly proverIncarnation: Uint8Array;
  readonly verifierNonce: Uint8Array;
  /** The DTLS certificate fingerprints of the prover's and the verifier's end of this connection,
   *  from the SDP each side sent (channel binding: see the file comment). */
  readonly proverFingerprint: string;
  readonly verifierFingerprint: string;
}

function proofMessage(input: ProofInput): Uint8Array<ArrayBuffer> {
  return concatPrefixed([
    ADMIT_DOMAIN,
    input.room,
    input.prover,
    input.verifier,
    input.proverNonce,
    input.proverIncarnation,
    input.verifierNonce,
    input.proverFingerprint,
    input.verifierFingerprint,
  ]);
}

export async function signProof(key: CryptoKey, input: ProofInput): Promise<Uint8Array> {
  const mac = new Uint8Array(await subtle().sign('HMAC', key, proofMessage(input)));
  return mac;
}

/** Constant-time comparison (WebCrypto's verify). */
export async function verifyProof(key: CryptoKey, input: ProofInput, mac: Uint8Array): Promise<boolean> {
  if (mac.length !== MAC_BYTES) return false;
  return subtle().verify('HMAC', key, plain(mac), proofMessage(input));
}

export interface RelayTagInput {
  readonly room: string;
  readonly from: string;
  readonly to: string;
  readonly senderIncarnation: Uint8Array;
  readonly receiverIncarnation: Uint8Array;
  readonly seq: number;
  readonly payload: Uint8Array;
}

function relayMessage(input: RelayTagInput): Uint8Array<ArrayBuffer> {
  const seq = new Uint8Array(8);
  writeSeq(seq, 0, input.seq);
  return concatPrefixed([RELAY_DOMAIN, input.room, input.from, input.to, input.senderIncarnation, input.receiverIncarnation, seq, input.payload]);
}

export async function signRelayed(key: CryptoKey, input: RelayTagInput): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign('HMAC', key, relayMessage(input)));
}

export async function verifyRelayed(key: CryptoKey, input: RelayTagInput, mac: Uint8Array): Promise<boolean> {
  if (mac.length !== MAC_BYTES) return false;
  return subtle().verify('HMAC', key, plain(mac), relayMessage(input));
}

/** The `a=fingerprint:` of an SDP, normalized (`sha-256 AB:CD:...`); null when absent. */
export function sdpFingerprint(sdp: unknown): string | null {
  if (typeof sdp !== 'string') return null;
  const match = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  if (match === null) return null;
  return `${(match[1] as string).toLowerCase()} ${(match[2] as string).toUpperCase()}`;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}
