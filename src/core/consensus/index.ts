/**
 * The Raft core's public surface: RawNode and its data types. See raw-node.ts for the life cycle
 * and the Ready contract, messages.ts for the wire messages (encoded by codec/raft.ts).
 */

export { RawNode, type Ready, type Status, type PeerProgress, type CompactOutcome } from './raw-node.js';
export type { StepOutcome } from './raft.js';
export type { RaftOptions, UnsafeMutations } from './options.js';
export type { Message, MessageType } from './messages.js';
export { MESSAGE_TYPES, messageProblem } from './messages.js';
export { EMPTY_CONFIG, makeConfig, applyConfigChange, configProblem, decodeConfigEntry, encodeConfigEntry, formatConfig, isVoter, isLearner, isMember } from './config.js';
export type * from './types.js';
