import { normalizeVector, type Embedder } from './embedder.ts';

/** Embeds a batch of texts through a provider, e.g. the engine's `embed` on a configured model. */
export type EmbedFunction = (inputs: string[], signal?: AbortSignal) => Promise<ReadonlyArray<ArrayLike<number>>>;

export interface ProviderEmbedderOptions {
  /** Names the provider model; part of every semantic namespace built on it. */
  id: string;
  embed: EmbedFunction;
  /** Most texts per provider call. */
  batchSize?: number;
}

/**
 * An embedder that calls a provider's embeddings. Texts asked for in the same tick by concurrent
 * lookups are sent together, up to `batchSize` per call, so a burst of requests costs a few
 * provider calls rather than one each.
 *
 * @example
 * const embedder = createProviderEmbedder({
 *   id: 'provider:openai/text-embedding-3-small',
 *   embed: async (input) => (await engine.embed({ model: 'embed', input })).response.data.map((item) => item.embedding as number[]),
 * });
 */
export function createProviderEmbedder(options: ProviderEmbedderOptions): Embedder {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  interface Pending {
    text: string;
    resolve: (vector: Float32Array) => void;
    reject: (error: unknown) => void;
  }
  let queue: Pending[] = [];
  let scheduled = false;
  let dimensions: number | undefined;

  const send = async (batch: Pending[]) => {
    try {
      const vectors = await options.embed(batch.map((item) => item.text));
      if (vectors.length !== batch.length) throw new Error(`embedder ${options.id}: asked for ${batch.length} embeddings, got ${vectors.length}`);
      batch.forEach((item, index) => {
        const vector = vectors[index] as ArrayLike<number>;
        dimensions ??= vector.length;
        if (vector.length === 0 || vector.length !== dimensions) {
          item.reject(new Error(`embedder ${options.id}: embedding has ${vector.length} dimensions, expected ${dimensions}`));
          return;
        }
        item.resolve(normalizeVector(vector));
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };
  const flush = () => {
    scheduled = false;
    const pending = queue;
    queue = [];
    for (let start = 0; start < pending.length; start += batchSize) void send(pending.slice(start, start + batchSize));
  };

  return {
    id: options.id,
    embed: async (texts, signal) => {
      signal?.throwIfAborted();
      const vectors = texts.map(
        (text) =>
          new Promise<Float32Array>((resolve, reject) => {
            queue.push({ text, resolve, reject });
          }),
      );
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
      return Promise.all(vectors);
    },
  };
}
