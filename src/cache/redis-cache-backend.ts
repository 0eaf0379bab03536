import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheBackend } from './cache-backend.ts';
import type { CacheEntry } from './cached-answer.ts';
import { createRedisConnection, redactRedisUrl, type Clock } from '../core/index.ts';

/** The parts of a pino logger this needs. */
export interface CacheStoreLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisCacheBackendOptions {
  /** `redis://host:6379/0` (or `rediss://`). */
  url: string;
  /** Prefix of every key: entries are `${keyPrefix}cache:${key}`. Default `pipewright:`. */
  keyPrefix?: string | undefined;
  /** Expiry is computed on this clock (`entry.expiresAt - clock.now()`), and checked again on reads. */
  clock: Clock;
  logger?: CacheStoreLogger | undefined;
  /** Where `pipewright_cache_store_degraded` and `pipewright_cache_store_fallbacks_total` go (`/metrics`). */
  registry?: Registry | undefined;
  /** Longest wait for Redis on one call, once connected, before it counts as a miss. Default 250 ms. */
  commandTimeoutMs?: number | undefined;
  /**
   * Longest wait for the connection to Redis (TCP connect and handshake): the first calls after
   * start wait for it rather than miss and drop their writes. Default 2,000 ms.
   */
  connectTimeoutMs?: number | undefined;
  /** Entries whose JSON is larger are not stored (Redis's maxmemory bounds the total). Default 1 MiB. */
  maxEntryBytes?: number | undefined;
  /** While Redis is down, calls skip it and only one per interval tries again. Default 1,000 ms. */
  probeIntervalMs?: number | undefined;
  /** Longest pause between two reconnection tries while Redis is down. Default 2,000 ms. */
  maxReconnectDelayMs?: number | undefined;
}

/** The exact cache's backend in Redis, shared by every gateway process that uses the same URL and prefix. */
export interface RedisCacheBackend extends CacheBackend {
  /** True while Redis is unreachable (reads miss, writes are dropped). */
  degraded(): boolean;
  /** Closes the Redis connection; later calls miss and write nothing. */
  close(): Promise<void>;
}

export const defaultMaxEntryBytes = 1024 * 1024;

/**
 * An exact-cache backend in Redis: an answer cached by one gateway process is served by all of
 * them. Each entry is its JSON under `${keyPrefix}cache:${key}` with a PX expiry. Redis failing
 * never fails a call: a read misses and a write is dropped (each counted in
 * `pipewright_cache_store_fallbacks_total`), the outage is logged once and shown in
 * `pipewright_cache_store_degraded`, and the recovery is logged once. While degraded, calls skip
 * Redis except one probe per `probeIntervalMs`, so a hanging Redis does not cost every call its timeout.
 *
 * `stats()` is approximate by design (counting one prefix's keys would need a SCAN of the whole
 * keyspace): it reports the Redis database's key count (DBSIZE, every prefix) and `used_memory`,
 * and zeros while Redis is unreachable.
 *
 * @example
 * const backend = createRedisCacheBackend({ url: 'redis://127.0.0.1:6379', keyPrefix: 'pipewright:', clock, logger, registry: metrics.registry });
 * const exact = createExactCache({ backend, clock, policy: config.cache });
 * await backend.close();
 */
