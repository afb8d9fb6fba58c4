/**
 * The scenario scripts of testdata/*.txt (etcd-raft's datadriven style): a command line, a `----`
 * line, the expected output up to the next blank line. Lines starting with `#` are comments.
 * `runScript` runs every command against one Cluster and returns the actual outputs; the test
 * compares them, and rewrites the file with them when UPDATE_SCENARIOS=1.
 *
 * Commands (ids are node ids; nodes are named 1, 2, 3, ... in the order they are added):
 *   add-nodes N [voters=(1,2,3)] [learners=(4)] [prevote=true] [checkquorum=true]
 *               [election=10] [heartbeat=1] [max-entries=N] [unsafe=(commitPriorTermByCount,...)]
 *   campaign ID | tick ID [N] | restart ID
 *   process-ready ID... | process-ready-crash ID | deliver-msgs [ID...] [drop=(ID,...)] [count=N]
 *   stabilize [ID...] | drop [from=ID] [to=ID] [count=N] | partition (IDS) (IDS)... | heal
 *   propose ID DATA | add-learner|promote|demote|remove LEADER PEER
 *   transfer-leadership from=ID to=ID | read-index ID REQUEST | compact ID [INDEX] [pad=BYTES]
 *   status ID | raft-log ID | check
 * Safety violations (cluster.ts) are printed as they are found.
 */

import { assert } from '../../assert.js';
import { EMPTY_CONFIG, formatConfig, isMember, makeConfig } from '../config.js';
import type { UnsafeMutations } from '../options.js';
import type { ConfigChangeType, Outcome, PeerId, ProposeOutcome } from '../types.js';
import { Cluster, type NodeSettings } from './cluster.js';
import { formatEntry, formatSnapshotMeta, formatStatus } from './format.js';

export interface ScriptCommand {
  /** 1-based line of the command in the file. */
  readonly line: number;
  readonly text: string;
  readonly expected: readonly string[];
}

export interface ParsedScript {
  /** The file as blocks: comment/blank text before each command, then the command. */
  readonly blocks: readonly { readonly preamble: readonly string[]; readonly command: ScriptCommand }[];
  readonly trailer: readonly string[];
}

export function parseScript(text: string): ParsedScript {
  const lines = text.split('\n');
  const blocks: { preamble: string[]; command: ScriptCommand }[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i += 1;
      continue;
    }
    const commandLine = i + 1;
    i += 1;
    const expected: string[] = [];
    if (lines[i] === '----') {
      i += 1;
      while (i < lines.length && (lines[i] as string).trim() !== '') expected.push(lines[i++] as string);
    }
    blocks.push({ preamble, command: { line: commandLine, text: line, expected } });
    preamble = [];
  }
  while (preamble.length > 0 && preamble[preamble.length - 1] === '') preamble.pop();
  return { blocks, trailer: preamble };
}

/** The file with `outputs[i]` as the expected output of command i. */
export function renderScript(script: ParsedScript, outputs: readonly (readonly string[])[]): string {
  const out: string[] = [];
  script.blocks.forEach((block, i) => {
    const preamble = [...block.preamble];
    // Exactly one blank line separates an output from what follows.
    while (preamble[0] === '') preamble.shift();
    if (i > 0) out.push('');
    out.push(...preamble, block.command.text, '----', ...(outputs[i] ?? []));
  });
  out.push(...(script.trailer.length > 0 ? ['', ...script.trailer] : []));
  return `${out.join('\n')}\n`;
}

interface Args {
  readonly positional: string[];
  readonly named: Map<string, string>;
}

function parseArgs(tokens: readonly string[]): Args {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq > 0) named.set(token.slice(0, eq), token.slice(eq + 1));
    else positional.push(token);
  }
  return { positional, named };
}

/** `(1,2,3)` -> ['1','2','3']; `()` -> []. */
function parseList(value: string): string[] {
  assert(value.startsWith('(') && value.endsWith(')'), `a list in parentheses: ${value}`);
  const inner = value.slice(1, -1).trim();
  return inner === '' ? [] : inner.split(',').map((item) => item.trim());
}

function numberArg(value: string | undefined, what: string): number {
  const parsed = Number(value);
  assert(value !== undefined && Number.isInteger(parsed), `${what} is an integer`);
  return parsed;
}

function first(args: Args, what: string): string {
  const value = args.positional[0];
  assert(value !== undefined, `${what} is given`);
  return value;
}

function outcomeLine(outcome: Outcome | ProposeOutcome): string[] {
  if (!outcome.ok) return [`refused: ${outcome.reason}`];
  return 'index' in outcome ? [`ok index=${outcome.index} term=${outcome.term}`] : ['ok'];
}

const CHANGE_COMMANDS: readonly ConfigChangeType[] = ['add-learner', 'promote', 'demote', 'remove'];

export class ScriptRunner {
  readonly cluster: Cluster;
  private nextId = 1;

  constructor(seed: number) {
    this.cluster = new Cluster(seed);
  }

  run(text: string): string[] {
    const [name, ...tokens] = text.trim().split(/\s+/);
    assert(name !== undefined, 'a command');
    const lines = this.dispatch(name, parseArgs(tokens));
    lines.push(...this.cluster.checkSafety());
    return lines.length === 0 ? ['ok'] : lines;
  }

