import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import type { Embedder } from '../../src/cache/index.ts';

export interface MemoizedEmbedder extends Embedder {
  /** Embeds every text not yet known, in batches, reporting progress. */
  warm(texts: readonly string[], onProgress?: (done: number, total: number) => void): Promise<void>;
  /** Writes the known vectors to the cache file. */
  save(): void;
}

/**
 * Wraps an embedder with a vector cache kept in a file under bench/.tmp, so that a rerun of the
 * benchmark does not spend minutes re-embedding the same 17k sentences. Vectors depend only on
 * the embedder and the text.
 *
 * @example
 * const embedder = memoizeEmbedder(createLocalEmbedder(), 'bench/.tmp/semantic-cache/local.json');
 */
export function memoizeEmbedder(inner: Embedder, file: string): MemoizedEmbedder {
  const known = new Map<string, Float32Array>();
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { id: string; vectors: Record<string, string> };
    if (stored.id === inner.id) {
      for (const [key, base64] of Object.entries(stored.vectors)) {
        const bytes = Buffer.from(base64, 'base64');
        known.set(key, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
      }
    }
  }
  const keyOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);
  const embedMissing = async (
    texts: readonly string[],
    onProgress?: (done: number, total: number) => void,
  ) => {
    const missing = [...new Set(texts.filter((text) => !known.has(keyOf(text))))];
    const batch = 256;
    for (let start = 0; start < missing.length; start += batch) {
      const slice = missing.slice(start, start + batch);
      const vectors = await inner.embed(slice);
      slice.forEach((text, index) => known.set(keyOf(text), vectors[index] as Float32Array));
      onProgress?.(Math.min(start + batch, missing.length), missing.length);
    }
  };
  return {
    id: inner.id,
    embed: async (texts) => {
      await embedMissing(texts);
      return texts.map((text) => known.get(keyOf(text)) as Float32Array);
    },
    warm: embedMissing,
    save: () => {
      mkdirSync(dirname(file), { recursive: true });
      const vectors: Record<string, string> = {};
      for (const [key, vector] of known)
        vectors[key] = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
      writeFileSync(file, JSON.stringify({ id: inner.id, vectors }));
    },
  };
}
