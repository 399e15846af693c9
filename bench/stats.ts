/** Percentiles of a sample of durations, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** Collects durations without allocating per sample. */
export class Samples {
  #values = new Float64Array(1024);
  #length = 0;

  add(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length] = value;
    this.#length += 1;
  }

  get length(): number {
    return this.#length;
  }

  summary(): LatencySummary {
    const sorted = this.#values.slice(0, this.#length).sort();
    const count = sorted.length;
    if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, mean: 0, max: 0 };
    let total = 0;
    for (const value of sorted) total += value;
    return {
      count,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      mean: round(total / count),
      max: round(sorted[count - 1] ?? 0),
    };
  }
}

/** Nearest-rank percentile of an ascending sample. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return round(sorted[rank - 1] ?? 0);
}

/** Microsecond precision is all the measurement carries. */
export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** `value ÷ base`, or null when the base is 0 (nothing to compare against). */
export function ratio(value: number, base: number): number | null {
  return base > 0 ? round(value / base) : null;
}

/** One path minus another (e.g. gateway minus direct), percentile by percentile. */
export function added(gateway: LatencySummary, direct: LatencySummary): { p50: number; p99: number } {
  return { p50: round(gateway.p50 - direct.p50), p99: round(gateway.p99 - direct.p99) };
}
