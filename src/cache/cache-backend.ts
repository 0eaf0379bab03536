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
  clock: Clock;
}

/**
 * The in-process backend: an LRU bounded in bytes, with per-entry expiry on the injected clock.
 * An entry larger than the whole bound is not stored.
 *
 * @example
 * const backend = createMemoryCacheBackend({ maxBytes: 64 * 1024 * 1024, clock: createSystemClock() });
 */
export function createMemoryCacheBackend(options: MemoryCacheBackendOptions): CacheBackend {
  if (!Number.isInteger(options.maxBytes) || options.maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  const { clock } = options;
  // Entries are held as JSON text: their size is exact, and a caller mutating a returned
  // answer can never change what the next reader gets.
  const cache = new LRUCache<string, { json: string; expiresAt: number }>({
    maxSize: options.maxBytes,
    sizeCalculation: (value, key) => Buffer.byteLength(value.json) + key.length + 16,
  });
  return {
    get: async (key) => {
      const stored = cache.get(key);
      if (stored === undefined) return undefined;
      if (stored.expiresAt <= clock.now()) {
        cache.delete(key);
        return undefined;
      }
      return JSON.parse(stored.json) as CacheEntry;
    },
    set: async (key, entry) => {
      if (entry.expiresAt <= clock.now()) return;
      const json = JSON.stringify(entry);
      if (Buffer.byteLength(json) + key.length + 16 > options.maxBytes) return;
      cache.set(key, { json, expiresAt: entry.expiresAt });
    },
    delete: async (key) => {
      cache.delete(key);
    },
    stats: async () => ({ entries: cache.size, bytes: cache.calculatedSize }),
  };
}
