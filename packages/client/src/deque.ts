/**
 * A double-ended queue on a growable ring buffer: O(1) push and shift at both ends, no
 * `Array.prototype.shift` (which is O(n) on large arrays), and no allocation in steady state.
 *
 * @internal
 * @packageDocumentation
 */

const MIN_CAPACITY = 8;
const EMPTY: readonly unknown[] = Object.freeze([]);

/** @internal */
export class Deque<T> {
  /** Storage, allocated on first use (an idle client holds no array). */
  #items: (T | undefined)[] = EMPTY as (T | undefined)[];
  #head = 0;
  #length = 0;

  /** Number of items. */
  get length(): number {
    return this.#length;
  }

  /** Appends at the back. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** Inserts at the front. */
  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Removes and returns the front item. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    if (this.#length === 0) this.#head = 0;
    return item;
  }

  /** The front item, left in place. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The item at `index` from the front. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & (this.#items.length - 1)];
  }

  /** Removes every item and returns them front to back; shrinks the storage back. */
  drain(): T[] {
    const out = new Array<T>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
    this.clear();
    return out;
  }

  /** Removes every item and releases the storage. */
  clear(): void {
    this.#items = EMPTY as (T | undefined)[];
    this.#head = 0;
    this.#length = 0;
  }

  /** Keeps only the items for which `keep` returns true, in order. O(n). */
  filter(keep: (item: T) => boolean): void {
    const kept = this.drain().filter(keep);
    for (const item of kept) this.push(item);
  }

  #grow(): void {
    const old = this.#items;
    const capacity = old.length === 0 ? MIN_CAPACITY : old.length * 2;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}
