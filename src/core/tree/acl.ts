/**
 * ACLs as ZooKeeper checks them: PrepRequestProcessor.fixupACL (validate and expand a new ACL) and
 * ZooKeeperServer.checkACL (may these identities do this?). Identities arrive already authenticated
 * in the request context (the digest itself is computed outside the pure core).
 *
 * Schemes we know: `world` (only the id `anyone`), `auth` (expanded at create/setACL to the caller's
 * authenticated ids), and `digest` (`user:base64(sha1(user:password))`). Any other scheme has no
 * provider here, which ZooKeeper answers with INVALIDACL. An identity of scheme `super` (ZooKeeper's
 * superDigest user) passes every check, as in checkACL.
 */

import { ACL_ENTRIES_MAX, ACL_ID_BYTES_MAX } from '../limits.js';
import { utf8ByteLength } from './paths.js';
import { Perms, type ACL, type Id } from './types.js';

export type AclCheck =
  | { ok: true; acl: ACL[] }
  | { ok: false; code: 'INVALIDACL' | 'BADARGUMENTS'; reason: string };

/** Schemes whose ids count as authenticated for `auth` expansion (ZooKeeper: provider.isAuthenticated()). */
const AUTHENTICATED_SCHEMES: ReadonlySet<string> = new Set(['digest']);

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A digest id: `user:base64`, exactly one colon, both parts non-empty. */
export function isValidDigestId(id: string): boolean {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon !== id.lastIndexOf(':')) return false;
  return BASE64.test(id.slice(colon + 1));
}

/**
 * The size checks that come before any lookup: too many entries or an over-long scheme or id is
 * oversize input (BADARGUMENTS, like oversize data), not a wrong ACL.
 */
export function checkAclShape(acl: unknown): { ok: true } | { ok: false; code: 'BADARGUMENTS'; reason: string } {
  if (!Array.isArray(acl)) return { ok: false, code: 'BADARGUMENTS', reason: 'acl is not a list' };
  if (acl.length > ACL_ENTRIES_MAX) {
    return { ok: false, code: 'BADARGUMENTS', reason: `acl has ${acl.length} entries, more than ACL_ENTRIES_MAX (${ACL_ENTRIES_MAX})` };
  }
  for (const entry of acl as unknown[]) {
    if (!isAclShaped(entry)) return { ok: false, code: 'BADARGUMENTS', reason: 'acl entry is not {perms, id: {scheme, id}}' };
    if (utf8ByteLength(entry.id.scheme) > ACL_ID_BYTES_MAX || utf8ByteLength(entry.id.id) > ACL_ID_BYTES_MAX) {
      return { ok: false, code: 'BADARGUMENTS', reason: `acl scheme or id longer than ACL_ID_BYTES_MAX (${ACL_ID_BYTES_MAX})` };
    }
  }
  return { ok: true };
}

function isAclShaped(entry: unknown): entry is ACL {
  if (typeof entry !== 'object' || entry === null) return false;
  const { perms, id } = entry as { perms?: unknown; id?: unknown };
  if (typeof perms !== 'number' || typeof id !== 'object' || id === null) return false;
  const { scheme, id: value } = id as { scheme?: unknown; id?: unknown };
  return typeof scheme === 'string' && typeof value === 'string';
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/** ZooKeeper's removeDuplicates: first occurrence wins, order kept. */
function removeDuplicates(acl: readonly ACL[]): ACL[] {
  const result: ACL[] = [];
  for (const entry of acl) if (!result.some((kept) => sameAcl(kept, entry))) result.push(entry);
  return result;
}

/**
 * PrepRequestProcessor.fixupACL: an empty list, an unknown scheme, a malformed id or an `auth` entry
 * with no authenticated identity is INVALIDACL; `auth` entries become one entry per authenticated id.
 * Returns fresh objects (never aliases of the request's).
 */
export function fixupAcl(acl: readonly ACL[], auth: readonly Id[]): AclCheck {
  const unique = removeDuplicates(acl);
  if (unique.length === 0) return invalid('acl is empty');
  const result: ACL[] = [];
  for (const entry of unique) {
    if (!Number.isInteger(entry.perms) || entry.perms < 0 || entry.perms > Perms.ALL) {
      return invalid(`perms ${entry.perms} is not a combination of READ|WRITE|CREATE|DELETE|ADMIN`);
    }
    const { scheme, id } = entry.id;
    if (scheme === 'world' && id === 'anyone') {
      result.push(copyAcl(entry));
    } else if (scheme === 'auth') {
      const ids = auth.filter((candidate) => AUTHENTICATED_SCHEMES.has(candidate.scheme));
      if (ids.length === 0) return invalid('scheme auth needs an authenticated identity, and the session has none');
      for (const candidate of ids) result.push({ perms: entry.perms, id: { scheme: candidate.scheme, id: candidate.id } });
    } else if (scheme === 'digest') {
      if (!isValidDigestId(id)) return invalid(`digest id must look like user:base64, got ${JSON.stringify(id)}`);
      result.push(copyAcl(entry));
    } else {
      return invalid(`unknown scheme ${JSON.stringify(scheme)} (or world with an id other than anyone)`);
    }
  }
  if (result.length > ACL_ENTRIES_MAX) {
    return { ok: false, code: 'BADARGUMENTS', reason: `acl expands to ${result.length} entries, more than ACL_ENTRIES_MAX` };
  }
  return { ok: true, acl: result };
}

function invalid(reason: string): AclCheck {
  return { ok: false, code: 'INVALIDACL', reason };
}

export function copyAcl(entry: ACL): ACL {
  return { perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } };
}

export function copyAclList(acl: readonly ACL[]): ACL[] {
  return acl.map(copyAcl);
}

/**
 * ZooKeeperServer.checkACL: allowed if any identity is `super`, or if some entry grants any bit of
 * `perm` to world:anyone or to an identity the caller holds (same scheme, equal id: digest and
 * every other scheme we accept match by equality). An empty ACL allows everything (ZooKeeper's rule;
 * fixupAcl never stores one).
 */
export function checkAcl(acl: readonly ACL[], perm: number, auth: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  if (auth.some((id) => id.scheme === 'super')) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    if (auth.some((id) => id.scheme === entry.id.scheme && id.id === entry.id.id)) return true;
  }
  return false;
}

/**
 * What getACL shows a caller without ADMIN (FinalRequestProcessor, ZooKeeper 3.9): digest ids have
 * everything after the first colon replaced by `x`, so password hashes are not disclosed.
 */
export function redactAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => {
    if (entry.id.scheme !== 'digest') return copyAcl(entry);
    const colon = entry.id.id.indexOf(':');
    const id = colon < 0 ? entry.id.id : `${entry.id.id.slice(0, colon)}:x`;
    return { perms: entry.perms, id: { scheme: 'digest', id } };
  });
}

/** The shape a stored ACL must have (snapshot loading checks it): what fixupAcl can produce. */
export function isStoredAclValid(acl: readonly ACL[]): boolean {
  if (acl.length === 0 || acl.length > ACL_ENTRIES_MAX) return false;
  return acl.every((entry) => {
    if (!Number.isInteger(entry.perms) || entry.perms < 0 || entry.perms > Perms.ALL) return false;
    if (entry.id.scheme === 'world') return entry.id.id === 'anyone';
    return entry.id.scheme === 'digest' && isValidDigestId(entry.id.id);
  });
}
