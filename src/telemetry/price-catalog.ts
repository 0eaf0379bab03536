import { amazon_bedrockModels } from 'tokenlens/providers/amazon-bedrock';
import { anthropicModels } from 'tokenlens/providers/anthropic';
import { azureModels } from 'tokenlens/providers/azure';
import { cerebrasModels } from 'tokenlens/providers/cerebras';
import { deepseekModels } from 'tokenlens/providers/deepseek';
import { fireworks_aiModels } from 'tokenlens/providers/fireworks-ai';
import { googleModels } from 'tokenlens/providers/google';
import { google_vertexModels } from 'tokenlens/providers/google-vertex';
import { google_vertex_anthropicModels } from 'tokenlens/providers/google-vertex-anthropic';
import { groqModels } from 'tokenlens/providers/groq';
import { mistralModels } from 'tokenlens/providers/mistral';
import { openaiModels } from 'tokenlens/providers/openai';
import { openrouterModels } from 'tokenlens/providers/openrouter';
import { perplexityModels } from 'tokenlens/providers/perplexity';
import { togetheraiModels } from 'tokenlens/providers/togetherai';
import { xaiModels } from 'tokenlens/providers/xai';
import { ConfigError } from '../core/index.ts';
import type { TokenUsage } from '../spec/index.ts';

/** Prices in USD per million tokens. Missing optional rates bill at the input (or output) rate. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInputPerMillion?: number;
  /** Input tokens written to the provider's prompt cache. */
  cacheWritePerMillion?: number;
  /** Reasoning tokens, when billed differently from other output tokens. */
  reasoningPerMillion?: number;
}

export interface PriceCatalog {
  /**
   * The price of a model on a provider (an adapter name: `openai`, `anthropic`, `gemini`, `azure`,
   * `openai-compatible`, `sim`…), or undefined when it is not known. `deployment` selects a
   * per-deployment override.
   */
  priceFor(provider: string, model: string, deployment?: string): ModelPrice | undefined;
  /**
   * The cost in USD of one call, or null when the price is unknown. `usage.inputTokens` counts
   * every prompt token, cached reads and cache writes included (OpenAI's `prompt_tokens`);
   * `reasoningTokens` are part of `outputTokens`.
   */
  costOf(provider: string, model: string, usage: TokenUsage, deployment?: string): number | null;
}

export interface PriceCatalogOptions {
  /**
   * Prices that win over the catalog, keyed by deployment id, by `provider:model` or by model
   * name (looked up in that order).
   */
  overrides?: Record<string, ModelPrice>;
}

/** The shape of a models.dev provider entry, as far as prices go. */
interface CatalogSource {
  readonly models: Readonly<Record<string, { readonly cost?: CatalogCost }>>;
}

interface CatalogCost {
  readonly input?: number;
  readonly output?: number;
  readonly reasoning?: number;
  readonly cache_read?: number;
  readonly cache_write?: number;
}

/** The tokenlens (models.dev) catalogs consulted, by name. */
const catalogSources: Readonly<Record<string, CatalogSource>> = {
  openai: openaiModels,
  anthropic: anthropicModels,
  google: googleModels,
  azure: azureModels,
  'google-vertex': google_vertexModels,
  'google-vertex-anthropic': google_vertex_anthropicModels,
  'amazon-bedrock': amazon_bedrockModels,
  deepseek: deepseekModels,
  mistral: mistralModels,
  xai: xaiModels,
  groq: groqModels,
  cerebras: cerebrasModels,
  togetherai: togetheraiModels,
  'fireworks-ai': fireworks_aiModels,
  perplexity: perplexityModels,
  openrouter: openrouterModels,
};

/** First-party catalogs first, then hosts and resellers; used when the provider says nothing about the vendor. */
const anyVendorOrder = [
  'openai',
  'anthropic',
  'google',
  'deepseek',
  'mistral',
  'xai',
  'azure',
  'google-vertex',
  'google-vertex-anthropic',
  'amazon-bedrock',
  'groq',
  'cerebras',
  'togetherai',
  'fireworks-ai',
  'perplexity',
  'openrouter',
];

/** Which catalogs to search, in order, for each adapter. Others (`openai-compatible`, `sim`) search all. */
const providerOrder: Readonly<Record<string, readonly string[]>> = {
  openai: ['openai', 'azure', 'openrouter'],
  azure: ['azure', 'openai'],
  anthropic: ['anthropic', 'google-vertex-anthropic', 'amazon-bedrock', 'openrouter'],
  gemini: ['google', 'google-vertex', 'openrouter'],
};

/** Vendor prefixes seen in `vendor/model` ids (OpenRouter style) → the vendor's own catalog. */
const vendorCatalogs: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google',
  deepseek: 'deepseek',
  mistral: 'mistral',
  mistralai: 'mistral',
  xai: 'xai',
  'x-ai': 'xai',
};

