import type { CacheControl } from '../cache/index.ts';
import type { ProviderErrorKind } from '../core/index.ts';
import type { CacheStatus, TokenUsage } from '../spec/index.ts';

/** Per-call options shared by every engine method. */
export interface EngineCallOptions {
  /**
   * The tenant (workspace) this call belongs to. The gateway always sets it from the caller's
   * credentials; a library call without it belongs to the configured `defaultTenant`. It is
   * resolved once, when the call enters the engine.
   */
  tenantId?: string;
  /** Correlates logs, telemetry and the `x-request-id` header; generated when absent. */
  requestId?: string;
  /** W3C trace id (32 hex chars); generated when absent. */
  traceId?: string;
  /** Aborts the call (and the upstream request). */
  signal?: AbortSignal;
  /** Extra headers forwarded to the upstream for this call only. */
  upstreamHeaders?: Record<string, string>;
  /** The step type this call serves, for telemetry and its resilience policy. */
  stepType?: string;
  /**
   * The overall time budget of this call in ms (retries, fallbacks and, for streams, the whole
   * stream included). Wins over the step type's and the configured default.
   */
  deadlineMs?: number;
  /**
   * Cache directives for this call, as in the `x-pipewright-cache-control` header: `no-store`,
   * `no-cache`, `force-refresh`, `ttl=<seconds>`, comma-separated (a bad directive is a 400 naming
   * `cache`), or directives already parsed by `parseCacheControl` (the gateway parses its header once).
   */
  cache?: string | CacheControl;
}

/** One try at one deployment (or one deployment skipped because its breaker was open or it was full). */
export interface CallAttempt {
  deployment: string;
  provider: string;
  /** The model group the deployment was tried for (differs from the request's after a group fallback). */
  modelGroup: string;
  /** Null when the attempt succeeded; `gateway.circuit_open` / `gateway.overloaded` when skipped. */
  errorCode: string | null;
  errorKind: ProviderErrorKind | null;
  durationMs: number;
  /** True when this was a retry on the same deployment (after a backoff). */
  retry: boolean;
}

/** What the engine knows about a finished call, returned beside the payload. */
export interface CallMeta {
  tenantId: string;
  requestId: string;
  traceId: string;
  modelGroup: string;
  provider: string;
  model: string;
  deployment: string;
  /** True when the deployment is the sim provider (never a real model). */
  simulated: boolean;
  usage: TokenUsage;
  costUsd: number | null;
  latencyMs: number;
  /** Time spent waiting on upstreams, so the rest is our overhead. */
  upstreamMs: number;
  timeToFirstTokenMs: number | null;
  cacheStatus: CacheStatus;
  /** On a cache hit: what the original call cost (USD), now avoided; null otherwise. */
  savedCostUsd: number | null;
  /** On a cache hit: how long the original call took (ms), now avoided; null otherwise. */
  savedLatencyMs: number | null;
  attempts: CallAttempt[];
  /** On a semantic hit: how close the stored request was and how far to trust the answer. */
  semantic?: SemanticMatch;
}

/** A semantic-cache answer: a stored answer to a request similar enough to this one. */
export interface SemanticMatch {
  /** Cosine similarity of this request to the stored one (after concept normalisation). */
  similarity: number;
  /** 0–1; halved when the answer was served only because every route failed (`degraded`). */
  confidence: number;
  /** The stored request whose answer was served. */
  matchedText: string;
  /** True when every route failed and this neighbour was served instead of an error. */
  degraded: boolean;
}

/** Where a step's output came from. */
export type StepOutputSource = 'model' | 'model-repaired' | 'rule-fallback' | 'function';

/** The result of `engine.run`. */
export interface StepResult<Output> {
  output: Output;
  stepType: string;
  usage: TokenUsage;
  costUsd: number | null;
  latencyMs: number;
  /** Upstream model name, or null when a rule-based fallback answered. */
  model: string | null;
  deployment: string | null;
  provider: string | null;
  cacheStatus: CacheStatus;
  /**
   * How much to trust the output, 0..1: 1 for a schema-valid first answer, lower after a repair,
   * a truncated answer or a rule-based fallback (see docs/step-types.md).
   */
  confidence: number;
  source: StepOutputSource;
  traceId: string;
  requestId: string;
  tenantId: string;
  simulated: boolean;
  /** Every model call this step made (the repair attempt is a second call). */
  calls: CallMeta[];
}
