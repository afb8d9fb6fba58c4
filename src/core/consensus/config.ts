/**
 * Membership configurations and single-server changes (dissertation §4.1-§4.3).
 *
 * A config entry carries the change AND the configuration it produces, so the configuration in
 * force at any index is that of the latest config entry at or below it (or the snapshot's). Each
 * server uses the latest configuration in its log, committed or not (§4.1); truncating the log
 * therefore reverts the configuration, with no extra bookkeeping.
 */

import { decodeWith, type Decoded, type Reader } from '../codec/reader.js';
import { utf8ByteLength, Writer } from '../codec/writer.js';
import { CONFIG_PEERS_MAX, PEER_ID_BYTES_MAX } from '../limits.js';
import type { Config, ConfigChange, ConfigChangeType, ConfigEntry, PeerId } from './types.js';

export const EMPTY_CONFIG: Config = Object.freeze({ voters: Object.freeze([]), learners: Object.freeze([]) });

/** The UTF-8 length of a string, counted without encoding it (no allocation, no call into the
 *  engine's encoder: it runs for every message); a lone surrogate has no UTF-8 form and counts as
 *  too long for any bound. */
export function utf8Bytes(value: string): number {
  const bytes = utf8ByteLength(value);
  return bytes < 0 ? Number.POSITIVE_INFINITY : bytes;
}

/** Why `id` is not a valid peer id, or null. Checked for every message's sender and receiver, so
 *  the length is counted without encoding (no allocation, no call into the engine's encoder). */
export function peerIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return 'peer id is not a string';
  if (id.length === 0) return 'peer id is empty';
  const bytes = utf8ByteLength(id);
  if (bytes < 0) return 'peer id holds a lone surrogate (no UTF-8 form)';
  if (bytes > PEER_ID_BYTES_MAX) return `peer id longer than ${PEER_ID_BYTES_MAX} bytes`;
  return null;
}

function sortedUnique(ids: readonly PeerId[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    if ((ids[i - 1] as PeerId) >= (ids[i] as PeerId)) return false;
  }
  return true;
}

/** Why `config` is malformed, or null: ids valid, each list sorted without duplicates, the lists
 *  disjoint, at most CONFIG_PEERS_MAX members. An empty config is valid (a joining node's). */
export function configProblem(config: Config): string | null {
  const all = [...config.voters, ...config.learners];
  if (all.length > CONFIG_PEERS_MAX) return `config has more than ${CONFIG_PEERS_MAX} members`;
  for (const id of all) {
    const problem = peerIdProblem(id);
    if (problem !== null) return problem;
  }
  if (!sortedUnique(config.voters)) return 'voters are not sorted and unique';
  if (!sortedUnique(config.learners)) return 'learners are not sorted and unique';
  const voters = new Set(config.voters);
  if (config.learners.some((id) => voters.has(id))) return 'a peer is both voter and learner';
  return null;
}

/** Builds a config from any lists: sorted, frozen. The caller validates with configProblem. */
export function makeConfig(voters: readonly PeerId[], learners: readonly PeerId[] = []): Config {
  return Object.freeze({
    voters: Object.freeze([...voters].sort()),
    learners: Object.freeze([...learners].sort()),
  });
}

export function isVoter(config: Config, id: PeerId): boolean {
  return config.voters.includes(id);
}

export function isLearner(config: Config, id: PeerId): boolean {
  return config.learners.includes(id);
}

export function isMember(config: Config, id: PeerId): boolean {
  return isVoter(config, id) || isLearner(config, id);
}

export function configsEqual(a: Config, b: Config): boolean {
  return a.voters.join('\u0000') === b.voters.join('\u0000') && a.learners.join('\u0000') === b.learners.join('\u0000');
}

export type ChangeResult = { ok: true; config: Config } | { ok: false; error: string };

function without(ids: readonly PeerId[], id: PeerId): PeerId[] {
  return ids.filter((other) => other !== id);
}

