import type { ProviderError } from '../../core/index.ts';
import { createUpstreamError, previewText, tryParseJson } from '../shared/index.ts';
import type { Deployment, UpstreamFailure } from '../types.ts';
import { openAIErrorBodySchema } from './openai-api-schemas.ts';

/** The facts read out of an OpenAI-style error body. */
export interface OpenAIErrorFacts {
  message: string | undefined;
  /** `error.code` when it is a word (either may be missing). */
  code: string | undefined;
  type: string | undefined;
  /** A numeric code that looks like an HTTP status (Azure puts `"429"` in stream errors). */
  statusFromCode: number | undefined;
  /** `error.code` exactly as sent (a number as its digits), for the client: see ProviderError.upstreamCode. */
  upstreamCode: string | undefined;
  /** `error.param` as sent: `null` when the upstream sent `null`, undefined when it sent none. */
  param: string | null | undefined;
}

const noFacts: OpenAIErrorFacts = {
  message: undefined,
  code: undefined,
  type: undefined,
  statusFromCode: undefined,
  upstreamCode: undefined,
  param: undefined,
};

/**
 * Reads message/code/type/param from any OpenAI-style error body: the `{error:{…}}` envelope,
 * Ollama's `{error:"…"}`, vLLM's flat `{object:"error",message,type,code,param}`, FastAPI's `{detail}`.
 *
 * @example
 * readOpenAIErrorFacts({ error: { message: 'Rate limit', type: 'requests', code: 'rate_limit_exceeded', param: null } });
 * // { message: 'Rate limit', code: 'rate_limit_exceeded', type: 'requests', upstreamCode: 'rate_limit_exceeded', param: null, statusFromCode: undefined }
 */
export function readOpenAIErrorFacts(body: unknown): OpenAIErrorFacts {
  const parsed = openAIErrorBodySchema.safeParse(body);
  if (!parsed.success) return noFacts;
  const wire = parsed.data;
  const error = wire.error;
  if (typeof error === 'string') return { ...noFacts, message: error };
  const rawCode = error?.code ?? wire.code ?? undefined;
  const code = typeof rawCode === 'string' && !/^\d{3}$/.test(rawCode) ? rawCode : undefined;
  const numeric =
    typeof rawCode === 'number'
      ? rawCode
      : typeof rawCode === 'string' && /^\d{3}$/.test(rawCode)
        ? Number(rawCode)
        : undefined;
  const statusFromCode = numeric !== undefined && numeric >= 400 && numeric < 600 ? numeric : undefined;
  const message = describe(error?.message) ?? describe(wire.message) ?? describe(wire.detail);
  // The envelope's param wins; a flat body (vLLM) carries it at the top level.
  const param = error === undefined || error === null ? wire.param : error.param;
  return {
    message,
    code,
    type: error?.type ?? wire.type ?? undefined,
    statusFromCode,
    upstreamCode: rawCode === undefined ? undefined : String(rawCode),
    param,
  };
}

function describe(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Maps a failed OpenAI(-compatible) response to the taxonomy, keeping `error.code`, `error.type`
 * and `error.param` as sent (`upstreamCode`, `upstreamType`, `upstreamParam`): `insufficient_quota` (a 429!) →
 * quota_exhausted, `context_length_exceeded` → context_length_exceeded, `content_filter` /
 * `content_policy_violation` → content_filtered, 503 `server_is_overloaded` → overloaded,
 * with retry-after from `retry-after-ms`, `x-ms-retry-after-ms` or `retry-after`.
 *
 * @example
 * const error = mapOpenAIError({ status: 429, headers: { 'retry-after': '2' }, body: '{"error":{"code":"rate_limit_exceeded"}}' }, deployment, 'openai');
 * error.kind; // 'rate_limited'; error.retryAfterMs === 2000
 */
export function mapOpenAIError(
  failure: UpstreamFailure,
  deployment: Deployment,
  provider: string,
  now?: number,
): ProviderError {
  const body = tryParseJson(failure.body);
  const facts = readOpenAIErrorFacts(body);
  const message = facts.message ?? (failure.body === '' ? undefined : previewText(failure.body, 200));
  return createUpstreamError({
    provider,
    deployment: deployment.id,
    status: failure.status,
    headers: failure.headers,
    codes: [facts.code, facts.type],
    message,
    providerCode: facts.code ?? facts.type,
    upstreamCode: facts.upstreamCode,
    upstreamType: facts.type,
    upstreamParam: facts.param,
    ...(now === undefined ? {} : { now }),
  });
}

/**
 * An error object found inside a 200 stream (Azure, vLLM, OpenRouter send them) → ProviderError.
 *
 * @example
 * throw mapOpenAIStreamError({ error: { message: 'overloaded', type: 'server_error' } }, deployment, 'azure');
 */
export function mapOpenAIStreamError(body: unknown, deployment: Deployment, provider: string): ProviderError {
  const facts = readOpenAIErrorFacts(body);
  return createUpstreamError({
    provider,
    deployment: deployment.id,
    status: facts.statusFromCode ?? 200,
    codes: [facts.code, facts.type],
    message: facts.message,
    providerCode: facts.code ?? facts.type,
    upstreamCode: facts.upstreamCode,
    upstreamType: facts.type,
    upstreamParam: facts.param,
  });
}
