/**
 * Reads how long an upstream asked us to wait, from the headers providers actually send.
 * Precedence follows the most precise hint first: `retry-after-ms` (OpenAI, Azure),
 * `x-ms-retry-after-ms` (Azure), then `retry-after` (seconds, decimal seconds or an HTTP date).
 * Garbage values are skipped, never turned into NaN.
 *
 * @param headers - Response headers with lowercase keys.
 * @param now - The current time in ms since the epoch (for HTTP-date values).
 * @returns Milliseconds to wait (>= 0), or undefined when no usable hint is present.
 *
 * @example
 * parseRetryAfterMs({ 'retry-after': '2' }); // 2000
 * parseRetryAfterMs({ 'retry-after-ms': '150.5' }); // 150.5
 * parseRetryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }, Date.parse('Wed, 21 Oct 2015 07:27:58 GMT')); // 2000
 */
export function parseRetryAfterMs(
  headers: Readonly<Record<string, string | undefined>>,
  now: number = Date.now(),
): number | undefined {
  const millisecondsHint =
    parseNonNegativeNumber(headers['retry-after-ms']) ??
    parseNonNegativeNumber(headers['x-ms-retry-after-ms']);
  if (millisecondsHint !== undefined) return millisecondsHint;
  const retryAfter = headers['retry-after'];
  if (retryAfter === undefined) return undefined;
  const seconds = parseNonNegativeNumber(retryAfter);
  if (seconds !== undefined) return seconds * 1000;
  return parseHttpDateDelay(retryAfter, now);
}

const numberPattern = /^\s*\d+(\.\d+)?\s*$/;

function parseNonNegativeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !numberPattern.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

// An HTTP date must at least name a weekday or month to count: Date.parse accepts far too much ("1", "x 2").
const httpDatePattern =
  /^\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+\d|^\s*\d{1,2}[\s-](jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;

function parseHttpDateDelay(value: string, now: number): number | undefined {
  if (!httpDatePattern.test(value)) return undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now);
}

const durationPartPattern = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
const unitMilliseconds: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000001,
};

/**
 * Parses OpenAI's `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` values, Go-style
 * durations such as `6m0s`, `12ms`, `1.5s`, `1h2m3s`, into milliseconds.
 *
 * @returns Milliseconds, or undefined for anything that is not such a duration.
 *
 * @example
 * parseOpenAIResetDuration('6m0s'); // 360000
 * parseOpenAIResetDuration('12ms'); // 12
 * parseOpenAIResetDuration('soon'); // undefined
 */
export function parseOpenAIResetDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  durationPartPattern.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = durationPartPattern.exec(text); match !== null; match = durationPartPattern.exec(text)) {
    const amount = Number(match[1]);
    const unit = unitMilliseconds[match[2] ?? ''];
    if (!Number.isFinite(amount) || unit === undefined) return undefined;
    total += amount * unit;
    consumed = durationPartPattern.lastIndex;
  }
  if (consumed !== text.length) return undefined;
  return total;
}
