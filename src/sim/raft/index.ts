/**
 * The Raft simulator (TigerBeetle's VOPR shape): real Replicas on simulated hosts, disks, clocks
 * and network, faults and churn from one seed, safety checked at every step and liveness once the
 * faults heal. `runRaftSeed` runs one seed; `runSeeds` many; scripts/sim.ts is the CLI.
 */

export { RaftSim, runRaftSeed, LinearizabilityUndecided, type RaftSimOptions, type SeedOutcome, type SeedFigures, type FaultCounts } from './raft-sim.js';
export { LIVENESS_LEADER_ELECTION_TIMEOUTS, LIVENESS_WRITE_MS, LIVENESS_CLIENTS_MS, LIVENESS_SETTLE_MS, LIVENESS_CONVERGE_MS, RUN_EVENTS_MAX, MESSAGES_IN_FLIGHT_STORM } from './raft-sim.js';
export { runSeeds, formatFailure, formatSummary, replayCommand, missingFaultKinds, FAULT_KINDS, type RunSeedsOptions, type RunSummary } from './runner.js';
export { RAFT_SIM_PROFILES, DEFAULT_PROFILE_MIX, MUTATIONS, profileForSeed, raftSimProfile, isMutationName, type RaftSimProfile, type RaftSettings, type MutationName } from './profiles.js';
export { SafetyMonitor, SimViolation, contentKey, type CheckName, type LogView } from './monitor.js';
export { RegisterMachine, encodeRegisterCommand, decodeRegisterCommand, type RegisterCommand, type CommandResult } from './register-machine.js';
export { SimReplicaStorage, persistedStateOf, writesOf, type StoredValue, type RaftDisk, type RaftHost } from './replica-storage.js';
export { SimClient, type ClientSettings, type ClientGateway, type WriteReply, type ReadReply } from './clients.js';
export { Operator, type OperatorCluster, type OperatorSettings } from './operator.js';
export { SimNode, type NodeContext } from './node.js';
export { huntMutation, describeHunt, MUTATION_PROFILES, type Hunt } from './mutation-suite.js';
