/**
 * meshkeeper/testing: what users import for their own cluster tests — the history recorder and
 * the linearizability checker with its models.
 */

export * from './linearizability.js';
export * from './models/register.js';
export * from './models/znode.js';
export * from './brute-force.js';
