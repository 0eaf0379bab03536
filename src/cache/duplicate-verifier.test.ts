import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createDuplicateVerifier,
  pairFeatures,
  scoreFeatures,
  verifierFeatureNames,
  type VerifierModel,
} from './duplicate-verifier.ts';
import { duplicateVerifierModel } from './duplicate-verifier-model.ts';
import { createConceptNormalizer } from './normalize-concepts.ts';
import { analyzeText } from './precision-guard.ts';

const normalizer = createConceptNormalizer();
const verifier = createDuplicateVerifier(normalizer);

function featuresOf(a: string, b: string, similarity: number): Record<string, number> {
  const values = pairFeatures(analyzeText(a, normalizer), analyzeText(b, normalizer), similarity);
  return Object.fromEntries(verifierFeatureNames.map((name, index) => [name, values[index] as number]));
}

describe('duplicate verifier features', () => {
  it('computes overlaps, unmatched words and mismatch flags', () => {
    const features = featuresOf('A man is playing a flute.', 'A man is playing a large flute.', 0.9);
    assert.equal(features.cosine, 0.9);
    // content: {man, play, flute} vs {man, play, large, flute}
    assert.equal(features.contentJaccard, 3 / 4);
    assert.equal(features.unmatchedMore, 1);
    assert.equal(features.unmatchedLess, 0);
    assert.equal(features.contentWordsFewer, 3);
    // tokens: a man is play a flute (6) vs a man is play a large flute (7)
    assert.equal(features.lengthRatio, 6 / 7);
    // bigrams {a man, man is, is play, play a, a flute} vs {a man, man is, is play, play a, a large, large flute}
    assert.equal(features.bigramJaccard, 4 / 7);
    assert.equal(features.numbersDiffer, 0);
    assert.equal(features.negationDiffers, 0);
    assert.equal(features.entitiesDiffer, 0);
  });

  it('flags numbers, negations and entities independently', () => {
    assert.equal(featuresOf('What is 2+2?', 'What is 2+3?', 0.95).numbersDiffer, 1);
    assert.equal(featuresOf('Is the bridge safe?', 'Is the bridge not safe?', 0.95).negationDiffers, 1);
    const entities = featuresOf(
      'Trains from Paris to Lyon tomorrow?',
      'Trains from Paris to Nice tomorrow?',
      0.9,
    );
    assert.equal(entities.entitiesDiffer, 1);
    assert.equal(entities.numbersDiffer, 0);
    // Same wording: every overlap is 1.
    const same = featuresOf('How do I reset my password?', 'how do i reset my password', 1);
    assert.deepEqual(
      [same.contentJaccard, same.tokenJaccard, same.bigramJaccard, same.charTrigramJaccard],
      [1, 1, 1, 1],
    );
  });
});

describe('duplicate verifier', () => {
  it('accepts a known duplicate', () => {
    const verdict = verifier.check('How do I reset my password?', 'How can I reset my password', 0.97);
    assert.equal(verdict.ok, true);
    assert.ok((verdict.score ?? 0) >= verifier.minScore);
  });

  it('refuses known non-duplicates however close their embeddings', () => {
    for (const [a, b] of [
      ['What is 2+2?', 'What is 2+3?'],
      ['What is the capital of France?', 'What is the capital of Spain?'],
      ['Is the bridge safe to cross?', 'Is the bridge not safe to cross?'],
    ] as const) {
      const verdict = verifier.check(a, b, 0.97);
      assert.equal(verdict.ok, false, `${a} / ${b}`);
      assert.ok(
        verdict.reason === 'numbers' || verdict.reason === 'entities' || verdict.reason === 'negation',
        verdict.reason,
      );
    }
  });

  it('refuses a pair whose numbers, units or negations differ whatever the model scores', () => {
    // The model alone scored these as duplicates (a differing negation or unit is one feature of twelve).
    for (const [a, b, reason] of [
      ['Should I take ibuprofen with food?', 'Should I take ibuprofen without food?', 'negation'],
      ['Tell me what I should eat before a run', 'Tell me what I should not eat before a run', 'negation'],
      ['Convert 5 miles to km', 'Convert 5 km to miles', 'units'],
      ['Is 10 greater than 3?', 'Is 3 greater than 10?', 'numbers'],
    ] as const) {
      const verdict = verifier.check(a, b, 0.99);
      assert.equal(verdict.ok, false, `${a} / ${b}`);
      assert.equal(verdict.reason, reason);
      assert.equal(verifier.score(a, b, 0.99), 0);
    }
  });

  it('refuses a weak neighbour and any pair without its similarity', () => {
    assert.equal(verifier.check('How do I reset my password?', 'How can I reset my password', 0.6).ok, false);
    assert.deepEqual(verifier.check('How do I reset my password?', 'How can I reset my password'), {
      ok: false,
      reason: 'verifier',
      overlap: 1,
    });
  });

  it('scores grow with similarity, and minScore moves the cut', () => {
    const low = verifier.score('Best way to learn Python quickly', 'Fastest way to learn Python', 0.8);
    const high = verifier.score('Best way to learn Python quickly', 'Fastest way to learn Python', 0.97);
    assert.ok(high > low);
    const lenient = createDuplicateVerifier(normalizer, { minScore: 0 });
    assert.equal(
      lenient.check('What is the capital of France?', 'What is the capital of Spain?', 0.97).ok,
      true,
    );
    // A differing number is refused whatever the cut.
    assert.equal(lenient.check('What is 2+2?', 'What is 2+3?', 0.97).ok, false);
  });

  it('evaluates trees as written and rejects a model trained on other features', () => {
    const model: VerifierModel = { ...duplicateVerifierModel, bias: 0, trees: [[0, 0.5, -2, 2], 1] };
    assert.equal(scoreFeatures([0.9], model), 1 / (1 + Math.exp(-3)));
    assert.equal(scoreFeatures([0.1], model), 1 / (1 + Math.exp(1)));
    assert.throws(
      () => createDuplicateVerifier(normalizer, { model: { ...model, features: ['cosine'] } }),
      /other features/,
    );
  });
});
