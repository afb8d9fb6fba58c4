/**
 * ZooKeeper's digest identity, computed in the client with WebCrypto (crypto.subtle, in browsers
 * and Node >= 19 alike), as DigestAuthenticationProvider.generateDigest computes it on the server:
 *
 *   "user:password"  ->  "user:" + base64(sha1("user:password"))
 *
 * The hash covers the whole "user:password" string; the user is the text before the first colon
 * (so a password may itself contain colons). The same function serves digest ACLs:
 * `{ perms, id: { scheme: 'digest', id: await digestId('alice:secret') } }`.
 */

import { KeeperError } from '../core/errors.js';

const encoder = new TextEncoder();

/** The digest id for `user:password`. An empty user or a missing colon is BADARGUMENTS (ZooKeeper
 *  would accept them and produce an id no digest ACL can name). */
export async function digestId(userPassword: string): Promise<string> {
  if (typeof userPassword !== 'string') throw new KeeperError('BADARGUMENTS', 'digest auth must be the string "user:password"');
  const colon = userPassword.indexOf(':');
  if (colon <= 0) throw new KeeperError('BADARGUMENTS', 'digest auth must look like "user:password" with a non-empty user');
  const hash = await webCrypto().subtle.digest('SHA-1', encoder.encode(userPassword));
  return `${userPassword.slice(0, colon)}:${toBase64(new Uint8Array(hash))}`;
}

function webCrypto(): Crypto {
  const candidate = (globalThis as { crypto?: Crypto }).crypto;
  if (candidate?.subtle === undefined) {
    throw new KeeperError('UNIMPLEMENTED', 'digest auth needs WebCrypto (crypto.subtle): a browser in a secure context, or Node >= 19');
  }
  return candidate;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (java.util.Base64.getEncoder, which ZooKeeper uses). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = i + 1 < bytes.length ? (bytes[i + 1] as number) : 0;
    const c = i + 2 < bytes.length ? (bytes[i + 2] as number) : 0;
    const triple = (a << 16) | (b << 8) | c;
    out += ALPHABET[(triple >> 18) & 63];
    out += ALPHABET[(triple >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(triple >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? ALPHABET[triple & 63] : '=';
  }
  return out;
}
