import { normalizeVector, type Embedder } from './embedder.ts';

/** Embeds a batch of texts through a provider, e.g. the engine's `embed` on a configured model. */
export type EmbedFunction = (
  inputs: string[],
  signal?: AbortSignal,
  tenantId?: string,
) => Promise<ReadonlyArray<ArrayLike<number>>>;

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
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a positive integer');
  interface Pending {
    text: string;
    tenantId: string | undefined;
    resolve: (vector: Float32Array) => void;
    reject: (error: unknown) => void;
  }
  // One queue per tenant: a batch never mixes tenants, so each call is billed to the right one.
  let queues = new Map<string | undefined, Pending[]>();
  let scheduled = false;
  let dimensions: number | undefined;

  const send = async (batch: Pending[], tenantId: string | undefined) => {
    try {
      const vectors = await options.embed(
        batch.map((item) => item.text),
        undefined,
        tenantId,
      );
      if (vectors.length !== batch.length)
        throw new Error(
          `embedder ${options.id}: asked for ${batch.length} embeddings, got ${vectors.length}`,
        );
      batch.forEach((item, index) => {
        const vector = vectors[index] as ArrayLike<number>;
        dimensions ??= vector.length;
        if (vector.length === 0 || vector.length !== dimensions) {
          item.reject(
            new Error(
              `embedder ${options.id}: embedding has ${vector.length} dimensions, expected ${dimensions}`,
            ),
          );
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
    const pending = queues;
    queues = new Map();
    for (const [tenantId, items] of pending) {
      for (let start = 0; start < items.length; start += batchSize)
        void send(items.slice(start, start + batchSize), tenantId);
    }
  };

  return {
    id: options.id,
    embed: async (texts, signal, tenantId) => {
      signal?.throwIfAborted();
      let queue = queues.get(tenantId);
      if (queue === undefined) {
        queue = [];
        queues.set(tenantId, queue);
      }
      const target = queue;
      const vectors = texts.map(
        (text) =>
          new Promise<Float32Array>((resolve, reject) => {
            target.push({ text, tenantId, resolve, reject });
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
