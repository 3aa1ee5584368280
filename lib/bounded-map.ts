/**
 * A Map for in-memory caches that are cheap to refill: past `maxEntries` entries, or past
 * `maxWeight` in all (`weigh` of each value), it starts over rather than tracking recency.
 */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();
  #weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight = Infinity,
    private readonly weigh: (value: V) => number = () => 0,
  ) {}

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(value);
    if (this.#map.size >= this.maxEntries || this.#weight + weight > this.maxWeight) this.clear();
    this.#map.set(key, value);
    this.#weight += weight;
  }

  delete(key: K): void {
    const old = this.#map.get(key);
    if (old === undefined) return;
    this.#map.delete(key);
    this.#weight -= this.weigh(old);
  }

  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }

  values(): IterableIterator<V> {
    return this.#map.values();
  }

  get size(): number {
    return this.#map.size;
  }
}
