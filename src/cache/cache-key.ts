import { hashValue } from '../core/index.ts';
import type { ChatRequest } from '../spec/index.ts';

/** Who and what a cached answer belongs to: every key and namespace is built from it. */
export interface CacheScope {
  /** The tenant (workspace) id: part of every key, so no lookup can cross tenants. */
  tenant: string;
  /** The step type the call runs as (`chat` for plain chat calls). */
  stepType: string;
  /** The resolved model group the request is routed to. */
  modelGroup: string;
  /**
   * A hash of the model group's configuration (deployments, prompts, parameters): when the
   * configuration changes, every old key becomes unreachable, so no entry outlives it.
   */
  configFingerprint: string;
}

/**
 * Request fields that never change the answer: who asked, how it is delivered, bookkeeping.
 * `model` is replaced by the scope's resolved model group. Everything else (including unknown,
 * provider-specific fields) is part of the key: an unknown field is assumed to matter.
 */
export const fieldsIgnoredByCacheKey = [
  'model',
  'user',
  'metadata',
  'stream',
  'stream_options',
  'request_id',
  'store',
] as const;

const ignored = new Set<string>(fieldsIgnoredByCacheKey);

/** Key format version: bump when the key material changes so old entries are never read. */
const keyVersion = 1;

/**
 * The part of a request that decides the answer: the request less the ignored fields, with
 * `null` treated as absent (OpenAI treats them alike).
 *
 * @example
 * selectAnswerFields({ model: 'm', messages: [], user: 'u', temperature: null }); // { messages: [] }
 */
export function selectAnswerFields(request: ChatRequest): Record<string, unknown> {
  const selected: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request)) {
    if (ignored.has(field) || value === null || value === undefined) continue;
    selected[field] = value;
  }
  return selected;
}

/**
 * The exact-cache key: `pw:v1:` + sha256 of the scope and the answer-deciding fields. Always
 * 70 characters, never the payload (large keys slow Redis down).
 *
 * @example
 * createCacheKey({ tenant: 't1', stepType: 'chat', modelGroup: 'fast', configFingerprint: 'abc' }, request);
 * // "pw:v1:3f1c…"
 */
export function createCacheKey(scope: CacheScope, request: ChatRequest): string {
  return `pw:v${keyVersion}:${hashValue({ scope: selectScope(scope), request: selectAnswerFields(request) })}`;
}

/**
 * A configuration fingerprint: sha256 of any JSON value (the model group's resolved config).
 *
 * @example
 * fingerprintConfig({ deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] });
 */
export function fingerprintConfig(config: unknown): string {
  return hashValue(config);
}

function selectScope(scope: CacheScope): CacheScope {
  return {
    tenant: scope.tenant,
    stepType: scope.stepType,
    modelGroup: scope.modelGroup,
    configFingerprint: scope.configFingerprint,
  };
}
