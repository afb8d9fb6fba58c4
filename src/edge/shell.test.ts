import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keeper } from '../client/index.js';
import { runShellCommand, splitWords } from './shell.js';

describe('meshkeeper shell commands', () => {
  let keeper: Keeper;
  let lines: string[];
  const run = async (line: string): Promise<string[]> => {
    lines = [];
    await runShellCommand(keeper, line, { line: (text) => lines.push(text) });
    return lines;
  };

  beforeEach(async () => {
    keeper = await Keeper.join({ storage: 'memory', room: `shell-${Math.random()}` });
  });
  afterEach(async () => {
    await keeper.close();
  });

  it('splits words with double quotes', () => {
    expect(splitWords('create /a "hello world" -e')).toEqual(['create', '/a', 'hello world', '-e']);
    expect(splitWords('set /a "say \\"hi\\""')).toEqual(['set', '/a', 'say "hi"']);
    expect(() => splitWords('get "/a')).toThrow(/unterminated/);
  });

  it('creates, lists, reads, sets, stats and deletes like zkCli', async () => {
    expect(await run('create /app "hello world"')).toEqual(['Created /app']);
    expect(await run('create -s /app/job- x')).toEqual(['Created /app/job-0000000000']);
    expect(await run('create -e /app/eph')).toEqual(['Created /app/eph']);
    expect(await run('ls /app')).toEqual(['[eph, job-0000000000]']);
    expect(await run('get /app')).toEqual(['hello world']);
    expect(await run('set /app bye -v 0')).toEqual([]);
    expect(await run('set /app again -v 0')).toEqual([expect.stringMatching(/^BADVERSION \(-103\)/)]);
    const stat = await run('stat /app');
    expect(stat).toContain('dataVersion = 1');
    expect(stat).toContain('numChildren = 2');
    expect(await run('getEphemerals /app')).toEqual(['[/app/eph]']);
    expect(await run('delete /app')).toEqual([expect.stringMatching(/^NOTEMPTY \(-111\)/)]);
    expect(await run('delete /app/eph')).toEqual([]);
    expect(await run('stat /app/eph')).toEqual([expect.stringMatching(/^NONODE \(-101\)/)]);
    expect(await run('sync /')).toEqual(['Sync is OK']);
  });

  it('prints watch events as they come, and status as JSON', async () => {
    await run('watch /w -r');
    await keeper.create('/w', 'x');
    await keeper.create('/w/child', 'y');
    await keeper.sync('/');
    // The watch's own output lines go to the `lines` array of the `watch` command's run.
    expect(lines).toEqual([
      'watching /w (recursive)',
      'WATCHER:: WatchedEvent state:SyncConnected type:NodeCreated path:/w',
      'WATCHER:: WatchedEvent state:SyncConnected type:NodeCreated path:/w/child',
    ]);
    const [json] = await run('srvr');
    expect(JSON.parse(json as string)).toMatchObject({ role: 'leader', quorum: true, state: 'connected' });
  });

  it('answers bad input with a clear error and keeps going', async () => {
    expect(await run('frobnicate /')).toEqual([expect.stringMatching(/^BADARGUMENTS \(-8\).*unknown command/)]);
    expect(await run('get')).toEqual([expect.stringMatching(/^BADARGUMENTS.*usage: get/)]);
    expect(await run('create -c -e /x')).toEqual([expect.stringMatching(/^BADARGUMENTS.*-c cannot/)]);
    expect(await run('get bad//path')).toEqual([expect.stringMatching(/^BADARGUMENTS \(-8\)/)]);
    expect(await run('set /a b -v x')).toEqual([expect.stringMatching(/^BADARGUMENTS.*-v must be an integer/)]);
    expect(await runShellCommand(keeper, 'quit', { line: () => undefined })).toBe(false);
    expect(await run('create /still-works')).toEqual(['Created /still-works']);
  });
});
