// Proves paths.ts applies ZooKeeper's PathUtils.validatePath rules (plus PATH_BYTES_MAX) to whole
// paths, returning BADARGUMENTS with a reason and never throwing; checked case by case against
// PathUtils.java's loop, including the isSequential variant, and the parent/name helpers.
import { describe, expect, it } from 'vitest';
import { PATH_BYTES_MAX } from '../limits.js';
import {
  ancestorsOf,
  childPath,
  isAtOrBelow,
  isReservedPath,
  nameOf,
  parentOf,
  sequentialSuffix,
  utf8ByteLength,
  validatePath,
} from './paths.js';

function reasonOf(path: unknown, sequential = false): string {
  const check = validatePath(path, { sequential });
  if (check.ok) throw new Error(`expected ${JSON.stringify(path)} to be invalid`);
  expect(check.code).toBe('BADARGUMENTS');
  return check.reason;
}

describe('PathUtils.validatePath: valid paths', () => {
  it.each(['/', '/a', '/a/b', '/a-b/c_d', '/...', '/a.', '/.a', '/a..b', '/a/..b', '/a/b..', '/zookeeper', '/ünïcode/日本', '/a b', '/\u00a0', '/\uf900', '/\uffef'])(
    'accepts %j',
    (path) => {
      expect(validatePath(path)).toEqual({ ok: true });
    },
  );
});

describe('PathUtils.validatePath: every malformed kind is BADARGUMENTS', () => {
  it.each([
    ['not a string', 42, 'not a string'],
    ['null', null, 'not a string'],
    ['empty', '', 'empty'],
    ['relative', 'a/b', 'start with /'],
    ['trailing slash', '/a/', 'end with /'],
    ['empty segment', '/a//b', 'empty node name'],
    ['double slash at root', '//', 'end with /'],
    ['"." segment', '/a/./b', '"."'],
    ['"." last segment', '/a/.', '"."'],
    ['".." segment', '/a/../b', '".."'],
    ['".." last segment', '/..', '".."'],
    ['NUL', '/a\u0000b', 'null character'],
    ['C0 control', '/a\u0001', 'invalid character'],
    ['C0 control \\u001f', '/a\u001f', 'invalid character'],
    ['DEL', '/a\u007f', 'invalid character'],
    ['C1 control', '/a\u009f', 'invalid character'],
    ['surrogate (any non-BMP character)', '/a\ud83d\ude00', 'invalid character'],
    ['private use area', '/a\ue000', 'invalid character'],
    ['last of \\ud800-\\uf8ff', '/a\uf8ff', 'invalid character'],
    ['specials block', '/a\ufff0', 'invalid character'],
    ['\\uffff', '/a\uffff', 'invalid character'],
  ])('%s', (_what, path, reason) => {
    expect(reasonOf(path)).toContain(reason);
  });

  it('names the index of the offending character', () => {
    expect(reasonOf('/ab\u0001')).toContain('index 3');
  });

  it(`refuses a path longer than PATH_BYTES_MAX (${PATH_BYTES_MAX}) UTF-8 bytes, counting multi-byte characters`, () => {
    expect(validatePath(`/${'a'.repeat(PATH_BYTES_MAX - 1)}`)).toEqual({ ok: true });
    expect(reasonOf(`/${'a'.repeat(PATH_BYTES_MAX)}`)).toContain('PATH_BYTES_MAX');
    // 'é' is 2 bytes: half as many fit.
    expect(reasonOf(`/${'é'.repeat(PATH_BYTES_MAX / 2)}`)).toContain('PATH_BYTES_MAX');
  });
});

describe('PathUtils.validatePath(path, isSequential): validated with a character appended', () => {
  it('accepts a trailing slash for sequential creates (the suffix becomes the name)', () => {
    expect(validatePath('/a/', { sequential: true })).toEqual({ ok: true });
    expect(validatePath('/', { sequential: true })).toEqual({ ok: true });
  });

  it('still refuses what the suffix cannot repair', () => {
    expect(reasonOf('/a//', true)).toContain('empty node name');
    expect(reasonOf('a/', true)).toContain('start with /');
    expect(reasonOf('/a/\u0001/', true)).toContain('invalid character');
  });

  it('"." and ".." are not relative once the suffix follows them ("/a/." + "1" is "/a/.1")', () => {
    expect(validatePath('/a/.', { sequential: true })).toEqual({ ok: true });
    expect(validatePath('/a/..', { sequential: true })).toEqual({ ok: true });
  });

  it('counts the 10-character suffix against PATH_BYTES_MAX', () => {
    expect(validatePath(`/${'a'.repeat(PATH_BYTES_MAX - 11)}`, { sequential: true })).toEqual({ ok: true });
    expect(reasonOf(`/${'a'.repeat(PATH_BYTES_MAX - 10)}`, true)).toContain('PATH_BYTES_MAX');
  });
});

describe('path helpers', () => {
  it('parentOf / nameOf / childPath', () => {
    expect(parentOf('/a')).toBe('/');
    expect(parentOf('/a/b/c')).toBe('/a/b');
    expect(nameOf('/a/b/c')).toBe('c');
    expect(childPath('/', 'a')).toBe('/a');
    expect(childPath('/a', 'b')).toBe('/a/b');
    expect(() => parentOf('/')).toThrow(/assertion/);
  });

  it('ancestorsOf lists parents nearest first, ending with /', () => {
    expect(ancestorsOf('/a/b/c')).toEqual(['/a/b', '/a', '/']);
    expect(ancestorsOf('/')).toEqual([]);
  });

  it('isReservedPath: /zookeeper and below, not look-alikes', () => {
    expect(isReservedPath('/zookeeper')).toBe(true);
    expect(isReservedPath('/zookeeper/config')).toBe(true);
    expect(isReservedPath('/zookeeper2')).toBe(false);
    expect(isReservedPath('/')).toBe(false);
  });

  it('isAtOrBelow', () => {
    expect(isAtOrBelow('/a/b', '/a')).toBe(true);
    expect(isAtOrBelow('/ab', '/a')).toBe(false);
    expect(isAtOrBelow('/x', '/')).toBe(true);
  });

  it('sequentialSuffix is Java\'s %010d, sign inside the width', () => {
    expect(sequentialSuffix(0)).toBe('0000000000');
    expect(sequentialSuffix(42)).toBe('0000000042');
    expect(sequentialSuffix(2147483647)).toBe('2147483647');
    expect(sequentialSuffix(-1)).toBe('-000000001');
    expect(sequentialSuffix(-2147483648)).toBe('-2147483648');
  });

  it('utf8ByteLength matches TextEncoder, lone surrogates included', () => {
    for (const text of ['', 'abc', 'é', '日本', '😀', 'a\ud800b', '\udc00']) {
      expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
    }
  });
});
