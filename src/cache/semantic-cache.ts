import { hashValue, type Clock } from '../core/index.ts';
import type { ChatMessage, ChatRequest } from '../spec/index.ts';
import { selectAnswerFields, type CacheScope } from './cache-key.ts';
import type { AvoidedCost, CachedAnswer, CacheOrigin } from './cached-answer.ts';
import type { Embedder } from './embedder.ts';
import { createConceptNormalizer, type ConceptNormalizer } from './normalize-concepts.ts';
import { createPrecisionGuard, type GuardVerdict, type PrecisionGuard } from './precision-guard.ts';
import { createVectorIndex, type VectorIndex } from './vector-index.ts';

/** Per-lookup settings (from the resolved cache rule's `semantic` part). */
export interface SemanticSettings {
  threshold: number;
  guard: boolean;
  multiTurn: boolean;
  /**
   * Check candidates with the relaxed guard instead of the main one: for a degraded answer (every
   * route failed), where a close neighbour that passes the rule checks beats an error.
   */
  relaxed?: boolean;
}

/** One stored semantic entry as persistence hooks see it (JSON-serialisable). */
export interface SemanticCacheRecord {
  id: string;
  namespace: string;
  tenant: string;
  /** The request text as asked (the guard compares it; the index holds its vector). */
  text: string;
  vector: number[];
  answer: CachedAnswer;
  createdAt: number;
  expiresAt: number;
  avoided: AvoidedCost;
  /** Which deployment produced the answer (a hit still names it). */
  origin?: CacheOrigin;
}

/**
 * Where semantic entries are persisted (the store implements it). Vectors are saved with the
 * entries and the HNSW indexes are rebuilt from them at start by `restore()`.
 */
export interface SemanticCachePersistence {
  /** Inserts the record, or replaces the one with its id. */
  save(record: SemanticCacheRecord): Promise<void>;
  delete(id: string): Promise<void>;
  /** Every stored record, oldest `createdAt` first (so a restore rebuilds the LRU order). */
  loadAll(): Promise<SemanticCacheRecord[]>;
  /** Drops every record expired at `now` in one go; `restore()` calls it first when present. Returns how many. */
  deleteExpired?(now: number): Promise<number>;
}

export interface SemanticHit {
  hit: true;
  answer: CachedAnswer;
  avoided: AvoidedCost;
  origin?: CacheOrigin;
  /** Cosine similarity of the request to the stored one. */
  similarity: number;
  /**
   * 0–1: how far above the threshold the similarity is, weighted by the guard's content-word
   * overlap. A heuristic to rank and log hits, not a calibrated probability.
   */
  confidence: number;
  /** The stored request text that matched. */
  matchedText: string;
  ageMs: number;
}

export interface SemanticMiss {
  hit: false;
  /** Why: the request is not a single-turn text request, nothing is close enough, or the guard refused. */
  reason: 'not-eligible' | 'empty' | 'below-threshold' | 'guard';
  /** The guard's reason for the best refused neighbour. */
  guardReason?: GuardVerdict['reason'];
  bestSimilarity?: number;
  /** The request's embedding, reused by `store` so the text is embedded once. */
  vector?: Float32Array;
}

export interface SemanticCache {
  /** `vector`: the request's embedding from an earlier lookup (a miss returns it), so it is not embedded again. */
  lookup(
    scope: CacheScope,
    request: ChatRequest,
    settings: SemanticSettings,
    signal?: AbortSignal,
    vector?: Float32Array,
  ): Promise<SemanticHit | SemanticMiss>;
  /** Stores an answer; returns false when the request is not eligible. */
  store(
    scope: CacheScope,
    request: ChatRequest,
    answer: CachedAnswer,
    avoided: AvoidedCost,
    options: { ttlMs: number; multiTurn: boolean; vector?: Float32Array; origin?: CacheOrigin },
  ): Promise<boolean>;
  /** Loads persisted entries and rebuilds the indexes (expired entries are dropped). */
  restore(): Promise<number>;
  stats(): { entries: number; namespaces: number };
}

export interface SemanticCacheOptions {
  embedder: Embedder;
  clock: Clock;
  normalizer?: ConceptNormalizer;
  guard?: PrecisionGuard;
  /** The guard of `relaxed` lookups; default the rule guard (numbers, negations, names, content words). */
  relaxedGuard?: PrecisionGuard;
  /** Most entries in one namespace; the least recently used goes first. */
  maxEntriesPerNamespace?: number;
  /** Most entries in all. */
  maxEntries?: number;
  /** Most entries of one tenant (its least recently used go first); default `maxEntries`. */
  maxEntriesPerTenant?: number;
  persistence?: SemanticCachePersistence;
  /** Neighbours examined per lookup (the guard may refuse the nearest). */
  neighbours?: number;
}

