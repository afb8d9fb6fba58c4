/**
 * A token bucket: `capacity` tokens, refilled at `ratePerSecond`, taken per frame or per byte. Time
 * comes in as an argument (milliseconds from any monotonic clock), so tests drive it exactly.
 * Browser-safe (the client uses it to stay under the relay's caps).
 */

import { assert } from '../core/assert.js';

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    nowMs: number,
  ) {
    assert(Number.isFinite(ratePerSecond) && ratePerSecond > 0, 'token bucket rate is positive');
    assert(Number.isFinite(capacity) && capacity >= 1, 'token bucket capacity is at least 1');
    assert(Number.isFinite(nowMs), 'token bucket time is finite');
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes `cost` tokens if the bucket holds them (after refilling up to `nowMs`). A clock that
   *  steps back refills nothing. A cost above the capacity can never be paid. */
  take(nowMs: number, cost = 1): boolean {
    assert(cost >= 0, 'token cost is not negative');
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}
