/**
 * `meshkeeper shell`: a zkCli-like shell over a Keeper. One command per line; every answer is
 * printed as lines, errors with ZooKeeper's code name and number (`NONODE (-101): /a`), so the
 * shell is as usable from a script (`printf 'ls /\n' | meshkeeper shell …`) as by hand.
 *
 *   ls <path> [-w]            children, sorted (-w: watch the children)
 *   get <path> [-s] [-w]      data as text (-s: and the Stat; -w: watch the data)
 *   stat <path> [-w]          the Stat (-w: watch existence)
 *   create [-e] [-s] [-c] [-t ttlMs] <path> [data]
 *   set <path> <data> [-v version]
 *   delete <path> [-v version]
 *   sync [path]
 *   watch <path> [-r]         a persistent (-r: recursive) watch; events print as they come
 *   getEphemerals [prefix]
 *   srvr | mntr               this peer's status as JSON (ZooKeeper's four-letter words' roles)
 *   help | quit
 *
 * The command interpreter is a pure function of the Keeper and the line (runShellCommand), tested
 * on a standalone Keeper; the CLI wires it to stdin/stdout.
 */

import { KeeperError, errorNameOf } from '../core/errors.js';
import type { CreateMode, Keeper, Stat, WatchedEvent } from '../client/index.js';

/** A line longer than this is refused (a paste gone wrong; the largest znode data is 1 MiB). */
export const SHELL_LINE_CHARS_MAX = 1024 * 1024 + 4096;

export const SHELL_HELP = `commands:
  ls <path> [-w]                      children, sorted
  get <path> [-s] [-w]                data (-s with its Stat)
  stat <path> [-w]                    the Stat
  create [-e] [-s] [-c] [-t ttlMs] <path> [data]
  set <path> <data> [-v version]
  delete <path> [-v version]
  sync [path]
  watch <path> [-r]                   persistent watch (-r recursive); events print as they come
  getEphemerals [prefix]
  srvr | mntr                         this peer's status as JSON
  help | quit`;

export interface ShellOutput {
  /** Prints one line of an answer. */
  line(text: string): void;
}

/** Splits a command line into words; "double quotes" keep spaces (no escapes beyond \\" and \\\\). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quoted) {
      if (char === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i];
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      inWord = true;
    } else if (char === ' ' || char === '\t') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quoted) throw new KeeperError('BADARGUMENTS', 'unterminated quote');
  if (inWord) words.push(current);
  return words;
}

interface Parsed {
  readonly flags: Set<string>;
  readonly values: Map<string, string>;
  readonly rest: string[];
}

/** Flags (`-e`) and flags with a value (`-v 3`) anywhere on the line; the other words in order. */
function parse(words: readonly string[], withValue: readonly string[]): Parsed {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (/^-[a-z]$/.test(word)) {
      if (withValue.includes(word)) {
        const value = words[++i];
        if (value === undefined) throw new KeeperError('BADARGUMENTS', `${word} needs a value`);
        values.set(word, value);
      } else flags.add(word);
    } else rest.push(word);
  }
  return { flags, values, rest };
}