/** Entries inserted between two yields to the event loop while restoring. */
const restoreSlice = 256;

interface Namespace {
  id: string;
  dimensions: number;
  index: VectorIndex;
  /** The namespace's entries by label, least recently used first (so its eviction is O(1)). */
  labels: Map<number, Entry>;
  nextLabel: number;
}

interface Entry {
  /** Without its vector: the index holds it, and a copy per entry would double the memory held. */
  record: Omit<SemanticCacheRecord, 'vector'>;
  namespace: Namespace;
  label: number;
}

/** A request's semantic query: the text to embed and the namespace it may match in. */
export interface SemanticQuery {
  text: string;
  namespace: string;
}

/**
 * The namespace and text of a request, or undefined when it cannot be served semantically: the
 * last message must be a user message of plain text; earlier messages must be system/developer
 * prompts unless `multiTurn`. The namespace hashes the tenant, step type, model group,
 * configuration, embedder and every answer-deciding field except the last user text (so the system
 * prompt, earlier turns, tools and sampling parameters must match exactly).
 *
 * @example
 * extractSemanticQuery(scope, request, 'local:use', false)?.text; // "How do I reset my password?"
 */
export function extractSemanticQuery(
  scope: CacheScope,
  request: ChatRequest,
  embedderId: string,
  multiTurn: boolean,
): SemanticQuery | undefined {
  const messages = request.messages;
  const last = messages.at(-1);
  if (last?.role !== 'user') return undefined;
  const text = textOf(last);
  if (text === undefined || text.trim() === '') return undefined;
  const earlier = messages.slice(0, -1);
  if (!multiTurn && earlier.some((message) => message.role !== 'system' && message.role !== 'developer'))
    return undefined;
  const { messages: _messages, ...rest } = selectAnswerFields(request);
  const namespace = hashValue({
    scope: {
      tenant: scope.tenant,
      stepType: scope.stepType,
      modelGroup: scope.modelGroup,
      configFingerprint: scope.configFingerprint,
    },
    embedderId,
    earlier,
    lastUserName: last.name,
    rest,
  });
  return { text, namespace };
}

/**
 * The semantic cache: per-namespace HNSW indexes over embeddings of concept-normalised request
 * texts, a similarity threshold, and the precision guard on every candidate.
 *
 * @example
 * const semantic = createSemanticCache({ embedder: createLocalEmbedder(), clock });
 * const result = await semantic.lookup(scope, request, { threshold: 0.85, guard: true, multiTurn: false });
 * if (!result.hit) await semantic.store(scope, request, answer, avoided, { ttlMs: 3_600_000, multiTurn: false, ...(result.vector ? { vector: result.vector } : {}) });
 */
