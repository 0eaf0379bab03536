import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import type { TokenUsage } from '../spec/index.ts';
import { canonicalModelName, costFromPrice, createPriceCatalog, type ModelPrice } from './price-catalog.ts';

function usage(fields: Partial<TokenUsage>): TokenUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    ...fields,
  };
}

describe('costFromPrice', () => {
  const price: ModelPrice = {
    inputPerMillion: 2,
    outputPerMillion: 8,
    cachedInputPerMillion: 0.5,
    cacheWritePerMillion: 2.5,
  };

  test('bills input and output per million tokens', () => {
    // 1,000 × $2/M + 500 × $8/M = $0.002 + $0.004
    assert.equal(costFromPrice(price, usage({ inputTokens: 1_000, outputTokens: 500 })), 0.006);
  });

  test('bills cached input at the cached rate, once (prompt tokens include cached tokens)', () => {
    // 4,000 prompt tokens of which 3,000 cached: 1,000 × $2 + 3,000 × $0.5 = $3,500 per million
    assert.equal(costFromPrice(price, usage({ inputTokens: 4_000, cachedInputTokens: 3_000 })), 0.0035);
  });

  test('bills cache writes at their own rate', () => {
    // 10,000 prompt tokens: 2,000 fresh × $2 + 5,000 cached × $0.5 + 3,000 written × $2.5, + 1,000 out × $8
    const cost = costFromPrice(
      price,
      usage({ inputTokens: 10_000, cachedInputTokens: 5_000, cacheWriteTokens: 3_000, outputTokens: 1_000 }),
    );
    assert.equal(cost, (2_000 * 2 + 5_000 * 0.5 + 3_000 * 2.5 + 1_000 * 8) / 1e6);
    assert.equal(cost, 0.022);
  });

  test('reasoning tokens are inside the output count and cost nothing extra at the output rate', () => {
    assert.equal(costFromPrice(price, usage({ outputTokens: 1_000, reasoningTokens: 800 })), 0.008);
    // With a reasoning rate of its own: 600 × $8 + 400 × $20
    assert.equal(
      costFromPrice(
        { ...price, reasoningPerMillion: 20 },
        usage({ outputTokens: 1_000, reasoningTokens: 400 }),
      ),
      0.0128,
    );
  });

  test('missing cached and write rates bill at the input rate', () => {
    assert.equal(
      costFromPrice(
        { inputPerMillion: 1, outputPerMillion: 1 },
        usage({ inputTokens: 3_000, cachedInputTokens: 1_000, cacheWriteTokens: 1_000 }),
      ),
      0.003,
    );
  });

  test('inconsistent counts never produce a negative or inflated bill', () => {
    // More cached tokens than input tokens: all 100 input tokens at the cached rate.
    assert.equal(costFromPrice(price, usage({ inputTokens: 100, cachedInputTokens: 500 })), 0.00005);
    assert.equal(costFromPrice(price, usage({ inputTokens: -5, outputTokens: Number.NaN })), 0);
  });

  test('small calls keep their exact decimal value', () => {
    assert.equal(
      costFromPrice(
        { inputPerMillion: 0.15, outputPerMillion: 0.6 },
        usage({ inputTokens: 10, outputTokens: 5 }),
      ),
      0.0000045,
    );
  });
});

describe('createPriceCatalog (bundled models.dev catalog)', () => {
  const prices = createPriceCatalog();

  test('prices a known OpenAI model', () => {
    assert.deepEqual(prices.priceFor('openai', 'gpt-4o-mini'), {
      inputPerMillion: 0.15,
      outputPerMillion: 0.6,
      cachedInputPerMillion: 0.08,
    });
    // 1,000 × $0.15 + 500 × $0.60 per million
    assert.equal(
      prices.costOf('openai', 'gpt-4o-mini', usage({ inputTokens: 1_000, outputTokens: 500 })),
      0.00045,
    );
  });

  test('a dated snapshot prices as its model', () => {
    assert.deepEqual(
      prices.priceFor('openai', 'gpt-4o-mini-2024-07-18'),
      prices.priceFor('openai', 'gpt-4o-mini'),
    );
  });

  test('Gemini ids with the models/ prefix price as the model', () => {
    assert.deepEqual(prices.priceFor('gemini', 'models/gemini-2.5-flash'), {
      inputPerMillion: 0.3,
      outputPerMillion: 2.5,
      cachedInputPerMillion: 0.075,
    });
    assert.deepEqual(
      prices.priceFor('gemini', 'gemini-1.5-flash-002'),
      prices.priceFor('gemini', 'gemini-1.5-flash'),
    );
  });

  test('a preview snapshot keeps its own price rather than its family’s', () => {
    assert.equal(prices.priceFor('gemini', 'gemini-2.5-flash-preview-05-20')?.inputPerMillion, 0.15);
    assert.equal(prices.priceFor('gemini', 'gemini-2.5-flash')?.inputPerMillion, 0.3);
  });

  test('Anthropic aliases and dated ids find the same price, with cache read and write rates', () => {
    const sonnet = {
      inputPerMillion: 3,
      outputPerMillion: 15,
      cachedInputPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
    };
    assert.deepEqual(prices.priceFor('anthropic', 'claude-sonnet-4-20250514'), sonnet);
    assert.deepEqual(prices.priceFor('anthropic', 'claude-sonnet-4-0'), sonnet);
    assert.deepEqual(prices.priceFor('anthropic', 'claude-3-5-sonnet-latest'), sonnet);
    // 2,000 fresh × $3 + 5,000 cached × $0.30 + 3,000 written × $3.75 + 1,000 out × $15
    const cost = prices.costOf(
      'anthropic',
      'claude-sonnet-4-20250514',
      usage({ inputTokens: 10_000, cachedInputTokens: 5_000, cacheWriteTokens: 3_000, outputTokens: 1_000 }),
    );
    assert.equal(cost, 0.03375);
  });

  test('the sim provider prices as the model it imitates', () => {
    assert.deepEqual(prices.priceFor('sim', 'gpt-4o-mini'), prices.priceFor('openai', 'gpt-4o-mini'));
    assert.deepEqual(
      prices.priceFor('sim', 'claude-sonnet-4-20250514'),
      prices.priceFor('anthropic', 'claude-sonnet-4-20250514'),
    );
    assert.deepEqual(
      prices.priceFor('sim', 'gemini-2.5-flash'),
      prices.priceFor('gemini', 'gemini-2.5-flash'),
    );
  });

  test('vendor/model ids on OpenAI-compatible hosts price as the vendor’s model', () => {
    assert.deepEqual(
      prices.priceFor('openai-compatible', 'openai/gpt-4o-mini'),
      prices.priceFor('openai', 'gpt-4o-mini'),
    );
    assert.deepEqual(
      prices.priceFor('openai-compatible', 'anthropic/claude-3.5-haiku'),
      prices.priceFor('anthropic', 'claude-3-5-haiku-20241022'),
    );
  });

  test('a catalog cached rate above the full rate is ignored (billed at the input rate)', () => {
    // The catalog lists gpt-3.5-turbo's cache read at $1.25/M against $0.50/M input: a data error.
    assert.equal(prices.priceFor('openai', 'gpt-3.5-turbo')?.cachedInputPerMillion, undefined);
    assert.equal(
      prices.costOf('openai', 'gpt-3.5-turbo', usage({ inputTokens: 1_000, cachedInputTokens: 1_000 })),
      0.0005,
    );
  });

  test('an unknown model has no price and a null cost', () => {
    assert.equal(prices.priceFor('openai-compatible', 'my-local-llama'), undefined);
    assert.equal(prices.costOf('sim', 'sim-echo', usage({ inputTokens: 10 })), null);
  });
});