export function createRedisCacheBackend(options: RedisCacheBackendOptions): RedisCacheBackend {
  const { clock, logger } = options;
  const prefix = `${options.keyPrefix ?? 'pipewright:'}cache:`;
  const maxEntryBytes = options.maxEntryBytes ?? defaultMaxEntryBytes;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 250;
  if (!Number.isInteger(maxEntryBytes) || maxEntryBytes < 1)
    throw new RangeError('maxEntryBytes must be a positive integer');
  if (!(commandTimeoutMs > 0)) throw new RangeError('commandTimeoutMs must be positive');
  const connection = createRedisConnection({
    url: options.url,
    commandTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxReconnectDelayMs: options.maxReconnectDelayMs,
  });
  const degradedGauge = registeredMetric(options.registry, 'pipewright_cache_store_degraded', (registers) => {
    const gauge = new Gauge({
      name: 'pipewright_cache_store_degraded',
      help: '1 while the exact cache cannot reach Redis (reads miss, writes are dropped)',
      registers,
    });
    gauge.set(0);
    return gauge;
  });
  const fallbacks = registeredMetric(
    options.registry,
    'pipewright_cache_store_fallbacks_total',
    (registers) =>
      new Counter({
        name: 'pipewright_cache_store_fallbacks_total',
        help: 'Exact-cache calls answered without Redis (a miss, or a dropped write) because Redis was unreachable',
        registers,
      }),
  );
  let degraded = false;
  let closed = false;
  let nextProbeAt = 0;

  async function use<T>(call: (redis: Redis) => Promise<T>, fallback: T): Promise<T> {
    if (closed) return fallback;
    if (degraded && clock.monotonic() < nextProbeAt) {
      fallbacks?.inc();
      return fallback;
    }
    try {
      const result = await call(await connection.client());
      if (degraded) {
        degraded = false;
        degradedGauge?.set(0);
        logger?.info(
          { redis: redactRedisUrl(options.url) },
          'exact cache: Redis is back; answers are shared again',
        );
      }
      return result;
    } catch (error) {
      if (closed) return fallback;
      fallbacks?.inc();
      nextProbeAt = clock.monotonic() + probeIntervalMs;
      if (!degraded) {
        degraded = true;
        degradedGauge?.set(1);
        logger?.warn(
          { err: error, redis: redactRedisUrl(options.url) },
          'exact cache: Redis is unreachable; every lookup misses until it is back',
        );
      }
      return fallback;
    }
  }

  return {
    get: (key) =>
      use(async (redis) => {
        const json = await redis.get(prefix + key);
        if (json === null) return undefined;
        const entry = parseEntry(json);
        // Redis expires on its own clock; the injected one decides too, as in the memory backend.
        if (entry === undefined || entry.expiresAt <= clock.now()) return undefined;
        return entry;
      }, undefined),
    set: async (key, entry) => {
      const ttlMs = Math.ceil(entry.expiresAt - clock.now());
      if (!(ttlMs > 0)) return;
      const json = JSON.stringify(entry);
      if (Buffer.byteLength(json) > maxEntryBytes) return;
      await use(async (redis) => {
        await redis.set(prefix + key, json, 'PX', ttlMs);
      }, undefined);
    },
    delete: (key) =>
      use(async (redis) => {
        await redis.del(prefix + key);
      }, undefined),
    stats: () =>
      use(
        async (redis) => {
          const [entries, memory] = await Promise.all([redis.dbsize(), redis.info('memory')]);
          const bytes = Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? 0);
          return { entries, bytes };
        },
        { entries: 0, bytes: 0 },
      ),
    degraded: () => degraded,
    async close() {
      closed = true;
      await connection.close();
    },
  };
}

/** A cache entry from stored JSON, or undefined when it is not one (a foreign or corrupt value). */
function parseEntry(json: string): CacheEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Partial<CacheEntry>;
  if (
    typeof entry.expiresAt !== 'number' ||
    typeof entry.createdAt !== 'number' ||
    typeof entry.tenant !== 'string' ||
    typeof entry.answer !== 'object' ||
    entry.answer === null
  )
    return undefined;
  return entry as CacheEntry;
}

/** The registry's metric of that name, created once: two backends on one registry share it. */
function registeredMetric<T extends Gauge | Counter>(
  registry: Registry | undefined,
  name: string,
  create: (registers: Registry[]) => T,
): T | undefined {
  if (registry === undefined) return undefined;
  return (registry.getSingleMetric(name) as T | undefined) ?? create([registry]);
}
