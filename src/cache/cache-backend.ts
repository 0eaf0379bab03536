import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/index.ts';
import type { CacheEntry } from './cached-answer.ts';

/**
 * Where exact-cache entries live. Async so that a Redis backend fits the same interface; the
 * in-memory one answers synchronously under the hood. Keys are short hashes (see createCacheKey).
 */
export interface CacheBackend {
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores an entry until `entry.expiresAt`. */
  set(key: string, entry: CacheEntry): Promise<void>;
  delete(key: string): Promise<void>;
  /** Current size, for metrics: entries and bytes held. */
  stats(): Promise<{ entries: number; bytes: number }>;
}

export interface MemoryCacheBackendOptions {
  /** Upper bound of the bytes held (keys + JSON of entries); least recently used entries go first. */
  maxBytes: number;
  /**
   * Upper bound of the bytes one tenant's entries may hold: past it, that tenant's own least
   * recently used entries go first, so one busy tenant cannot flush everyone else's. Default
   * `maxBytes` (no per-tenant bound).
   */
  maxBytesPerTenant?: number | undefined;
  clock: Clock;
}

interface Stored {
  json: string;
  expiresAt: number;
  tenant: string;
  size: number;
}

/**
 * The in-process backend: an LRU bounded in bytes in all and, optionally, per tenant, with
 * per-entry expiry on the injected clock. An entry larger than a bound is not stored.
 *
 * @example
 * const backend = createMemoryCacheBackend({ maxBytes: 64 * 1024 * 1024, maxBytesPerTenant: 16 * 1024 * 1024, clock: createSystemClock() });
 */
export function createMemoryCacheBackend(options: MemoryCacheBackendOptions): CacheBackend {
  if (!Number.isInteger(options.maxBytes) || options.maxBytes < 1)
    throw new RangeError('maxBytes must be a positive integer');
  const perTenant = options.maxBytesPerTenant ?? options.maxBytes;
  if (!Number.isInteger(perTenant) || perTenant < 1)
    throw new RangeError('maxBytesPerTenant must be a positive integer');
  const { clock } = options;
  // Each tenant's keys, least recently used first (a Map keeps insertion order), and their bytes.
  const tenants = new Map<string, { keys: Map<string, number>; bytes: number }>();
  // Entries are held as JSON text: their size is exact, and a caller mutating a returned
  // answer can never change what the next reader gets.
  const cache = new LRUCache<string, Stored>({
    maxSize: options.maxBytes,
    sizeCalculation: (value) => value.size,
    // Every way an entry leaves (eviction, expiry, delete, overwrite) updates its tenant's share.
    dispose: (value, key) => {
      const share = tenants.get(value.tenant);
      if (share === undefined || share.keys.get(key) !== value.size) return;
      share.keys.delete(key);
      share.bytes -= value.size;
      if (share.keys.size === 0) tenants.delete(value.tenant);
    },
  });
  const touch = (tenant: string, key: string, size: number) => {
    const share = tenants.get(tenant);
    if (share === undefined) return;
    share.keys.delete(key);
    share.keys.set(key, size);
  };
  return {
    get: async (key) => {
      const stored = cache.get(key);
      if (stored === undefined) return undefined;
      if (stored.expiresAt <= clock.now()) {
        cache.delete(key);
        return undefined;
      }
      touch(stored.tenant, key, stored.size);
      return JSON.parse(stored.json) as CacheEntry;
    },
    set: async (key, entry) => {
      if (entry.expiresAt <= clock.now()) return;
      const json = JSON.stringify(entry);
      const size = Buffer.byteLength(json) + key.length + 16;
      if (size > options.maxBytes || size > perTenant) return;
      cache.delete(key);
      let share = tenants.get(entry.tenant);
      // Make room within the tenant's own share first, oldest of its entries first.
      while (share !== undefined && share.bytes + size > perTenant) {
        const oldest = share.keys.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
        share = tenants.get(entry.tenant);
      }
      share ??= { keys: new Map(), bytes: 0 };
      tenants.set(entry.tenant, share);
      share.keys.set(key, size);
      share.bytes += size;
      cache.set(key, { json, expiresAt: entry.expiresAt, tenant: entry.tenant, size });
    },
    delete: async (key) => {
      cache.delete(key);
    },
    stats: async () => ({ entries: cache.size, bytes: cache.calculatedSize }),
  };
}
