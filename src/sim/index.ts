/**
 * The deterministic simulator's pieces: virtual time and events, a faulty network, a disk with
 * fsync, node threads and tick sources with pauses and drift, fault schedules, and the host that
 * wires them for one node; and the Raft simulator built on them (raft/). Everything random comes
 * from a seeded Prng; nothing reads real time.
 */

export * from './scheduler.js';
export * from './trace.js';
export * from './network.js';
export * from './storage.js';
export * from './clock.js';
export * from './process.js';
export * from './faults.js';
export * from './host.js';
export * from './raft/index.js';
