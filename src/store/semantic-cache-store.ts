import type { SemanticCachePersistence } from '../cache/index.ts';

/**
 * The semantic cache's entries (request text, embedding, answer), so its HNSW indexes survive a
 * restart: the cache calls `save`/`delete` as it stores and evicts, and `restore()` reads
 * `loadAll` at start. Implements the cache's `SemanticCachePersistence` (a type the store
 * implements, as it does telemetry's call-record sink).
 *
 * @example
 * const semantic = createSemanticCache({ embedder, clock, persistence: store.semanticCache });
 * await semantic.restore();
 */
export interface SemanticCacheStore extends SemanticCachePersistence {
  /** Drops every entry with `expiresAt <= now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}
