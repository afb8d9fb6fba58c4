/**
 * Test support for the relay tests: a raw `ws` socket with an inbox that tests await frame by frame,
 * with a deadline on every wait so a missing frame fails the test instead of hanging it.
 */

import { WebSocket, type ClientOptions } from 'ws';
import { RELAY_PROTOCOL_VERSION } from './constants.js';

/** How long a test waits for one expected frame or close. */
export const PROBE_WAIT_MS = 3_000;

export interface Closed {
  code: number;
  reason: string;
}

export class Probe {
  private readonly inbox: Array<string | Uint8Array> = [];
  private wake: (() => void) | null = null;
  private closedWith: Closed | null = null;
  readonly closed: Promise<Closed>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      this.inbox.push(isBinary ? new Uint8Array(bytes) : bytes.toString('utf8'));
      this.wake?.();
    });
    ws.on('error', () => {
      // The close event that follows carries what the tests check.
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString('utf8') };
        resolve(this.closedWith);
        this.wake?.();
      });
    });
  }

  static open(url: string, options?: ClientOptions): Promise<Probe> {
    const ws = new WebSocket(url, options);
    const probe = new Probe(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(probe));
      ws.once('error', reject);
    });
  }

  /** Opens a socket and joins; resolves with the `list` the relay answered. */
  static async joined(url: string, room: string, peer: string, options?: ClientOptions): Promise<{ probe: Probe; peers: string[] }> {
    const probe = await Probe.open(url, options);
    probe.json({ type: 'join', room, peer });
    const list = await probe.nextJson();
    if (list.type !== 'list' || !Array.isArray(list.peers)) throw new Error(`expected a list, got ${JSON.stringify(list)}`);
    return { probe, peers: list.peers as string[] };
  }

  /** Sends a versioned JSON message. */
  json(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ v: RELAY_PROTOCOL_VERSION, ...message }));
  }

  raw(data: string | Uint8Array, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async next(waitMs = PROBE_WAIT_MS): Promise<string | Uint8Array> {
    const deadline = Date.now() + waitMs;
    while (this.inbox.length === 0) {
      if (this.closedWith !== null) throw new Error(`socket closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting for a frame`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${waitMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    return this.inbox.shift() as string | Uint8Array;
  }

  async nextJson(waitMs = PROBE_WAIT_MS): Promise<Record<string, unknown>> {
    const frame = await this.next(waitMs);
    if (typeof frame !== 'string') throw new Error('expected a text frame, got binary');
    return JSON.parse(frame) as Record<string, unknown>;
  }

  async nextBinary(waitMs = PROBE_WAIT_MS): Promise<Uint8Array> {
    const frame = await this.next(waitMs);
    if (typeof frame === 'string') throw new Error(`expected a binary frame, got ${frame}`);
    return frame;
  }

  /** Resolves when nothing arrives for `quietMs` (fails if something does). */
  async silent(quietMs = 150): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (this.inbox.length > 0) throw new Error(`unexpected frame: ${String(this.inbox[0])}`);
  }

  /** A ping round trip: proves the socket is open and its frames still flow. */
  async roundTrip(): Promise<void> {
    this.json({ type: 'ping' });
    const pong = await this.nextJson();
    if (pong.type !== 'pong') throw new Error(`expected pong, got ${JSON.stringify(pong)}`);
  }

  async closedWithin(waitMs = PROBE_WAIT_MS): Promise<Closed> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${waitMs} ms`)), waitMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Polls `condition` until it holds or `waitMs` passes. */
export async function eventually(condition: () => boolean, what: string, waitMs = PROBE_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${waitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