// eslint-disable-next-line max-lines-per-function -- a factory: nine functions (lookup 59 lines, restore 47, insert 37, the rest under 30) sharing the namespace, entry and tenant tables
export function createSemanticCache(options: SemanticCacheOptions): SemanticCache {
  const { embedder, clock } = options;
  const normalizer = options.normalizer ?? createConceptNormalizer();
  const guard = options.guard ?? createPrecisionGuard(normalizer);
  const relaxedGuard = options.relaxedGuard ?? createPrecisionGuard(normalizer);
  const maxPerNamespace = options.maxEntriesPerNamespace ?? 10_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const maxPerTenant = options.maxEntriesPerTenant ?? maxEntries;
  const neighbours = options.neighbours ?? 8;
  const persistence = options.persistence;
  const namespaces = new Map<string, Namespace>();
  // Every entry by id, least recently used first (a Map keeps insertion order).
  const entries = new Map<string, Entry>();
  // Each tenant's entries in the same order, so a tenant over its bound evicts its own first.
  const tenants = new Map<string, Map<string, Entry>>();

  const namespaceFor = (id: string, dimensions: number): Namespace => {
    let namespace = namespaces.get(id);
    if (namespace === undefined) {
      namespace = {
        id,
        dimensions,
        index: createVectorIndex({ dimensions, initialCapacity: 64 }),
        labels: new Map(),
        nextLabel: 0,
      };
      namespaces.set(id, namespace);
    }
    return namespace;
  };

  const removeEntry = (entry: Entry): string => {
    entries.delete(entry.record.id);
    const own = tenants.get(entry.record.tenant);
    own?.delete(entry.record.id);
    if (own?.size === 0) tenants.delete(entry.record.tenant);
    entry.namespace.labels.delete(entry.label);
    entry.namespace.index.remove(entry.label);
    if (entry.namespace.labels.size === 0) namespaces.delete(entry.namespace.id);
    return entry.record.id;
  };

  // Both orders (global and the namespace's) move the entry to the most recently used end.
  const touch = (entry: Entry) => {
    entries.delete(entry.record.id);
    entries.set(entry.record.id, entry);
    const own = tenants.get(entry.record.tenant);
    own?.delete(entry.record.id);
    own?.set(entry.record.id, entry);
    entry.namespace.labels.delete(entry.label);
    entry.namespace.labels.set(entry.label, entry);
  };

  const insert = (record: SemanticCacheRecord, vector: Float32Array): string[] => {
    const namespace = namespaceFor(record.namespace, vector.length);
    const evicted: string[] = [];
    while (namespace.labels.size >= maxPerNamespace) {
      const oldest = namespace.labels.values().next().value;
      if (oldest === undefined) break;
      evicted.push(removeEntry(oldest));
    }
    for (
      let own = tenants.get(record.tenant);
      own !== undefined && own.size >= maxPerTenant;
      own = tenants.get(record.tenant)
    ) {
      const oldest = own.values().next().value;
      if (oldest === undefined) break;
      evicted.push(removeEntry(oldest));
    }
    while (entries.size >= maxEntries) {
      const oldest = entries.values().next().value;
      if (oldest === undefined) break;
      evicted.push(removeEntry(oldest));
    }
    // Eviction may have dropped the namespace: look it up again.
    const target = namespaceFor(record.namespace, vector.length);
    const label = target.nextLabel++;
    target.index.add(label, vector);
    const { vector: _vector, ...withoutVector } = record;
    const entry: Entry = { record: withoutVector, namespace: target, label };
    target.labels.set(label, entry);
    entries.set(record.id, entry);
    let own = tenants.get(record.tenant);
    if (own === undefined) {
      own = new Map();
      tenants.set(record.tenant, own);
    }
    own.set(record.id, entry);
    return evicted;
  };

  const embedOne = async (text: string, tenantId: string, signal?: AbortSignal): Promise<Float32Array> => {
    const [vector] = await embedder.embed([normalizer.normalize(text)], signal, tenantId);
    if (vector === undefined) throw new Error(`embedder ${embedder.id} returned no vector`);
    return vector;
  };

  return {
    lookup: async (scope, request, settings, signal, known) => {
      const query = extractSemanticQuery(scope, request, embedder.id, settings.multiTurn);
      if (query === undefined) return { hit: false, reason: 'not-eligible' };
      const vector = known ?? (await embedOne(query.text, scope.tenant, signal));
      const namespace = namespaces.get(query.namespace);
      if (namespace === undefined) return { hit: false, reason: 'empty', vector };
      const now = clock.now();
      let best: number | undefined;
      let refused: GuardVerdict['reason'];
      for (const neighbour of namespace.index.search(vector, neighbours)) {
        const entry = namespace.labels.get(neighbour.label);
        if (entry === undefined) continue;
        if (entry.record.expiresAt <= now) {
          removeEntry(entry);
          // Not awaited on the lookup path; a failing store must not become an unhandled rejection.
          persistence?.delete(entry.record.id).catch(() => undefined);
          continue;
        }
        // The namespace hashes the tenant already; the entry's own tenant is checked again anyway.
        if (entry.record.tenant !== scope.tenant) continue;
        best ??= neighbour.similarity;
        if (neighbour.similarity < settings.threshold) break;
        let overlap = 1;
        if (settings.guard) {
          const verdict = (settings.relaxed === true ? relaxedGuard : guard).check(
            query.text,
            entry.record.text,
            neighbour.similarity,
          );
          if (!verdict.ok) {
            refused ??= verdict.reason;
            continue;
          }
          overlap = verdict.overlap;
        }
        touch(entry);
        const margin =
          settings.threshold >= 1
            ? 1
            : (neighbour.similarity - settings.threshold) / (1 - settings.threshold);
        const confidence = Math.min(1, Math.max(0, (0.5 + 0.5 * margin) * (0.5 + 0.5 * overlap)));
        return {
          hit: true,
          answer: entry.record.answer,
          avoided: entry.record.avoided,
          ...(entry.record.origin === undefined ? {} : { origin: entry.record.origin }),
          similarity: neighbour.similarity,
          confidence,
          matchedText: entry.record.text,
          ageMs: Math.max(0, now - entry.record.createdAt),
        };
      }
      const miss: SemanticMiss = {
        hit: false,
        reason: refused === undefined ? 'below-threshold' : 'guard',
        vector,
      };
      if (refused !== undefined) miss.guardReason = refused;
      if (best !== undefined) miss.bestSimilarity = best;
      return miss;
    },

    store: async (scope, request, answer, avoided, storeOptions) => {
      const query = extractSemanticQuery(scope, request, embedder.id, storeOptions.multiTurn);
      if (query === undefined) return false;
      const vector = storeOptions.vector ?? (await embedOne(query.text, scope.tenant));
      const now = clock.now();
      const record: SemanticCacheRecord = {
        id: hashValue({ namespace: query.namespace, text: query.text }),
        namespace: query.namespace,
        tenant: scope.tenant,
        text: query.text,
        vector: Array.from(vector),
        answer,
        createdAt: now,
        expiresAt: now + storeOptions.ttlMs,
        avoided,
        ...(storeOptions.origin === undefined ? {} : { origin: storeOptions.origin }),
      };
      const previous = entries.get(record.id);
      if (previous !== undefined) removeEntry(previous);
      const evicted = insert(record, vector);
      await Promise.all([...evicted.map((id) => persistence?.delete(id)), persistence?.save(record)]);
      return true;
    },

    restore: async () => {
      if (persistence === undefined) return 0;
      const now = clock.now();
      if (persistence.deleteExpired !== undefined) await persistence.deleteExpired(now);
      const records = await persistence.loadAll();
      // Newest first, keep what the bounds let stay: adding an HNSW entry only to evict it again
      // is the slow part of a large restore. Expired, duplicate and unusable records are dropped.
      const ordered = records
        .map((record, position) => ({ record, position }))
        .sort((a, b) => b.record.createdAt - a.record.createdAt || b.position - a.position);
      const kept: SemanticCacheRecord[] = [];
      const dropped: string[] = [];
      const keptByNamespace = new Map<string, { count: number; dimensions: number }>();
      const keptByTenant = new Map<string, number>();
      const seenIds = new Set<string>();
      for (const { record } of ordered) {
        if (seenIds.has(record.id)) continue;
        seenIds.add(record.id);
        const namespace = keptByNamespace.get(record.namespace);
        const dimensions =
          namespaces.get(record.namespace)?.dimensions ?? namespace?.dimensions ?? record.vector.length;
        const usable = record.vector.length > 0 && record.vector.length === dimensions;
        const ofTenant = keptByTenant.get(record.tenant) ?? 0;
        if (
          record.expiresAt <= now ||
          !usable ||
          (namespace?.count ?? 0) >= maxPerNamespace ||
          ofTenant >= maxPerTenant ||
          kept.length >= maxEntries
        ) {
          dropped.push(record.id);
          continue;
        }
        keptByTenant.set(record.tenant, ofTenant + 1);
        keptByNamespace.set(record.namespace, { count: (namespace?.count ?? 0) + 1, dimensions });
        kept.push(record);
      }
      const evicted: string[] = [];
      for (let position = kept.length - 1; position >= 0; position -= 1) {
        // Building the index is CPU-bound (about 1 ms an entry at 100k): give the event loop back
        // regularly so a gateway restoring a large cache keeps serving (lookups see what is loaded).
        if (position % restoreSlice === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const record = kept[position]!;
        const previous = entries.get(record.id);
        // A store made while restoring is newer than its persisted record: keep it.
        if (previous !== undefined && previous.record.createdAt >= record.createdAt) continue;
        if (previous !== undefined) removeEntry(previous);
        evicted.push(...insert(record, Float32Array.from(record.vector)));
      }
      await Promise.all([...dropped, ...evicted].map((id) => persistence.delete(id)));
      return kept.length;
    },

    stats: () => ({ entries: entries.size, namespaces: namespaces.size }),
  };
}

function textOf(message: ChatMessage): string | undefined {
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return undefined;
  const texts: string[] = [];
  for (const part of message.content) {
    if (part.type !== 'text') return undefined;
    texts.push(part.text);
  }
  return texts.join('\n');
}
