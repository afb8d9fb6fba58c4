// Proves the client computes ZooKeeper's digest identity (DigestAuthenticationProvider.
// generateDigest: user:base64(sha1(user:password))) with WebCrypto, checked against Node's own
// SHA-1 and base64 and against ZooKeeper's documented example (super:test).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestId, toBase64 } from './digest.js';

describe('digestId', () => {
  it("matches ZooKeeper's documented digest for super:test", async () => {
    expect(await digestId('super:test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  it('hashes the whole user:password string, the user being the text before the first colon', async () => {
    for (const auth of ['alice:secret', 'bob:pa:ss:word', 'ünï:cødé', 'u:']) {
      const expected = `${auth.slice(0, auth.indexOf(':'))}:${createHash('sha1').update(auth, 'utf8').digest('base64')}`;
      expect(await digestId(auth)).toBe(expected);
    }
  });

  it('refuses a missing user or colon with BADARGUMENTS', async () => {
    await expect(digestId('nocolon')).rejects.toMatchObject({ code: 'BADARGUMENTS' });
    await expect(digestId(':pw')).rejects.toMatchObject({ code: 'BADARGUMENTS' });
  });
});

describe('toBase64', () => {
  it('agrees with Buffer for every length remainder', () => {
    for (let length = 0; length < 40; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 255);
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});
