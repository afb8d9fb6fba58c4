// The tree browser's pure parts (the DOM side runs in e2e/tree-view.spec.ts): paths, every Stat
// field with dates, the data viewer's text / JSON / hex, and the bounded newest-first event log.
import { describe, expect, it } from 'vitest';
import type { Stat } from '../browser.js';
import { childPath, defaultFormat, EVENT_LOG_MAX, EventLog, formatData, parentPath, statRows } from './tree-view.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('tree view', () => {
  it('joins and splits paths', () => {
    expect(childPath('/', 'a')).toBe('/a');
    expect(childPath('/a', 'b')).toBe('/a/b');
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/')).toBe('/');
  });

  it('shows every Stat field, times as dates', () => {
    const stat: Stat = { czxid: 1, mzxid: 2, pzxid: 3, ctime: 0, mtime: 1_000, version: 4, cversion: 5, aversion: 6, ephemeralOwner: null, dataLength: 7, numChildren: 8 };
    const rows = Object.fromEntries(statRows(stat));
    expect(Object.keys(rows)).toEqual(['czxid', 'mzxid', 'pzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren']);
    expect(rows.ctime).toBe('1970-01-01T00:00:00.000Z (0)');
    expect(rows.mtime).toContain('1970-01-01T00:00:01.000Z');
    expect(rows.ephemeralOwner).toBe('none');
    expect(rows.numChildren).toBe('8');
  });

  it('shows data as text, pretty JSON when it parses, and hex', () => {
    expect(formatData(bytes('héllo'), 'text').text).toBe('héllo');
    expect(formatData(bytes('{"a":[1]}'), 'json').text).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(formatData(bytes('nope'), 'json')).toEqual({ text: 'nope', note: 'not JSON: shown as text' });
    expect(formatData(new Uint8Array([0, 255, 16]), 'hex').text).toBe('00000000  00 ff 10');
    expect(formatData(new Uint8Array([0xff]), 'text').note).toMatch(/not valid UTF-8/);
    expect(defaultFormat(bytes('{"a":1}'))).toBe('json');
    expect(defaultFormat(bytes('42'))).toBe('text');
    expect(defaultFormat(bytes('hello'))).toBe('text');
  });

  it('keeps the newest events first, at most its maximum', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.add({ type: 'NodeCreated', path: `/n${i}` }, i);
    expect(log.entries().map((entry) => entry.path)).toEqual(['/n4', '/n3', '/n2']);
    expect(new EventLog().entries()).toHaveLength(0);
    expect(EVENT_LOG_MAX).toBeGreaterThan(0);
  });
});
