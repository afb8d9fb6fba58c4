/**
 * The browser factory for WebRtcMesh: simple-peer's prebuilt bundle (`simple-peer/simplepeer.min.js`
 * bundles with Vite; plain `simple-peer` needs Node globals, DESIGN.md "Platform facts") over the
 * browser's own RTCPeerConnection. No Node imports here or in what this file imports.
 */

import SimplePeer from 'simple-peer/simplepeer.min.js';
import type { CreatePeer, PeerLike } from './mesh.js';

export interface BrowserWebRtcOptions {
  /** STUN/TURN servers; none are needed on one machine or a LAN (DESIGN.md). */
  readonly iceServers?: RTCIceServer[];
}

/** A CreatePeer for WebRtcMesh in a browser. */
export function createBrowserPeerFactory(options: BrowserWebRtcOptions = {}): CreatePeer {
  const config: RTCConfiguration = { iceServers: options.iceServers ?? [] };
  return ({ initiator }) => new SimplePeer({ initiator, config, trickle: true }) as unknown as PeerLike;
}
