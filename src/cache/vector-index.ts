import { createRequire } from 'node:module';
import type HnswLib from 'hnswlib-node';

// The native HNSW module is loaded on first use, so importing the cache folder stays cheap.
const requireModule = createRequire(import.meta.url);

export interface VectorNeighbour {
  label: number;
  /** Cosine similarity to the query. */
  similarity: number;
}

/** An approximate nearest-neighbour index over unit vectors (HNSW, cosine). */
export interface VectorIndex {
  add(label: number, vector: Float32Array): void;
  remove(label: number): void;
  /** Up to `k` nearest live vectors, most similar first. */
  search(vector: Float32Array, k: number): VectorNeighbour[];
  /** Live vectors. */
  size(): number;
}

export interface VectorIndexOptions {
  dimensions: number;
  /** Starting capacity; the index doubles as it fills. */
  initialCapacity?: number;
  /** HNSW graph degree and build/search breadth (hnswlib's M, efConstruction, ef). */
  m?: number;
  efConstruction?: number;
  efSearch?: number;
}

/**
 * An HNSW index from hnswlib-node. Removal marks the vector deleted and its slot is reused by the
 * next insertion, so the index does not grow with churn.
 *
 * @example
 * const index = createVectorIndex({ dimensions: 512 });
 * index.add(1, vector);
 * index.search(query, 5); // [{ label: 1, similarity: 0.97 }]
 */
export function createVectorIndex(options: VectorIndexOptions): VectorIndex {
  const { dimensions } = options;
  let capacity = Math.max(16, options.initialCapacity ?? 1024);
  const hnswlib = requireModule('hnswlib-node') as typeof HnswLib;
  const index = new hnswlib.HierarchicalNSW('cosine', dimensions);
  index.initIndex({
    maxElements: capacity,
    m: options.m ?? 16,
    efConstruction: options.efConstruction ?? 200,
    randomSeed: 42,
    allowReplaceDeleted: true,
  });
  const efSearch = options.efSearch ?? 64;
  index.setEf(efSearch);
  const live = new Set<number>();
  let deleted = 0;
  return {
    add: (label, vector) => {
      if (vector.length !== dimensions)
        throw new RangeError(`vector has ${vector.length} dimensions, the index ${dimensions}`);
      if (live.has(label)) throw new RangeError(`label ${label} is already in the index`);
      const reuse = deleted > 0;
      if (!reuse && index.getCurrentCount() >= capacity) {
        capacity *= 2;
        index.resizeIndex(capacity);
      }
      index.addPoint(Array.from(vector), label, reuse);
      if (reuse) deleted -= 1;
      live.add(label);
    },
    remove: (label) => {
      if (!live.delete(label)) return;
      index.markDelete(label);
      deleted += 1;
    },
    search: (vector, k) => {
      const count = Math.min(k, live.size);
      if (count === 0) return [];
      index.setEf(Math.max(efSearch, count));
      const result = index.searchKnn(Array.from(vector), count);
      return result.neighbors.map((label, position) => ({
        label,
        similarity: 1 - (result.distances[position] ?? 1),
      }));
    },
    size: () => live.size,
  };
}
