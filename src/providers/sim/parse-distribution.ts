import type { Random } from './create-random.ts';

/** A latency distribution in milliseconds. */
export type Distribution =
  | { distribution: 'fixed'; ms: number }
  | { distribution: 'uniform'; min: number; max: number }
  | { distribution: 'normal'; mean: number; stddev: number }
  | { distribution: 'lognormal'; median: number; sigma: number };

/** No sampled delay exceeds ten minutes, whatever the tail of the distribution. */
const maxDelayMs = 600_000;

const callPattern = /^(uniform|normal|lognormal)\(\s*([^,()\s]+)\s*,\s*([^,()\s]+)\s*\)$/;

/**
 * Parses a latency written as text: `50` (fixed ms), `uniform(10,50)`, `normal(200,40)`
 * (mean, standard deviation) or `lognormal(200,0.5)` (median ms, sigma of the log).
 * Throws an Error whose message says what is wrong.
 *
 * @example
 * parseDistribution('uniform(10,50)'); // { distribution: 'uniform', min: 10, max: 50 }
 */
export function parseDistribution(text: string): Distribution {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return checkDistribution({ distribution: 'fixed', ms: Number(trimmed) });
  const match = callPattern.exec(trimmed);
  if (match === null) {
    throw new Error(
      `'${text}' is not a latency: use milliseconds (50), uniform(min,max), normal(mean,stddev) or lognormal(median,sigma)`,
    );
  }
  const [, name, first = '', second = ''] = match;
  const a = parseNumber(first, text);
  const b = parseNumber(second, text);
  if (name === 'uniform') return checkDistribution({ distribution: 'uniform', min: a, max: b });
  if (name === 'normal') return checkDistribution({ distribution: 'normal', mean: a, stddev: b });
  return checkDistribution({ distribution: 'lognormal', median: a, sigma: b });
}

function parseNumber(text: string, whole: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`'${text}' in '${whole}' is not a non-negative number`);
  return Number(text);
}

/** Rejects parameters that make no sense (max below min, zero median…). */
export function checkDistribution(value: Distribution): Distribution {
  switch (value.distribution) {
    case 'fixed':
      break;
    case 'uniform':
      if (value.max < value.min)
        throw new Error(`uniform(${value.min},${value.max}): max must be at least min`);
      break;
    case 'normal':
      break;
    case 'lognormal':
      if (value.median <= 0)
        throw new Error(`lognormal(${value.median},${value.sigma}): the median must be positive`);
      break;
  }
  return value;
}

/** Draws one delay in milliseconds (never negative, capped at ten minutes). */
export function sampleDistribution(value: Distribution, random: Random): number {
  let ms: number;
  switch (value.distribution) {
    case 'fixed':
      ms = value.ms;
      break;
    case 'uniform':
      ms = value.min + random.next() * (value.max - value.min);
      break;
    case 'normal':
      ms = value.mean + value.stddev * random.normal();
      break;
    case 'lognormal':
      ms = value.median * Math.exp(value.sigma * random.normal());
      break;
  }
  return Math.min(maxDelayMs, Math.max(0, Math.round(ms)));
}

/** The distribution written back as text, for messages and the README's examples. */
export function formatDistribution(value: Distribution): string {
  switch (value.distribution) {
    case 'fixed':
      return String(value.ms);
    case 'uniform':
      return `uniform(${value.min},${value.max})`;
    case 'normal':
      return `normal(${value.mean},${value.stddev})`;
    case 'lognormal':
      return `lognormal(${value.median},${value.sigma})`;
  }
}
