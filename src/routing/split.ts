/** One destination of a TRAFFIC_SPLIT route and its share of the traffic, in percent. */
export interface Weighted<T> {
  readonly value: T;
  readonly weight: number;
}

/**
 * Picks destinations by weight. The cumulative table is built once per config load; a pick
 * is one comparison per destination.
 */
export class WeightedChoice<T> {
  readonly #items: readonly Weighted<T>[];
  readonly #cumulative: readonly number[];
  readonly #total: number;

  constructor(items: readonly Weighted<T>[]) {
    this.#items = items;
    let total = 0;
    this.#cumulative = items.map((item) => (total += item.weight));
    this.#total = total;
  }

  /**
   * The destinations to try, in order: the one `random` (in [0, 1)) picks first, then every
   * other destination with a share, in listed order, for when the first has no room.
   */
  order(random: number): T[] {
    const target = random * this.#total;
    let picked = this.#cumulative.findIndex((bound) => target < bound);
    if (picked === -1) picked = this.#items.findLastIndex((item) => item.weight > 0);
    const first = this.#items[picked];
    if (first === undefined) return [];
    const rest = this.#items.filter((item, index) => index !== picked && item.weight > 0);
    return [first.value, ...rest.map((item) => item.value)];
  }
}
