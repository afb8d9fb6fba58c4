/**
 * meshkeeper for Node (the package's `node` export condition): the platform-neutral API of
 * index.ts, plus the Node pieces that let `Keeper.join({ relay })` run an edge peer (ws,
 * node-datachannel, file storage).
 */

import './platform/node.js';

export * from './index.js';