const maxMemoEntries = 10_000;

/**
 * Model prices from the models.dev catalog bundled in `tokenlens` (no network), with
 * per-deployment overrides. Model ids are matched with normalisation: dated snapshots
 * (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-20250514`), `-latest`, Gemini's `models/` prefix,
 * `vendor/model` ids and Vertex/Bedrock spellings. The `sim` provider prices as the model it imitates.
 *
 * @example
 * const prices = createPriceCatalog({ overrides: { 'local-llama': { inputPerMillion: 0, outputPerMillion: 0 } } });
 * prices.costOf('openai', 'gpt-4o-mini', { inputTokens: 1000, outputTokens: 500, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
 * // → 0.00045 (1,000 × $0.15/M + 500 × $0.60/M)
 */
export function createPriceCatalog(options: PriceCatalogOptions = {}): PriceCatalog {
  const overrides = new Map<string, ModelPrice>();
  for (const [key, price] of Object.entries(options.overrides ?? {})) {
    overrides.set(key, validatePrice(price, `pricing.${key}`));
  }
  const indexes = new Map<string, Map<string, ModelPrice>>();
  const memo = new Map<string, ModelPrice | null>();

  function indexOf(sourceName: string): Map<string, ModelPrice> {
    let index = indexes.get(sourceName);
    if (index !== undefined) return index;
    index = buildIndex(catalogSources[sourceName]);
    indexes.set(sourceName, index);
    return index;
  }

  function lookUp(provider: string, model: string): ModelPrice | undefined {
    const { exact, lastSegment, vendor } = splitModelId(model);
    const canonical = canonicalModelName(lastSegment);
    const vendorCatalog = vendor === undefined ? undefined : vendorCatalogs[vendor];
    const order = providerOrder[provider] ?? anyVendorOrder;
    const sources =
      vendorCatalog === undefined
        ? order
        : [vendorCatalog, ...order.filter((name) => name !== vendorCatalog)];
    for (const name of sources) {
      const index = indexOf(name);
      // The exact id first, so a snapshot priced on its own never takes its family's price.
      const price = index.get(`=${exact}`) ?? index.get(`=${lastSegment}`) ?? index.get(canonical);
      if (price !== undefined) return price;
    }
    return undefined;
  }

  function priceFor(provider: string, model: string, deployment?: string): ModelPrice | undefined {
    const override =
      (deployment === undefined ? undefined : overrides.get(deployment)) ??
      overrides.get(`${provider}:${model}`) ??
      overrides.get(model);
    if (override !== undefined) return override;
    const key = `${provider}\u0001${model}`;
    const known = memo.get(key);
    if (known !== undefined) return known ?? undefined;
    const found = lookUp(provider.toLowerCase(), model);
    if (memo.size >= maxMemoEntries) memo.clear();
    memo.set(key, found ?? null);
    return found;
  }

  return {
    priceFor,
    costOf(provider, model, usage, deployment) {
      const price = priceFor(provider, model, deployment);
      return price === undefined ? null : costFromPrice(price, usage);
    },
  };
}

/**
 * The cost in USD of `usage` at `price`. Cached reads and cache writes are taken out of the
 * input count and billed at their own rates (OpenAI's prompt tokens include cached tokens, so
 * billing all input at the full rate would double count them); reasoning tokens are inside the
 * output count and only change the bill when they have a rate of their own.
 *
 * @example
 * costFromPrice({ inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25 },
 *   { inputTokens: 2000, cachedInputTokens: 1000, outputTokens: 100, cacheWriteTokens: 0, reasoningTokens: 0 });
 * // → 0.00475 (1,000 × 2.5 + 1,000 × 1.25 + 100 × 10, per million)
 */
export function costFromPrice(price: ModelPrice, usage: TokenUsage): number {
  const input = count(usage.inputTokens);
  const cached = Math.min(count(usage.cachedInputTokens), input);
  const written = Math.min(count(usage.cacheWriteTokens), input - cached);
  const output = count(usage.outputTokens);
  const reasoning = Math.min(count(usage.reasoningTokens), output);
  const reasoningRate = price.reasoningPerMillion ?? price.outputPerMillion;
  const microDollars =
    (input - cached - written) * price.inputPerMillion +
    cached * (price.cachedInputPerMillion ?? price.inputPerMillion) +
    written * (price.cacheWritePerMillion ?? price.inputPerMillion) +
    (output - reasoning) * price.outputPerMillion +
    reasoning * reasoningRate;
  // Rounded to 1e-10 USD: removes float noise without changing any real bill.
  return Math.round(microDollars * 1e4) / 1e10;
}

