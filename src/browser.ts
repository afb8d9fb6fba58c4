/**
 * meshkeeper for browsers (the package's `browser` export condition): the API of index.ts, plus the
 * browser pieces that let `Keeper.join({ relay })` run this tab as a peer (WebSocket, WebRTC,
 * IndexedDB). Nothing reachable from here imports a Node module.
 */

import './platform/browser.js';

export * from './index.js';
