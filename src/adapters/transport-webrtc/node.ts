/**
 * The Node factory for WebRtcMesh: simple-peer over node-datachannel's WebRTC polyfill
 * (libdatachannel). Chosen by measurement (DESIGN.md "Platform facts"): node-datachannel carries
 * >100k small msgs/s at ~0.2 ms RTT on loopback, @roamhq/wrtc 5-15k msgs/s; scripts/measure-webrtc.ts
 * re-measures ours. Node only: browser code imports browser.ts instead.
 *
 * The polyfill needs three workarounds with simple-peer (DESIGN.md):
 *  - createOffer/createAnswer resolve to the polyfill's RTCSessionDescription, whose `sdp` has no
 *    setter; simple-peer assigns `offer.sdp = sdpTransform(offer.sdp)` and would throw. We return
 *    plain `{ type, sdp }` objects.
 *  - libdatachannel gathers no loopback candidates unless bound to one: pass `bindAddress:
 *    '127.0.0.1'` for single-machine runs (tests, the measurement, a loopback-only namespace).
 *  - node-datachannel's threads keep the process alive: call `cleanupNodeWebRtc()` once every mesh
 *    is closed (tests: afterAll; the edge CLI: on shutdown).
 */

import SimplePeer from 'simple-peer';
import { cleanup } from 'node-datachannel';
import * as polyfill from 'node-datachannel/polyfill';
import type { CreatePeer, PeerLike } from './mesh.js';

export interface NodeWebRtcOptions {
  /** The local address libdatachannel binds its ICE sockets to; '127.0.0.1' for loopback runs. */
  readonly bindAddress?: string;
  /** STUN/TURN servers; none on one machine or a LAN (DESIGN.md). */
  readonly iceServers?: RTCIceServer[];
}

type PolyfillConfiguration = ConstructorParameters<typeof polyfill.RTCPeerConnection>[0];

/** The `wrtc` object simple-peer takes: the polyfill with the workarounds above. */
export function nodeWrtc(options: NodeWebRtcOptions = {}): SimplePeer.Options['wrtc'] {
  class RTCPeerConnection extends polyfill.RTCPeerConnection {
    constructor(config?: RTCConfiguration) {
      const merged = { ...config, iceServers: options.iceServers ?? [] } as PolyfillConfiguration & { bindAddress?: string };
      if (options.bindAddress !== undefined) merged.bindAddress = options.bindAddress;
      super(merged);
    }

    override async createOffer(): Promise<RTCSessionDescriptionInit> {
      const description = (await super.createOffer()) as RTCSessionDescriptionInit;
      return { type: description.type, sdp: description.sdp ?? '' };
    }

    override async createAnswer(): Promise<RTCSessionDescriptionInit> {
      const description = (await super.createAnswer()) as RTCSessionDescriptionInit;
      return { type: description.type, sdp: description.sdp ?? '' };
    }
  }
  return {
    RTCPeerConnection: RTCPeerConnection as unknown as typeof globalThis.RTCPeerConnection,
    RTCSessionDescription: polyfill.RTCSessionDescription as unknown as typeof globalThis.RTCSessionDescription,
    RTCIceCandidate: polyfill.RTCIceCandidate as unknown as typeof globalThis.RTCIceCandidate,
  };
}

/** A CreatePeer for WebRtcMesh in Node. */
export function createNodePeerFactory(options: NodeWebRtcOptions = {}): CreatePeer {
  const wrtc = nodeWrtc(options);
  return ({ initiator }) => new SimplePeer({ initiator, wrtc, trickle: true }) as unknown as PeerLike;
}

/** Stops node-datachannel's threads (after every mesh is closed) so the process can exit. */
export function cleanupNodeWebRtc(): void {
  cleanup();
}
