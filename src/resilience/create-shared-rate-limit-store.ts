import { Counter, Gauge, type Registry } from 'prom-client';
import { createRedisConnection, redactRedisUrl, type Clock } from '../core/index.ts';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limiter.ts';
import { createRedisRateLimitStore } from './redis-rate-limit-store.ts';

/** The parts of a pino logger this needs. */
export interface StoreLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface FallbackRateLimitStoreOptions {
  /** The shared store (Redis). */
  primary: RateLimitStore;
  /** Used while the shared one fails (in-process counters). */
  fallback: RateLimitStore;
  clock: Clock;
  /** While degraded, how often a call tries the shared store again. Default 1,000 ms. */
  probeIntervalMs?: number | undefined;
  /** Called once when the shared store starts failing (not on every failed call). */
  onDegraded?: ((error: unknown) => void) | undefined;
  /** Called once when the shared store answers again. */
  onRecovered?: (() => void) | undefined;
}

/**
 * A store that uses the shared one and survives its failures: when it throws (Redis down, a
 * timeout), calls go to the in-process fallback (limits then hold per process, not across them)
 * and the shared store is tried again every `probeIntervalMs`, so limits are shared again as soon
 * as it is back. A rate limiter never takes the gateway down with it.
 *
 * @example
 * const store = createFallbackRateLimitStore({ primary: redisStore, fallback: createMemoryRateLimitStore({ clock }), clock, onDegraded: (e) => log.warn({ err: e }, 'redis down') });
 */
export function createFallbackRateLimitStore(
  options: FallbackRateLimitStoreOptions,
): RateLimitStore & { /** True while calls go to the fallback. */ degraded(): boolean } {
  const { primary, fallback, clock } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  let degraded = false;
  let nextProbeAt = 0;

  async function use<T>(call: (store: RateLimitStore) => Promise<T>): Promise<T> {
    if (degraded && clock.monotonic() < nextProbeAt) return call(fallback);
    try {
      const result = await call(primary);
      if (degraded) {
        degraded = false;
        options.onRecovered?.();
      }
      return result;
    } catch (error) {
      nextProbeAt = clock.monotonic() + probeIntervalMs;
      if (!degraded) {
        degraded = true;
        options.onDegraded?.(error);
      }
      return call(fallback);
    }
  }

  return {
    consume: (key, amount, limit, windowMs) => use((store) => store.consume(key, amount, limit, windowMs)),
    adjust: (key, delta, windowMs) => use((store) => store.adjust(key, delta, windowMs)),
    degraded: () => degraded,
  };
}

export interface SharedRateLimitStoreOptions {
  /** `redis://host:6379/0` (or `rediss://`). */
  url: string;
  /** Prefix of every key (each expires after two windows). Default `pipewright:`. */
  keyPrefix?: string | undefined;
  clock: Clock;
  logger?: StoreLogger | undefined;
  /** Where the degradation gauge and counter go (`/metrics`). */
  registry?: Registry | undefined;
  /** Longest wait for Redis on one call before falling back. Default 500 ms. */
  commandTimeoutMs?: number | undefined;
  probeIntervalMs?: number | undefined;
  /** Longest pause between two reconnection tries while Redis is down. Default 2,000 ms. */
  maxReconnectDelayMs?: number | undefined;
}

/** A rate-limit store shared through Redis, falling back to in-process counters while Redis is unreachable. */
export interface SharedRateLimitStore {
  store: RateLimitStore;
  degraded(): boolean;
  /** Closes the Redis connection (if one was opened). */
  close(): Promise<void>;
}

/**
 * The rate-limit store of the `redis` configuration key: counters in Redis (so limits hold across
 * gateway processes), connected lazily on the first rate-limited call, with the in-process store
 * as a fallback while Redis is down (logged once per outage, counted in
 * `pipewright_rate_limit_store_fallbacks_total`, shown in `pipewright_rate_limit_store_degraded`).
 *
 * @example
 * const shared = createSharedRateLimitStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'pipewright:', clock, logger, registry: metrics.registry });
 * const engine = createEngine({ config, rateLimitStore: shared.store });
 * await shared.close();
 */
export function createSharedRateLimitStore(options: SharedRateLimitStoreOptions): SharedRateLimitStore {
  const { clock, logger } = options;
  const prefix = `${options.keyPrefix ?? 'pipewright:'}ratelimit:`;
  const connection = createRedisConnection({
    url: options.url,
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    maxReconnectDelayMs: options.maxReconnectDelayMs,
  });
  let shared: RateLimitStore | undefined;
  let closed = false;
  const degradedGauge =
    options.registry === undefined
      ? undefined
      : new Gauge({
          name: 'pipewright_rate_limit_store_degraded',
          help: '1 while rate limits use in-process counters because Redis is unreachable',
          registers: [options.registry],
        });
  const fallbacks =
    options.registry === undefined
      ? undefined
      : new Counter({
          name: 'pipewright_rate_limit_store_fallbacks_total',
          help: 'Times the rate limiter fell back from Redis to in-process counters',
          registers: [options.registry],
        });
  degradedGauge?.set(0);

  async function connect(): Promise<{ store: RateLimitStore }> {
    const redis = await connection.client();
    shared ??= createRedisRateLimitStore({ redis, prefix });
    return { store: shared };
  }

  const redisStore: RateLimitStore = {
    async consume(key, amount, limit, windowMs) {
      if (closed) throw new Error('the shared rate-limit store is closed');
      return (await connect()).store.consume(key, amount, limit, windowMs);
    },
    async adjust(key, delta, windowMs) {
      if (closed) throw new Error('the shared rate-limit store is closed');
      return (await connect()).store.adjust(key, delta, windowMs);
    },
  };

  const store = createFallbackRateLimitStore({
    primary: redisStore,
    fallback: createMemoryRateLimitStore({ clock }),
    clock,
    probeIntervalMs: options.probeIntervalMs,
    onDegraded(error) {
      degradedGauge?.set(1);
      fallbacks?.inc();
      logger?.warn(
        { err: error, redis: redactRedisUrl(options.url) },
        'rate limits: Redis is unreachable; using in-process counters (limits hold per process) until it is back',
      );
    },
    onRecovered() {
      degradedGauge?.set(0);
      logger?.info(
        { redis: redactRedisUrl(options.url) },
        'rate limits: Redis is back; limits are shared again',
      );
    },
  });

  return {
    store,
    degraded: store.degraded,
    async close() {
      closed = true;
      await connection.close();
    },
  };
}
