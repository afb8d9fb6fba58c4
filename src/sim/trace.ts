/**
 * A bounded trace of a simulation: the last lines in full (for reading a failure) and a digest
 * of every line (for "same seed, same run": two runs are identical iff their digests and counts
 * agree, without keeping millions of lines).
 */

import { assert } from '../core/assert.js';

/** Lines kept for reading: the tail of a failed run is what one reads; 10,000 lines of ~80 bytes
 *  is under a megabyte. */
export const TRACE_LINES_KEPT_MAX = 10_000;

export class TraceLog {
  private readonly kept: string[] = [];
  private readonly keptMax: number;
  private start = 0;
  private hash = 0x811c9dc5; // FNV-1a, 32 bits
  private count = 0;

  constructor(keptMax: number = TRACE_LINES_KEPT_MAX) {
    assert(Number.isInteger(keptMax) && keptMax >= 0, 'keptMax is a non-negative integer');
    assert(keptMax <= TRACE_LINES_KEPT_MAX, 'keptMax <= TRACE_LINES_KEPT_MAX');
    this.keptMax = keptMax;
  }

  record(line: string): void {
    for (let index = 0; index < line.length; index++) {
      this.hash ^= line.charCodeAt(index);
      this.hash = Math.imul(this.hash, 0x01000193);
    }
    this.hash ^= 0x0a; // a line separator, so ["ab", "c"] and ["a", "bc"] differ
    this.hash = Math.imul(this.hash, 0x01000193);
    this.count += 1;
    if (this.keptMax === 0) return;
    if (this.kept.length < this.keptMax) {
      this.kept.push(line);
    } else {
      this.kept[this.start] = line;
      this.start = (this.start + 1) % this.keptMax;
    }
  }

  /** Lines recorded in all. */
  lineCount(): number {
    return this.count;
  }

  /** The last lines kept, oldest first. */
  lines(): string[] {
    return [...this.kept.slice(this.start), ...this.kept.slice(0, this.start)];
  }

  /** The digest of every line recorded, with their count: equal for identical runs. */
  digest(): string {
    return `${this.count}:${(this.hash >>> 0).toString(16).padStart(8, '0')}`;
  }
}

/** A virtual time for traces: integers as they are, fractions to microseconds. */
export function formatTime(time: number): string {
  return Number.isInteger(time) ? String(time) : time.toFixed(3);
}
