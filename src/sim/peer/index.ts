/**
 * The peer simulator: the whole peer runtime (src/peer) on simulated hosts, disks, clocks and
 * network, with CAS, sequential-create, lock and leader-election workloads through the serving
 * API, checked for Raft's safety, ZooKeeper's session/watch/lock/election guarantees and
 * linearizability. `runPeerSeed` runs one seed, `runPeerSeeds` many; scripts/sim.ts
 * (`npm run sim -- --layer peer`) is the CLI.
 */

export { PeerSim, runPeerSeed, type PeerSimOptions, type PeerSeedOutcome, type PeerSeedFigures } from './peer-sim.js';
export { LIVENESS_LEADER_MS, LIVENESS_WRITE_MS, LIVENESS_CLIENTS_MS, LIVENESS_SETTLE_MS, LIVENESS_DRAIN_MS, LIVENESS_CONVERGE_MS } from './peer-sim.js';
export { runPeerSeeds, formatPeerFailure, formatPeerSummary, peerReplayCommand, missingPeerFaultKinds, huntRuntimeMutation, describePeerHunt, PEER_FAULT_KINDS, type PeerRunSummary } from './runner.js';
export { PEER_SIM_PROFILES, PEER_PROFILE_MIX, RUNTIME_MUTATIONS, peerProfileForSeed, peerSimProfile, isRuntimeMutationName, type PeerSimProfile, type RuntimeMutationName, type WorkloadSettings } from './profiles.js';
export { RuntimeChecks, PeerViolation, type PeerCheckName } from './checks.js';
export { PeerNode } from './node.js';
export { CasClient, ElectionClient, LockClient, SequentialClient, SimClient } from './workload.js';