describe('createPriceCatalog overrides', () => {
  const overrides: Record<string, ModelPrice> = {
    'local-llama': { inputPerMillion: 0, outputPerMillion: 0 },
    'openai:gpt-4o-mini': { inputPerMillion: 1, outputPerMillion: 2 },
    'my-finetune': { inputPerMillion: 3, outputPerMillion: 12, cachedInputPerMillion: 1.5 },
  };
  const prices = createPriceCatalog({ overrides });

  test('a deployment override wins over the catalog', () => {
    assert.equal(prices.costOf('openai', 'gpt-4o', usage({ inputTokens: 1_000_000 }), 'local-llama'), 0);
  });

  test('a provider:model override wins over the catalog, for that provider only', () => {
    assert.equal(
      prices.costOf('openai', 'gpt-4o-mini', usage({ inputTokens: 1_000, outputTokens: 1_000 })),
      0.003,
    );
    assert.equal(prices.priceFor('sim', 'gpt-4o-mini')?.inputPerMillion, 0.15);
  });

  test('a model-name override prices a model the catalog does not know', () => {
    assert.equal(
      prices.costOf(
        'openai-compatible',
        'my-finetune',
        usage({ inputTokens: 2_000, cachedInputTokens: 1_000, outputTokens: 100 }),
      ),
      0.0057,
    );
  });

  test('a bad override is a configuration error naming the field', () => {
    const bad = [
      [{ x: { inputPerMillion: -1, outputPerMillion: 1 } }, 'pricing.x.inputPerMillion'],
      [{ x: { inputPerMillion: 1 } }, 'pricing.x.outputPerMillion'],
      [
        { x: { inputPerMillion: 1, outputPerMillion: 1, cachedInputPerMillion: 'cheap' } },
        'pricing.x.cachedInputPerMillion',
      ],
      [{ x: { inputPerMillion: 1, outputPerMillion: 1, inputPerMilion: 2 } }, 'pricing.x.inputPerMilion'],
      [{ x: null }, 'pricing.x'],
    ] as const;
    for (const [value, param] of bad) {
      assert.throws(
        () => createPriceCatalog({ overrides: value as unknown as Record<string, ModelPrice> }),
        (error: unknown) =>
          PipewrightError.isInstance(error) && error.code === 'config.invalid' && error.param === param,
      );
    }
  });
});

describe('canonicalModelName', () => {
  test('removes dates, versions, vendor prefixes and -latest; dots become dashes', () => {
    assert.equal(canonicalModelName('gpt-4o-mini-2024-07-18'), 'gpt-4o-mini');
    assert.equal(canonicalModelName('claude-3-5-sonnet-20241022'), 'claude-3-5-sonnet');
    assert.equal(canonicalModelName('claude-opus-4-1@20250805'), 'claude-opus-4-1');
    assert.equal(canonicalModelName('anthropic.claude-sonnet-4-20250514-v1:0'), 'claude-sonnet-4');
    assert.equal(canonicalModelName('claude-3.5-haiku'), 'claude-3-5-haiku');
    assert.equal(canonicalModelName('Claude-3-7-Sonnet-Latest'), 'claude-3-7-sonnet');
    assert.equal(canonicalModelName('gemini-1.5-flash-002'), 'gemini-1-5-flash');
  });
});
