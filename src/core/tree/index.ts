/**
 * The data model's public surface (src/core/tree): the DataTree (reads, apply, snapshot, digest,
 * container sweep), the Preparer (the leader's prep with its overlay), the watch manager, and the
 * path and ACL rules. The store, the overlay and the hashing are internal.
 */

export * from './types.js';
export { DataTree, DEFAULT_TREE_LIMITS, type DataTreeOptions, type SnapshotLoad, type TreeLimits } from './data-tree.js';
export type { Applied } from './apply.js';
export type { ReadOutcome } from './reads.js';
export { TreeHarness, type Caller, type Run } from './harness.js';
export { Preparer, type Prepared, type PrepFailure, type PrepLimits } from './prep.js';
export { WatchManager, watchForRead, type WatchOutcome } from './watches.js';
export { isDue, type DueResult } from './containers.js';
export {
  ancestorsOf,
  childPath,
  isReservedPath,
  nameOf,
  parentOf,
  sequentialSuffix,
  utf8ByteLength,
  validatePath,
  type PathCheck,
} from './paths.js';
export { checkAcl, fixupAcl, isValidDigestId, redactAcl, type AclCheck } from './acl.js';