/** The configuration `change` produces from `config`, or why it does not apply. Never leaves the
 *  configuration without a voter (no quorum could ever form again). */
export function applyConfigChange(config: Config, change: ConfigChange): ChangeResult {
  const idProblem = peerIdProblem(change.peer);
  if (idProblem !== null) return { ok: false, error: idProblem };
  const { peer } = change;
  let next: Config;
  switch (change.type) {
    case 'add-learner':
      if (isMember(config, peer)) return { ok: false, error: `${peer} is already a member` };
      next = makeConfig(config.voters, [...config.learners, peer]);
      break;
    case 'promote':
      if (!isLearner(config, peer)) return { ok: false, error: `${peer} is not a learner` };
      next = makeConfig([...config.voters, peer], without(config.learners, peer));
      break;
    case 'demote':
      if (!isVoter(config, peer)) return { ok: false, error: `${peer} is not a voter` };
      next = makeConfig(without(config.voters, peer), [...config.learners, peer]);
      break;
    case 'remove':
      if (!isMember(config, peer)) return { ok: false, error: `${peer} is not a member` };
      next = makeConfig(without(config.voters, peer), without(config.learners, peer));
      break;
  }
  if (next.voters.length === 0) return { ok: false, error: 'the change would leave no voter' };
  const problem = configProblem(next);
  if (problem !== null) return { ok: false, error: problem };
  return { ok: true, config: next };
}

export function formatConfig(config: Config): string {
  return `voters=(${config.voters.join(',')}) learners=(${config.learners.join(',')})`;
}

// --- Codec of configs and config entries (used by codec/raft.ts and for config entry data) ------

export const CONFIG_CHANGE_TYPES: readonly ConfigChangeType[] = ['add-learner', 'promote', 'demote', 'remove'];

export function writeConfig(writer: Writer, config: Config): void {
  writer.varUint(config.voters.length);
  for (const id of config.voters) writer.string(id);
  writer.varUint(config.learners.length);
  for (const id of config.learners) writer.string(id);
}

function readIds(reader: Reader, what: string): PeerId[] {
  const count = reader.count(`${what} count`, CONFIG_PEERS_MAX, 2);
  const ids: PeerId[] = [];
  for (let i = 0; i < count; i++) ids.push(reader.string(what, PEER_ID_BYTES_MAX));
  return ids;
}

/** Reads and validates a config (sorted, disjoint, capped); malformed input fails the reader. */
export function readConfig(reader: Reader): Config {
  const voters = readIds(reader, 'voter');
  const learners = readIds(reader, 'learner');
  const config: Config = Object.freeze({ voters: Object.freeze(voters), learners: Object.freeze(learners) });
  const problem = configProblem(config);
  if (problem !== null) reader.fail(`config: ${problem}`);
  return config;
}

export function encodeConfigEntry(entry: ConfigEntry): Uint8Array {
  const writer = new Writer();
  writer.tag(entry.change.type, CONFIG_CHANGE_TYPES);
  writer.string(entry.change.peer);
  writeConfig(writer, entry.config);
  return writer.finish();
}

/** Decodes a config entry's data and checks that its config is what its change would produce
 *  from some config (the peer's membership matches the change). Never throws on bad input. */
export function decodeConfigEntry(bytes: Uint8Array): Decoded<ConfigEntry> {
  return decodeWith(bytes, (reader) => {
    const type = reader.tag('config change type', CONFIG_CHANGE_TYPES);
    const peer = reader.string('config change peer', PEER_ID_BYTES_MAX);
    const idProblem = peerIdProblem(peer);
    if (idProblem !== null) reader.fail(idProblem);
    const config = readConfig(reader);
    if (config.voters.length === 0) reader.fail('config entry leaves no voter');
    const member = type === 'promote' ? isVoter(config, peer) : type === 'remove' ? !isMember(config, peer) : isLearner(config, peer);
    if (!member) reader.fail(`config entry: ${type} ${peer} does not match its config`);
    return { change: { type, peer }, config };
  });
}
