import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { embedText, encodeEmbeddingBase64 } from './embed-text.ts';

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < a.length; index++) dot += (a[index] ?? 0) * (b[index] ?? 0);
  return dot;
}

describe('embedText', () => {
  it('returns unit vectors of the asked dimensions', () => {
    for (const dimensions of [8, 256, 1536]) {
      const vector = embedText('How do I reset my password?', dimensions);
      assert.equal(vector.length, dimensions);
      assert.ok(Math.abs(cosine(vector, vector) - 1) < 1e-5);
    }
    assert.ok(
      Math.abs(cosine(embedText('', 64), embedText('', 64)) - 1) < 1e-5,
      'even empty text gets a unit vector',
    );
  });

  it('puts texts that share words closer than unrelated texts', () => {
    const query = embedText('How do I reset my account password?', 256);
    const paraphrase = embedText('Steps to reset the password of my account', 256);
    const related = embedText('My account was locked yesterday', 256);
    const unrelated = embedText('The recipe needs two cups of flour and an egg', 256);
    assert.ok(cosine(query, paraphrase) > cosine(query, related), 'more shared words → closer');
    assert.ok(cosine(query, related) > cosine(query, unrelated), 'some shared words beat none');
    assert.ok(cosine(query, unrelated) < 0.3);
  });

  it('relates word forms through character trigrams', () => {
    const base = embedText('running shoes', 256);
    assert.ok(cosine(base, embedText('run shoe', 256)) > cosine(base, embedText('blue table', 256)));
  });

  it('is deterministic and encodes as little-endian float32 base64', () => {
    const vector = embedText('same text', 16);
    assert.deepEqual(vector, embedText('same text', 16));
    const bytes = Buffer.from(encodeEmbeddingBase64(vector), 'base64');
    assert.equal(bytes.length, 64);
    assert.equal(bytes.readFloatLE(4), vector[1]);
  });
});
