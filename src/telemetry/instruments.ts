import type { Metric, Registry } from 'prom-client';

// Hot-path counters and histograms. prom-client's own label children validate and hash their
// labels on every `inc`/`observe` (a string built per call), which the metrics-cost bench
// showed as a few percent of the gateway's CPU per request. These keep plain numbers per label
// set, resolved once, and hand prom-client the same `get()` shape as its Counter and Histogram,
// so the registry's text exposition and the cluster AggregatorRegistry (sum per series) treat
// them alike.

type Labels = Readonly<Record<string, string>>;

interface SeriesValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  values: SeriesValue[];
}

/** A label set's key, used only when a child is first resolved. */
function keyOf(labels: Labels): string {
  return Object.values(labels).join('\u0000');
}

abstract class Instrument<Child> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  readonly #children = new Map<string, Child>();

  constructor(registry: Registry, name: string, help: string) {
    this.name = name;
    this.help = help;
    // Sound at run time: the registry only calls `get()` and reads name, help and aggregator,
    // exactly as for the plain objects prom-client's own AggregatorRegistry registers.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The child of a label set, built on first use; callers cache it (per endpoint). */
  child(labels: Labels): Child {
    const key = keyOf(labels);
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.create(labels);
      this.#children.set(key, child);
    }
    return child;
  }

  protected get children(): IterableIterator<Child> {
    return this.#children.values();
  }

  protected abstract create(labels: Labels): Child;
}

export class CounterChild {
  readonly labels: Labels;
  value = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }

  inc(amount = 1): void {
    this.value += amount;
  }
}

export class FastCounter extends Instrument<CounterChild> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterChild {
    return new CounterChild(labels);
  }

  get(): MetricSnapshot {
    const values: SeriesValue[] = [];
    for (const child of this.children) values.push({ labels: { ...child.labels }, value: child.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A gauge without labels, summed across workers. */
export class FastGauge extends Instrument<CounterChild> {
  readonly type = 'gauge';
  readonly #value: CounterChild;

  constructor(registry: Registry, name: string, help: string) {
    super(registry, name, help);
    this.#value = this.child({});
  }

  inc(): void {
    this.#value.value += 1;
  }

  dec(): void {
    this.#value.value -= 1;
  }

  protected create(labels: Labels): CounterChild {
    return new CounterChild(labels);
  }

  get(): MetricSnapshot {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [{ labels: {}, value: this.#value.value }],
    };
  }
}

export class HistogramChild {
  readonly labels: Labels;
  readonly #bounds: readonly number[];
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] ?? Infinity)) index += 1;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class FastHistogram extends Instrument<HistogramChild> {
  readonly type = 'histogram';
  readonly #bounds: readonly number[];

  constructor(registry: Registry, name: string, help: string, bounds: readonly number[]) {
    super(registry, name, help);
    this.#bounds = bounds;
  }

  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.#bounds);
  }

  /** Prometheus' histogram series: cumulative `_bucket{le}`, then `_sum` and `_count`. */
  get(): MetricSnapshot {
    const values: SeriesValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const child of this.children) {
      let cumulative = 0;
      this.#bounds.forEach((bound, index) => {
        cumulative += child.counts[index] ?? 0;
        values.push({ labels: { ...child.labels, le: bound }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { ...child.labels, le: '+Inf' }, value: child.count, metricName: bucket });
      values.push({ labels: { ...child.labels }, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...child.labels }, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
