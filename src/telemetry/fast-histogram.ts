import type { Metric, Registry } from 'prom-client';

/** One label combination of a FastHistogram: observing is a bucket search and three additions. */
export interface FastHistogramChild {
  observe(value: number): void;
}

export interface FastHistogram extends FastHistogramChild {
  /** The child for one label combination; bind it once and reuse it (a Map lookup per call otherwise). */
  labels(labels: Readonly<Record<string, string>>): FastHistogramChild;
}

export interface FastHistogramOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Upper bounds, ascending; `+Inf` is implicit. */
  buckets: readonly number[];
  registry: Registry;
}

interface Series {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram with prom-client's exposition (same names, labels and line order) but a
 * much cheaper `observe`: prom-client validates and hashes the labels and converts each bucket
 * bound to a property key on every observation, which showed up in the gateway's per-request CPU.
 * Label values are checked once, when a child is created.
 *
 * @example
 * const histogram = createFastHistogram({ name: 'x_seconds', help: 'X.', labelNames: ['route'], buckets: [0.1, 1], registry });
 * histogram.labels({ route: '/v1/chat/completions' }).observe(0.25);
 */
export function createFastHistogram(options: FastHistogramOptions): FastHistogram {
  const { name, help, registry } = options;
  const labelNames = options.labelNames ?? [];
  const bounds = Float64Array.from(options.buckets);
  for (let index = 1; index < bounds.length; index++) {
    if (!((bounds[index] ?? 0) > (bounds[index - 1] ?? 0)))
      throw new TypeError(`${name}: buckets must be ascending`);
  }
  const series = new Map<string, Series>();

  function seriesFor(labels: Readonly<Record<string, string>>): Series {
    for (const label of Object.keys(labels)) {
      if (!labelNames.includes(label)) throw new TypeError(`${name}: unknown label "${label}"`);
    }
    // The key is stable whatever order the caller wrote the labels in.
    const key = labelNames.map((label) => labels[label] ?? '').join('\u0001');
    let found = series.get(key);
    if (found === undefined) {
      found = { labels: { ...labels }, counts: new Float64Array(bounds.length), sum: 0, count: 0 };
      series.set(key, found);
    }
    return found;
  }

  /** Bumped by reset(): a child bound before it rebinds to a live series on its next observation. */
  let generation = 0;

  function childOf(labels: Readonly<Record<string, string>>): FastHistogramChild {
    let target = seriesFor(labels);
    let boundIn = generation;
    return {
      observe(value) {
        if (!Number.isFinite(value)) throw new TypeError(`${name}: value is not a valid number: ${value}`);
        if (boundIn !== generation) {
          target = seriesFor(target.labels);
          boundIn = generation;
        }
        record(target, value);
      },
    };
  }

  function record(entry: Series, value: number): void {
    entry.sum += value;
    entry.count += 1;
    for (let index = 0; index < bounds.length; index++) {
      if (value <= (bounds[index] ?? 0)) {
        entry.counts[index] = (entry.counts[index] ?? 0) + 1;
        return;
      }
    }
  }

  function exportValues(): ExportedValue[] {
    const values: ExportedValue[] = [];
    for (const entry of series.values()) {
      let cumulative = 0;
      for (let index = 0; index < bounds.length; index++) {
        cumulative += entry.counts[index] ?? 0;
        values.push({
          labels: { le: bounds[index] ?? 0 },
          sharedLabels: entry.labels,
          value: cumulative,
          metricName: `${name}_bucket`,
        });
      }
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: entry.labels,
          value: entry.count,
          metricName: `${name}_bucket`,
        },
        { labels: {}, sharedLabels: entry.labels, value: entry.sum, metricName: `${name}_sum` },
        { labels: {}, sharedLabels: entry.labels, value: entry.count, metricName: `${name}_count` },
      );
    }
    return values;
  }

  // The shape prom-client's Registry reads from its own metrics (`getForPromString` for text, `get` for JSON).
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    getForPromString: () =>
      Promise.resolve({ name, help, type: 'histogram', values: exportValues(), aggregator: 'sum' }),
    get: () =>
      Promise.resolve({
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: exportValues().map(({ labels, sharedLabels, value, metricName }) => ({
          labels: { ...labels, ...sharedLabels },
          value,
          metricName,
        })),
      }),
    reset: () => {
      series.clear();
      generation += 1;
    },
  };
  registry.registerMetric(metric as unknown as Metric);

  let unlabelled: FastHistogramChild | undefined;
  return {
    labels: childOf,
    observe(value) {
      unlabelled ??= childOf({});
      unlabelled.observe(value);
    },
  };
}
