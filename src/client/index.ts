/**
 * The client (API.md, "Data calls"): Keeper, its errors and its types.
 */

export { Keeper } from './keeper.js';
export { MultiError } from './errors.js';
export { digestId } from './digest.js';
export type { JoinOptions, StorageOption } from './options.js';
export * from './types.js';
export type { BoardPeer, PeerKind, StatusBoard } from './board.js';
