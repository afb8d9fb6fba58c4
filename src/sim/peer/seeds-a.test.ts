// Proves the whole peer runtime safe and live under the simulator's faults (half of the peer seed
// run; seeds-b.test.ts runs the other half in parallel): each seed of the default profile mix runs
// real Peers (sessions, forwarding, leader duties, watches, the Replica loop) over a faulty network,
// crashing disks and drifting, freezing clocks, with the CAS, sequential-create, lock and
// leader-election workloads, and must pass every checker — the Raft monitor (election safety, log
// matching, leader completeness, state-machine safety as equal tree digests at equal applied
// indexes), sessions and ephemerals, lock exclusion and fencing, one election leader at a time with
// rising epochs, each the lowest latch node where it read so, watch order and delivery, sequential
// order and durability, linearizability of the CAS znodes, liveness after the faults heal — and the
// slice must inject every fault kind, expire sessions, grant the lock and elect (and relinquish)
// leaders. SEED=N replays this file.
import { definePeerSeedFile } from './seed-file.js';

definePeerSeedFile('a', 'src/sim/peer/seeds-a.test.ts', 32);