function integer(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new KeeperError('BADARGUMENTS', `${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

function needPath(parsed: Parsed, usage: string): string {
  const path = parsed.rest[0];
  if (path === undefined) throw new KeeperError('BADARGUMENTS', `usage: ${usage}`);
  return path;
}

export function formatStat(stat: Stat): string[] {
  return [
    `cZxid = ${stat.czxid}`,
    `ctime = ${new Date(stat.ctime).toISOString()}`,
    `mZxid = ${stat.mzxid}`,
    `mtime = ${new Date(stat.mtime).toISOString()}`,
    `pZxid = ${stat.pzxid}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = ${stat.ephemeralOwner ?? '0'}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

export function formatEvent(event: WatchedEvent): string {
  return `WATCHER:: WatchedEvent state:SyncConnected type:${event.type} path:${event.path}`;
}

function modeOf(parsed: Parsed): CreateMode {
  const ephemeral = parsed.flags.has('-e');
  const sequential = parsed.flags.has('-s');
  const container = parsed.flags.has('-c');
  const ttl = parsed.values.has('-t');
  if (container && (ephemeral || sequential || ttl)) throw new KeeperError('BADARGUMENTS', '-c cannot be combined with -e, -s or -t');
  if (ttl && ephemeral) throw new KeeperError('BADARGUMENTS', '-t cannot be combined with -e');
  if (container) return 'container';
  if (ttl) return sequential ? 'persistent_sequential_ttl' : 'persistent_ttl';
  if (ephemeral) return sequential ? 'ephemeral_sequential' : 'ephemeral';
  return sequential ? 'persistent_sequential' : 'persistent';
}

/**
 * Runs one command line against `keeper`, printing its answer. Returns false for `quit`. Errors
 * are printed (ZooKeeper's name and number), never thrown, so one bad line harms nothing else.
 */
export async function runShellCommand(keeper: Keeper, line: string, out: ShellOutput): Promise<boolean> {
  try {
    if (line.length > SHELL_LINE_CHARS_MAX) throw new KeeperError('BADARGUMENTS', `line longer than ${SHELL_LINE_CHARS_MAX} characters`);
    const words = splitWords(line.trim());
    const [command, ...args] = words;
    if (command === undefined) return true;
    const watch = (event: WatchedEvent): void => out.line(formatEvent(event));
    switch (command) {
      case 'ls': {
        const parsed = parse(args, []);
        const children = await keeper.getChildren(needPath(parsed, 'ls <path> [-w]'), parsed.flags.has('-w') ? { watch } : undefined);
        out.line(`[${children.join(', ')}]`);
        return true;
      }
      case 'get': {
        const parsed = parse(args, []);
        const { data, stat } = await keeper.getData(needPath(parsed, 'get <path> [-s] [-w]'), parsed.flags.has('-w') ? { watch } : undefined);
        out.line(new TextDecoder().decode(data));
        if (parsed.flags.has('-s')) for (const text of formatStat(stat)) out.line(text);
        return true;
      }
      case 'stat': {
        const parsed = parse(args, []);
        const path = needPath(parsed, 'stat <path> [-w]');
        const stat = await keeper.exists(path, parsed.flags.has('-w') ? { watch } : undefined);
        if (stat === null) throw new KeeperError('NONODE', 'no such node', path);
        for (const text of formatStat(stat)) out.line(text);
        return true;
      }
      case 'create': {
        const parsed = parse(args, ['-t']);
        const path = needPath(parsed, 'create [-e] [-s] [-c] [-t ttlMs] <path> [data]');
        const mode = modeOf(parsed);
        const ttl = parsed.values.get('-t');
        const created = await keeper.create(path, parsed.rest[1] ?? '', ttl === undefined ? { mode } : { mode, ttlMs: integer(ttl, '-t', 0) });
        out.line(`Created ${created}`);
        return true;
      }
      case 'set': {
        const parsed = parse(args, ['-v']);
        const path = needPath(parsed, 'set <path> <data> [-v version]');
        const data = parsed.rest[1];
        if (data === undefined) throw new KeeperError('BADARGUMENTS', 'usage: set <path> <data> [-v version]');
        await keeper.setData(path, data, integer(parsed.values.get('-v'), '-v', -1));
        return true;
      }
      case 'delete': {
        const parsed = parse(args, ['-v']);
        await keeper.delete(needPath(parsed, 'delete <path> [-v version]'), integer(parsed.values.get('-v'), '-v', -1));
        return true;
      }
      case 'sync': {
        await keeper.sync(args[0] ?? '/');
        out.line('Sync is OK');
        return true;
      }
      case 'watch': {
        const parsed = parse(args, []);
        const path = needPath(parsed, 'watch <path> [-r]');
        await keeper.addWatch(path, parsed.flags.has('-r') ? 'persistent_recursive' : 'persistent', watch);
        out.line(`watching ${path}${parsed.flags.has('-r') ? ' (recursive)' : ''}`);
        return true;
      }
      case 'getEphemerals': {
        out.line(`[${(await keeper.getEphemerals(args[0] ?? '/')).join(', ')}]`);
        return true;
      }
      case 'srvr':
      case 'mntr':
        out.line(JSON.stringify({ ...keeper.status(), sessionId: keeper.sessionId, state: keeper.state }));
        return true;
      case 'help':
        for (const text of SHELL_HELP.split('\n')) out.line(text);
        return true;
      case 'quit':
      case 'exit':
        return false;
      default:
        throw new KeeperError('BADARGUMENTS', `unknown command ${JSON.stringify(command)} (try help)`);
    }
  } catch (error) {
    out.line(describeError(error));
    return true;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof KeeperError) {
    // The message starts with the code's name ("NONODE for /a: ..."): put the number beside it.
    const rest = error.message.startsWith(error.code) ? error.message.slice(error.code.length) : `: ${error.message}`;
    return `${error.code} (${error.errno})${rest}`;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number') return `${errorNameOf(code) ?? 'error'} (${code})`;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