function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function buildIndex(source: CatalogSource | undefined): Map<string, ModelPrice> {
  const index = new Map<string, ModelPrice>();
  if (source === undefined) return index;
  // Newest snapshot first, so a family name (`claude-3-5-sonnet`) takes the latest snapshot's price.
  const ids = Object.keys(source.models).sort().reverse();
  for (const id of ids) {
    const price = toModelPrice(source.models[id]?.cost);
    if (price === undefined) continue;
    const { exact, lastSegment } = splitModelId(id);
    index.set(`=${exact}`, price);
    if (!index.has(`=${lastSegment}`)) index.set(`=${lastSegment}`, price);
    const canonical = canonicalModelName(lastSegment);
    // An undated id is the family's own entry and wins over any snapshot.
    if (!index.has(canonical) || canonical === lastSegment) index.set(canonical, price);
  }
  return index;
}

function toModelPrice(cost: CatalogCost | undefined): ModelPrice | undefined {
  if (cost?.input === undefined || cost.output === undefined) return undefined;
  const price: ModelPrice = { inputPerMillion: cost.input, outputPerMillion: cost.output };
  // A cached rate above the full rate is a data error (seen in the catalog); bill those at the full rate.
  if (cost.cache_read !== undefined && cost.cache_read <= cost.input)
    price.cachedInputPerMillion = cost.cache_read;
  if (cost.cache_write !== undefined) price.cacheWritePerMillion = cost.cache_write;
  if (cost.reasoning !== undefined) price.reasoningPerMillion = cost.reasoning;
  return Object.freeze(price);
}

/** `models/gemini-2.5-flash` → exact `gemini-2.5-flash`; `openai/gpt-4o` → vendor `openai`, last segment `gpt-4o`. */
function splitModelId(model: string): { exact: string; lastSegment: string; vendor: string | undefined } {
  const exact = model
    .trim()
    .toLowerCase()
    .replace(/^models\//, '');
  const slash = exact.lastIndexOf('/');
  if (slash === -1) return { exact, lastSegment: exact, vendor: undefined };
  return { exact, lastSegment: exact.slice(slash + 1), vendor: exact.slice(0, exact.indexOf('/')) };
}

/**
 * The family name of a model id: snapshot dates, `-latest`, Bedrock's `vendor.` prefix and
 * `-v1:0` suffix, Vertex's `@date` and Gemini's `-001` removed; dots as dashes
 * (`claude-3.5-haiku` and `claude-3-5-haiku` are one model).
 *
 * @example
 * canonicalModelName('anthropic.claude-sonnet-4-20250514-v1:0'); // → 'claude-sonnet-4'
 */
export function canonicalModelName(model: string): string {
  let name = model.trim().toLowerCase();
  name = name.replace(/^(anthropic|meta|amazon|cohere|mistral|ai21|deepseek|openai)\./, '');
  name = name.replace(/-v\d+(:\d+)?$/, '');
  name = name.replace(/@(\d{8}|latest)$/, '');
  name = name.replace(/-latest$/, '');
  name = name.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  name = name.replace(/-\d{8}$/, '');
  name = name.replace(/-\d{3}$/, '');
  name = name.replaceAll('.', '-');
  // Anthropic's aliases `claude-sonnet-4-0` / `claude-opus-4-0` name the `…-4` family.
  name = name.replace(/(\d)-0$/, '$1');
  return name;
}

function validatePrice(value: unknown, path: string): ModelPrice {
  if (typeof value !== 'object' || value === null)
    throw new ConfigError({ message: 'must be an object of USD-per-million prices', param: path });
  const record = value as Record<string, unknown>;
  const known = [
    'inputPerMillion',
    'outputPerMillion',
    'cachedInputPerMillion',
    'cacheWritePerMillion',
    'reasoningPerMillion',
  ];
  for (const key of Object.keys(record)) {
    if (!known.includes(key))
      throw new ConfigError({
        message: `unknown price field (expected one of ${known.join(', ')})`,
        param: `${path}.${key}`,
      });
  }
  const rate = (key: string, required: boolean): number | undefined => {
    const rateValue = record[key];
    if (rateValue === undefined && !required) return undefined;
    if (typeof rateValue !== 'number' || !Number.isFinite(rateValue) || rateValue < 0) {
      throw new ConfigError({
        message: 'must be a non-negative number of USD per million tokens',
        param: `${path}.${key}`,
      });
    }
    return rateValue;
  };
  const price: ModelPrice = {
    inputPerMillion: rate('inputPerMillion', true) ?? 0,
    outputPerMillion: rate('outputPerMillion', true) ?? 0,
  };
  const cached = rate('cachedInputPerMillion', false);
  if (cached !== undefined) price.cachedInputPerMillion = cached;
  const write = rate('cacheWritePerMillion', false);
  if (write !== undefined) price.cacheWritePerMillion = write;
  const reasoning = rate('reasoningPerMillion', false);
  if (reasoning !== undefined) price.reasoningPerMillion = reasoning;
  return Object.freeze(price);
}
