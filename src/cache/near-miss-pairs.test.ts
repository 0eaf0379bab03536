// The near-miss corpus (near-miss-pairs.json) against the semantic cache as the gateway builds it
// by default: the local embedder, the learned duplicate verifier as the guard, the default
// thresholds; and the degraded-answer path (the rule guard at the fallback threshold).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultSemanticFallbackThreshold, defaultSemanticThreshold } from './cache-policy.ts';
import { createDuplicateVerifier } from './duplicate-verifier.ts';
import type { Embedder } from './embedder.ts';
import { createLocalEmbedder } from './local-embedder.ts';
import { createConceptNormalizer } from './normalize-concepts.ts';
import { createSemanticCache, type SemanticCache, type SemanticSettings } from './semantic-cache.ts';
import { chatRequest, chatResponse, createManualClock, scopeFor } from './test-support.ts';

interface Corpus {
  kinds: Record<string, string>;
  pairs: Array<{ kind: string; stored: string; asked: string }>;
}

const corpus = JSON.parse(readFileSync(new URL('./near-miss-pairs.json', import.meta.url), 'utf8')) as Corpus;

const settings: Record<string, SemanticSettings> = {
  'default lookup (verifier)': { threshold: defaultSemanticThreshold, guard: true, multiTurn: false },
  'degraded answer (rule guard)': {
    threshold: defaultSemanticFallbackThreshold,
    guard: true,
    multiTurn: false,
    relaxed: true,
  },
};

// One model for every test in the file; each text is embedded once.
const local = createLocalEmbedder();
const vectors = new Map<string, Float32Array>();
const embedder: Embedder = {
  id: local.id,
  embed: async (texts, signal) => {
    const missing = [...new Set(texts.filter((text) => !vectors.has(text)))];
    const embedded = missing.length === 0 ? [] : await local.embed(missing, signal);
    missing.forEach((text, index) => vectors.set(text, embedded[index] as Float32Array));
    return texts.map((text) => vectors.get(text) as Float32Array);
  },
};

function defaultCache(): SemanticCache {
  const normalizer = createConceptNormalizer();
  return createSemanticCache({
    embedder,
    clock: createManualClock(),
    normalizer,
    guard: createDuplicateVerifier(normalizer),
  });
}

const rewordings = [
  ['How do I reset my password?', 'How can I reset my password?'],
  ['What are the public holidays in the US?', 'What are the public holidays in the United States?'],
  ["I can't log in to my account", 'I cannot log in to my account'],
  ['Give me ten ideas for a birthday party', 'Give me 10 ideas for a birthday party'],
  [
    "Don't use ML for this, e.g. a rules engine",
    'Do not use machine learning for this, for example a rules engine',
  ],
] as const;

const answer = (text: string) => ({ kind: 'response' as const, response: chatResponse(text) });
const avoided = { costUsd: 0.01, latencyMs: 900 };

// Embeds every text of the file in one batch up front, as the cache will ask for it (normalised).
before(async () => {
  const normalize = createConceptNormalizer().normalize;
  const texts = corpus.pairs.flatMap((pair) => [pair.stored, pair.asked]).concat(rewordings.flat());
  await embedder.embed(texts.map(normalize));
});

describe('near misses are never served one another’s answer', () => {
  test('the corpus has 40+ pairs, each of a described kind', () => {
    assert.ok(corpus.pairs.length >= 40, `${corpus.pairs.length} pairs`);
    for (const pair of corpus.pairs) assert.ok(corpus.kinds[pair.kind] !== undefined, pair.kind);
    for (const kind of Object.keys(corpus.kinds))
      assert.ok(corpus.pairs.filter((pair) => pair.kind === kind).length >= 3, `too few pairs of ${kind}`);
  });

  for (const [name, lookupSettings] of Object.entries(settings)) {
    test(`${name}: storing either text of a pair, the other misses`, async () => {
      const cache = defaultCache();
      const wrongHits: string[] = [];
      for (const [index, pair] of corpus.pairs.entries()) {
        for (const [stored, asked, direction] of [
          [pair.stored, pair.asked, 'a'],
          [pair.asked, pair.stored, 'b'],
        ] as const) {
          // One namespace per pair and direction: a lookup only ever sees its own stored text.
          const scope = scopeFor('t1', { stepType: `pair-${index}-${direction}` });
          await cache.store(scope, chatRequest(stored), answer(stored), avoided, {
            ttlMs: 60_000,
            multiTurn: false,
          });
          const result = await cache.lookup(scope, chatRequest(asked), lookupSettings);
          if (result.hit)
            wrongHits.push(
              `[${pair.kind}] "${asked}" got the answer of "${stored}" (similarity ${result.similarity.toFixed(3)})`,
            );
        }
      }
      assert.deepEqual(wrongHits, []);
    });
  }

  test('the same cache still serves true rewordings (the corpus misses for the right reason)', async () => {
    const cache = defaultCache();
    for (const [index, [stored, asked]] of rewordings.entries()) {
      const scope = scopeFor('t1', { stepType: `rewording-${index}` });
      await cache.store(scope, chatRequest(stored), answer(stored), avoided, {
        ttlMs: 60_000,
        multiTurn: false,
      });
      const result = await cache.lookup(scope, chatRequest(asked), settings['default lookup (verifier)']!);
      assert.equal(result.hit, true, `"${asked}" should be served "${stored}"`);
    }
  });
});
