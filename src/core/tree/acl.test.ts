// Proves acl.ts implements PrepRequestProcessor.fixupACL (dedupe, INVALIDACL for empty lists,
// unknown schemes, malformed digest ids and auth without identities; auth expansion) and
// ZooKeeperServer.checkACL (any matching bit, world:anyone, same-scheme equal ids, super), plus
// getACL's digest redaction, by calling them directly on hand-built ACLs.
import { describe, expect, it } from 'vitest';
import { checkAcl, fixupAcl, isStoredAclValid, isValidDigestId, redactAcl } from './acl.js';
import { Perms, type ACL } from './types.js';

const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });
const digest = (perms: number, id: string): ACL => ({ perms, id: { scheme: 'digest', id } });
const alice = { scheme: 'digest', id: 'alice:aGFzaA==' };
const bobIp = { scheme: 'ip', id: '10.0.0.1' };

describe('fixupACL', () => {
  it('keeps world:anyone and well-formed digest entries, removing exact duplicates', () => {
    expect(fixupAcl([world(31), world(31), digest(1, 'alice:aGFzaA=='), world(1)], [])).toEqual({
      ok: true,
      acl: [world(31), digest(1, 'alice:aGFzaA=='), world(1)],
    });
  });

  it('INVALIDACL: empty list, unknown scheme, world with another id, bad digest id, perms out of range', () => {
    for (const acl of [
      [],
      [{ perms: 31, id: { scheme: 'ip', id: '10.0.0.1' } }],
      [{ perms: 31, id: { scheme: 'super', id: '' } }],
      [{ perms: 31, id: { scheme: 'world', id: 'someone' } }],
      [digest(31, 'alice')],
      [digest(31, ':aGFzaA==')],
      [digest(31, 'a:b:c')],
      [digest(31, 'alice:not base64!')],
      [world(32)],
      [world(-1)],
      [world(1.5)],
    ]) {
      expect(fixupAcl(acl, [alice])).toMatchObject({ ok: false, code: 'INVALIDACL' });
    }
  });

  it('auth expands to every authenticated identity of the caller (ip does not count)', () => {
    const result = fixupAcl([{ perms: Perms.READ, id: { scheme: 'auth', id: 'ignored' } }], [bobIp, alice, { scheme: 'digest', id: 'carol:Yw==' }]);
    expect(result).toEqual({
      ok: true,
      acl: [
        { perms: Perms.READ, id: alice },
        { perms: Perms.READ, id: { scheme: 'digest', id: 'carol:Yw==' } },
      ],
    });
    expect(fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }], [bobIp])).toMatchObject({ ok: false, code: 'INVALIDACL' });
  });

  it('returns fresh objects, never the request\'s', () => {
    const acl = [world(31)];
    const result = fixupAcl(acl, []);
    if (!result.ok) throw new Error('expected ok');
    expect(result.acl[0]).not.toBe(acl[0]);
    expect(result.acl[0]?.id).not.toBe(acl[0]?.id);
  });
});

describe('checkACL', () => {
  it('world:anyone grants its bits to everyone', () => {
    expect(checkAcl([world(Perms.READ)], Perms.READ, [])).toBe(true);
    expect(checkAcl([world(Perms.READ)], Perms.WRITE, [])).toBe(false);
  });

  it('an entry grants to an identity of the same scheme and equal id', () => {
    const acl = [digest(Perms.WRITE, alice.id)];
    expect(checkAcl(acl, Perms.WRITE, [alice])).toBe(true);
    expect(checkAcl(acl, Perms.WRITE, [{ scheme: 'digest', id: 'alice:other' }])).toBe(false);
    expect(checkAcl(acl, Perms.WRITE, [{ scheme: 'ip', id: alice.id }])).toBe(false);
  });

  it('any bit of the requested mask suffices (getACL asks READ|ADMIN)', () => {
    expect(checkAcl([world(Perms.ADMIN)], Perms.READ | Perms.ADMIN, [])).toBe(true);
  });

  it('super passes everything', () => {
    expect(checkAcl([digest(0, alice.id)], Perms.ALL, [{ scheme: 'super', id: '' }])).toBe(true);
  });
});

describe('getACL redaction and stored-ACL validity', () => {
  it('digest ids become user:x, others stay', () => {
    expect(redactAcl([digest(1, 'alice:aGFzaA=='), world(31)])).toEqual([digest(1, 'alice:x'), world(31)]);
  });

  it('isValidDigestId / isStoredAclValid', () => {
    expect(isValidDigestId('alice:aGFzaA==')).toBe(true);
    expect(isValidDigestId('alice:')).toBe(false);
    expect(isStoredAclValid([world(31)])).toBe(true);
    expect(isStoredAclValid([{ perms: 31, id: { scheme: 'auth', id: '' } }])).toBe(false);
    expect(isStoredAclValid([])).toBe(false);
  });
});
