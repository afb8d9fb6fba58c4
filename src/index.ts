/**
 * meshkeeper: ZooKeeper's coordination model for browser tabs and Node peers (API.md).
 *
 *   import { Keeper } from 'meshkeeper';
 *   const keeper = await Keeper.join({ storage: 'memory' });
 *
 * Browser-safe: nothing reachable from here imports a Node module.
 */

export * from './client/index.js';
export { ErrorCode, KeeperError, errorNameOf, isOutcomeUnknown, type ErrorName, type FailureName } from './core/errors.js';
export { CREATE_MODES } from './core/tree/types.js';