  private dispatch(name: string, args: Args): string[] {
    const c = this.cluster;
    if ((CHANGE_COMMANDS as readonly string[]).includes(name)) {
      const [leader, peer] = args.positional;
      assert(leader !== undefined && peer !== undefined, `${name} LEADER PEER`);
      return outcomeLine(c.node(leader).proposeConfigChange({ type: name as ConfigChangeType, peer }));
    }
    switch (name) {
      case 'add-nodes':
        return this.addNodes(args);
      case 'campaign':
        c.node(first(args, 'id')).campaign();
        return [];
      case 'tick': {
        const node = c.node(first(args, 'id'));
        const count = args.positional[1] === undefined ? 1 : numberArg(args.positional[1], 'tick count');
        for (let i = 0; i < count; i++) node.tick();
        return [];
      }
      case 'restart':
        c.restart(first(args, 'id'));
        return [];
      case 'process-ready':
        return this.processReady(args.positional);
      case 'process-ready-crash':
        return c.processReadyCrash(first(args, 'id'));
      case 'deliver-msgs': {
        const drop = args.named.get('drop');
        const ids = args.positional.length > 0 ? args.positional : null;
        return c.deliver(ids, drop === undefined ? [] : parseList(drop), this.count(args));
      }
      case 'stabilize':
        return c.stabilize(args.positional.length > 0 ? args.positional : undefined);
      case 'drop':
        return c.drop(args.named.get('from') ?? null, args.named.get('to') ?? null, this.count(args));
      case 'partition':
        c.partition(args.positional.map(parseList));
        return [];
      case 'heal':
        c.heal();
        return [];
      case 'propose': {
        const [id, data] = args.positional;
        assert(id !== undefined && data !== undefined, 'propose ID DATA');
        return outcomeLine(c.node(id).propose(new TextEncoder().encode(data)));
      }
      case 'transfer-leadership': {
        const from = args.named.get('from');
        const to = args.named.get('to');
        assert(from !== undefined && to !== undefined, 'transfer-leadership from=ID to=ID');
        return outcomeLine(c.node(from).transferLeadership(to));
      }
      case 'read-index': {
        const [id, request] = args.positional;
        assert(id !== undefined && request !== undefined, 'read-index ID REQUEST');
        return outcomeLine(c.node(id).readIndex(request));
      }
      case 'compact':
        return this.compact(args);
      case 'status':
        return formatStatus(c.node(first(args, 'id')).status());
      case 'raft-log':
        return this.raftLog(first(args, 'id'));
      case 'check':
        return c.violations.length === 0 ? ['no violations'] : [...c.violations];
      default:
        throw new Error(`unknown scenario command: ${name}`);
    }
  }

  /** `count=N`: act on the first N matching messages only. */
  private count(args: Args): number | undefined {
    return args.named.has('count') ? numberArg(args.named.get('count'), 'count') : undefined;
  }

  private addNodes(args: Args): string[] {
    const count = numberArg(args.positional[0], 'node count');
    const voters = parseList(args.named.get('voters') ?? '()');
    const learners = parseList(args.named.get('learners') ?? '()');
    const config = makeConfig(voters, learners);
    const flag = (key: string): boolean | undefined => (args.named.has(key) ? args.named.get(key) === 'true' : undefined);
    const numeric = (key: string): number | undefined => (args.named.has(key) ? numberArg(args.named.get(key), key) : undefined);
    const unsafe = Object.fromEntries(parseList(args.named.get('unsafe') ?? '()').map((key) => [key, true])) as UnsafeMutations;
    const settings: NodeSettings = {
      preVote: flag('prevote'),
      checkQuorum: flag('checkquorum'),
      electionTimeoutTicks: numeric('election'),
      heartbeatIntervalTicks: numeric('heartbeat'),
      appendEntriesPerMessageMax: numeric('max-entries'),
      unsafeMutations: unsafe,
    };
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const id: PeerId = String(this.nextId++);
      const bootstrap = isMember(config, id) ? config : EMPTY_CONFIG;
      this.cluster.addNode(id, bootstrap, settings);
      lines.push(`${id}: ${formatConfig(bootstrap)}`);
    }
    return lines;
  }

  private processReady(ids: readonly string[]): string[] {
    assert(ids.length > 0, 'process-ready ID...');
    if (ids.length === 1) return this.cluster.processReady(ids[0] as string) ?? ['no Ready'];
    const lines: string[] = [];
    for (const id of ids) {
      const ready = this.cluster.processReady(id);
      lines.push(`> ${id} handling Ready`, ...(ready ?? ['no Ready']).map((line) => `  ${line}`));
    }
    return lines;
  }

  private compact(args: Args): string[] {
    const id = first(args, 'id');
    const index = args.positional[1] === undefined ? null : numberArg(args.positional[1], 'compact index');
    const pad = args.named.has('pad') ? numberArg(args.named.get('pad'), 'pad') : 0;
    const result = this.cluster.compact(id, index, pad);
    if (!result.ok) return [`refused: ${result.reason}`];
    return [`ok snapshot=${formatSnapshotMeta(result.snapshot.meta)} bytes=${result.snapshot.data.length}`];
  }

  private raftLog(id: PeerId): string[] {
    const { snapshot, entries } = this.cluster.node(id).inspectLog();
    const lines = snapshot.index > 0 ? [`snapshot ${formatSnapshotMeta(snapshot)}`] : [];
    lines.push(...entries.map(formatEntry));
    return lines.length === 0 ? ['log is empty'] : lines;
  }
}

/** Runs every command of a script; returns the actual output of each. */
export function runScript(script: ParsedScript, seed: number): string[][] {
  const runner = new ScriptRunner(seed);
  return script.blocks.map((block) => runner.run(block.command.text));
}
