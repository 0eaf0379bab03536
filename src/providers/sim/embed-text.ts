import { hashString } from './create-random.ts';

/** Dimensions when the request asks for none. */
export const defaultEmbeddingDimensions = 256;

const wordPattern = /[\p{L}\p{N}]+/gu;
const lightWords = new Set(
  'a an and are as at be by for from in is it of on or that the this to was were with'.split(' '),
);

/**
 * A deterministic, L2-normalised embedding: a signed hashed bag of words plus character
 * trigrams. Texts that share words (or word stems) point in similar directions; unrelated texts
 * are near orthogonal. It depends only on the text and the dimensions.
 *
 * @example
 * cosine(embedText('the cat sat', 256), embedText('a cat sat down', 256)) > cosine(embedText('the cat sat', 256), embedText('stock prices fell', 256));
 */
export function embedText(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (const match of text.toLowerCase().matchAll(wordPattern)) {
    const word = match[0];
    const weight = lightWords.has(word) ? 0.25 : 1;
    add(vector, word, weight);
    const padded = `#${word}#`;
    for (let index = 0; index + 3 <= padded.length; index++)
      add(vector, padded.slice(index, index + 3), weight * 0.35);
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < dimensions; index++) vector[index] = (vector[index] as number) * scale;
  return vector;
}

function add(vector: Float32Array, feature: string, weight: number): void {
  const hash = hashString(feature);
  const index = hash % vector.length;
  const sign = (hash & 0x80000000) === 0 ? 1 : -1;
  vector[index] = (vector[index] as number) + sign * weight;
}

/** The vector as OpenAI's `encoding_format: "base64"` sends it: little-endian float32 bytes. */
export function encodeEmbeddingBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}
