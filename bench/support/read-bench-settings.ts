export interface BenchSettings {
  /** Measured seconds per cell (`BENCH_DURATION_S`, default 5). */
  durationS: number;
  /** Unmeasured seconds before each cell (`BENCH_WARMUP_S`, default 1). */
  warmupS: number;
  /** Repeats of every cell; figures are medians over them (`BENCH_REPEATS`, default 3). */
  repeats: number;
  /** Concurrencies measured (`BENCH_CONCURRENCY`, comma-separated, default 1,16,64). */
  concurrencies: number[];
  /** Sequential requests timed for first byte (`BENCH_TTFB_REQUESTS`, default 200). */
  firstByteRequests: number;
}

/**
 * The common benchmark settings from the environment, each checked: a bad value is an error
 * naming the variable, never a silent default.
 *
 * @example
 * const settings = readBenchSettings(process.env); // BENCH_DURATION_S=2 BENCH_REPEATS=1 for a quick look
 */
export function readBenchSettings(env: Readonly<Record<string, string | undefined>>): BenchSettings {
  return {
    durationS: readNumber(env, 'BENCH_DURATION_S', 5, { min: 1, integer: false }),
    warmupS: readNumber(env, 'BENCH_WARMUP_S', 1, { min: 0, integer: false }),
    repeats: readNumber(env, 'BENCH_REPEATS', 3, { min: 1, integer: true }),
    concurrencies: readList(env, 'BENCH_CONCURRENCY', [1, 16, 64]),
    firstByteRequests: readNumber(env, 'BENCH_TTFB_REQUESTS', 200, { min: 10, integer: true }),
  };
}

/** A number from the environment, checked: a bad value is an error naming the variable. */
export function readNumber(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  rule: { min: number; integer: boolean },
): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < rule.min || (rule.integer && !Number.isInteger(value))) {
    throw new Error(
      `${name}: must be ${rule.integer ? 'an integer' : 'a number'} of at least ${rule.min}, got "${text}"`,
    );
  }
  return value;
}

/** A comma-separated list of integers from 1 to `max`, checked like `readNumber`. */
export function readList(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number[],
  max = 1024,
): number[] {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 1 || value > max)) {
    throw new Error(`${name}: must be a comma-separated list of integers from 1 to ${max}, got "${text}"`);
  }
  return values;
}
