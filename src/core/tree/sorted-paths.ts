/**
 * A set of paths kept in sorted order (UTF-16 code unit order, as Array.prototype.sort), so that a
 * bounded scan can resume after the last path it saw even while paths come and go. Used for the
 * container and TTL nodes the leader sweeps (containers.ts). Insert and delete are O(n) moves of a
 * pointer array, which is fine for the few nodes of these kinds a tree holds.
 */

import { assert } from '../assert.js';

export class SortedPaths {
  private readonly items: string[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Index of the first item >= path. */
  private lowerBound(path: string): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.items[middle] as string) < path) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  has(path: string): boolean {
    return this.items[this.lowerBound(path)] === path;
  }

  add(path: string): void {
    const index = this.lowerBound(path);
    assert(this.items[index] !== path, `sorted paths: ${path} added twice`);
    this.items.splice(index, 0, path);
  }

  delete(path: string): void {
    const index = this.lowerBound(path);
    assert(this.items[index] === path, `sorted paths: ${path} deleted but absent`);
    this.items.splice(index, 1);
  }

  /** Up to `count` paths strictly after `after` (from the start when null). */
  after(after: string | null, count: number): string[] {
    assert(Number.isInteger(count) && count >= 0, 'sorted paths: count is a non-negative integer');
    let start = 0;
    if (after !== null) {
      start = this.lowerBound(after);
      if (this.items[start] === after) start += 1;
    }
    return this.items.slice(start, start + count);
  }
}
