import { InvalidRequestError } from '../core/index.ts';

/** The request header carrying per-request cache directives. */
export const cacheControlHeader = 'x-pipewright-cache-control';
/** The response header telling what the cache did. */
export const cacheStatusHeader = 'x-pipewright-cache';

/** Values of the `x-pipewright-cache` response header: the call vocabulary's cache statuses. */
export { cacheStatuses, type CacheStatus } from '../spec/index.ts';

/**
 * Per-request cache directives:
 * - `noStore` (`no-store`): the answer is not written to the cache; reads still happen.
 * - `noCache` (`no-cache`): no cached answer is served (exact or semantic); the fresh answer is
 *   stored as usual and may be shared with an identical call already in flight.
 * - `forceRefresh` (`force-refresh`): like `no-cache`, and the call never joins one in flight: a
 *   new upstream call whose answer replaces the stored entry.
 * - `ttlSeconds` (`ttl=<seconds>`): store this answer for that long; an explicit TTL also opts
 *   the request in when the default policy would not cache it (for example temperature > 0).
 */
export interface CacheControl {
  noStore: boolean;
  noCache: boolean;
  forceRefresh: boolean;
  ttlSeconds?: number;
}

/** The longest TTL a request may ask for: 30 days. */
export const maxTtlSeconds = 30 * 24 * 3600;

const noDirectives: CacheControl = { noStore: false, noCache: false, forceRefresh: false };

/** A call without cache directives (shared, never changed). */
export const noCacheDirectives: Readonly<CacheControl> = Object.freeze({ ...noDirectives });

/**
 * Parses a `x-pipewright-cache-control` header value (or the library option of the same form):
 * comma-separated directives, case-insensitive. Unknown or repeated directives and bad TTLs are
 * errors naming the directive; an absent or blank value means no directive.
 *
 * @example
 * parseCacheControl('no-store, ttl=60'); // { noStore: true, noCache: false, forceRefresh: false, ttlSeconds: 60 }
 * parseCacheControl('nostore');          // throws InvalidRequestError: unknown directive "nostore"
 */
export function parseCacheControl(
  value: string | readonly string[] | undefined,
  param: string = cacheControlHeader,
): CacheControl {
  if (value === undefined) return { ...noDirectives };
  const text = typeof value === 'string' ? value : value.join(',');
  if (text.trim() === '') return { ...noDirectives };
  const control: CacheControl = { ...noDirectives };
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const directive = raw.trim().toLowerCase();
    const fail = (message: string): never => {
      throw new InvalidRequestError({
        message: `${param}: ${message}`,
        param,
        details: { directive: raw.trim() },
      });
    };
    if (directive === '') fail('empty directive (stray comma)');
    const name = directive.split('=', 1)[0]?.trim() ?? '';
    if (seen.has(name)) fail(`directive "${name}" is repeated`);
    seen.add(name);
    if (directive === 'no-store') control.noStore = true;
    else if (directive === 'no-cache') control.noCache = true;
    else if (directive === 'force-refresh') control.forceRefresh = true;
    else if (name === 'ttl') {
      const seconds = directive.slice(directive.indexOf('=') + 1).trim();
      if (!directive.includes('=') || !/^[0-9]+$/.test(seconds))
        fail(`directive "${raw.trim()}": ttl must be a whole number of seconds, as in ttl=300`);
      const ttl = Number(seconds);
      if (ttl < 1 || ttl > maxTtlSeconds)
        fail(`directive "${raw.trim()}": ttl must be between 1 and ${maxTtlSeconds} seconds`);
      control.ttlSeconds = ttl;
    } else
      fail(`unknown directive "${raw.trim()}" (expected no-store, no-cache, force-refresh or ttl=<seconds>)`);
  }
  if (control.noStore && control.ttlSeconds !== undefined) {
    throw new InvalidRequestError({ message: `${param}: no-store and ttl= contradict each other`, param });
  }
  return control;
}
