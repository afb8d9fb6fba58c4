/**
 * The window of append messages in flight to one follower (etcd's tracker/inflights.go): each
 * sent message is remembered by the index of its last entry and its payload bytes; an
 * acknowledgement of index i frees every message ending at or below i. The window is full at
 * `countMax` messages or `bytesMax` bytes (APPEND_MESSAGES_IN_FLIGHT_MAX, APPEND_BYTES_IN_FLIGHT_MAX).
 */

import { assert } from '../assert.js';

interface Inflight {
  readonly index: number;
  readonly bytes: number;
}

export class Inflights {
  private items: Inflight[] = [];
  private totalBytes = 0;

  constructor(
    readonly countMax: number,
    readonly bytesMax: number,
  ) {
    assert(Number.isInteger(countMax) && countMax > 0, 'inflights: countMax is a positive integer');
    assert(Number.isInteger(bytesMax) && bytesMax > 0, 'inflights: bytesMax is a positive integer');
  }

  get count(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** No more messages may be sent: the count or the byte budget is used up. */
  full(): boolean {
    return this.items.length >= this.countMax || this.totalBytes >= this.bytesMax;
  }

  /** Records a message whose last entry (or prevLogIndex, for an empty one) is `index`. Indexes
   *  never decrease; the window is not full. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights: add to a full window');
    const last = this.items[this.items.length - 1];
    assert(last === undefined || index >= last.index, 'inflights: indexes never decrease');
    assert(Number.isInteger(bytes) && bytes >= 0, 'inflights: bytes is a non-negative integer');
    this.items.push({ index, bytes });
    this.totalBytes += bytes;
  }

  /** Frees every message whose last entry is at or below `index` (acknowledged). */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.items.length && (this.items[freed] as Inflight).index <= index) {
      this.totalBytes -= (this.items[freed] as Inflight).bytes;
      freed += 1;
    }
    if (freed > 0) this.items = this.items.slice(freed);
    assert(this.totalBytes >= 0, 'inflights: bytes never negative');
  }

  reset(): void {
    this.items = [];
    this.totalBytes = 0;
  }
}
