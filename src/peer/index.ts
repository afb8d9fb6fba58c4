/**
 * The peer runtime (src/peer): a Raft replica of the ZooKeeper tree that serves sessions.
 * See peer.ts for the loop, leader.ts and serving.ts for the two halves of the protocol,
 * wire.ts for the messages, constants.ts for every time and limit, and docs/architecture.md.
 */

export { Peer, type PeerObserver, type PeerOptions, type PeerStatus } from './peer.js';
export { createStandalonePeer, type StandalonePeer, type StandalonePeerOptions } from './standalone.js';
export { RealClock, realSeed } from './clock-real.js';
export { ManualClock } from './clock-manual.js';
export * from './constants.js';
export type { PeerCounters, DropReason, UnsafeRuntimeMutations } from './host.js';
export type { Cancel, Clock, PersistBatch, ReplicaStorage, StateMachine, Transport } from './interfaces.js';
export type { AddWatchRequest, Done, LocalSession, RemoveWatchesRequest, ServingApi, SessionListener, SessionRequest, SessionResult, SessionState } from './serving-api.js';
export { Replica, type ReplicaEvents, type ReplicaOptions } from './replica.js';
export { TreeStateMachine } from './tree-machine.js';
export { decodeLogRecord, encodeLogRecord, type LogRecord } from './record.js';
export { decodeWire, encodeWire, type WireMessage } from './wire.js';
export { nextMembershipChange, type MembershipDecision, type MembershipView } from './membership.js';
