/**
 * Turns texts into vectors for the semantic cache. Vectors of one embedder are comparable by
 * cosine similarity; vectors of two embedders never are, so the embedder's id is part of every
 * semantic namespace.
 */
export interface Embedder {
  /** Stable id naming the model (`local:use-512`, `provider:openai/text-embedding-3-small`). */
  readonly id: string;
  /**
   * One unit-length vector per text, in order. `tenantId`: whose request the texts come from, so a
   * provider embedder's calls are recorded (and paid) under that tenant.
   */
  embed(texts: readonly string[], signal?: AbortSignal, tenantId?: string): Promise<Float32Array[]>;
}

/**
 * Cosine similarity of two vectors (1 = same direction).
 *
 * @example
 * cosineSimilarity(Float32Array.of(1, 0), Float32Array.of(1, 0)); // 1
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index++) {
    const x = a[index] as number;
    const y = b[index] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/**
 * The vector scaled to unit length (a zero vector stays zero).
 *
 * @example
 * normalizeVector([3, 4]); // Float32Array [0.6, 0.8]
 */
export function normalizeVector(vector: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(vector as ArrayLike<number>);
  let norm = 0;
  for (const value of out) norm += value * value;
  if (norm === 0) return out;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < out.length; index++) out[index] = (out[index] as number) * scale;
  return out;
}
