import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createFastHistogram } from './fast-histogram.ts';
import type { CallRecord } from './call-record.ts';

/** Token-count buckets from the OpenTelemetry GenAI conventions (`gen_ai.client.token.usage`). */
export const tokenUsageBuckets = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** Duration buckets (seconds) from the OpenTelemetry GenAI conventions (`gen_ai.client.operation.duration`). */
export const operationDurationBuckets = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** The gateway's own overhead is sub-millisecond to a few ms; these buckets resolve that range. */
const overheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const requestDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One finished HTTP request, as the gateway reports it. */
export interface HttpRequestObservation {
  /** The route pattern (`/v1/chat/completions`), never the raw URL (bounded label values). */
  route: string;
  status: number;
  /** The PipewrightError code when the request failed. */
  errorCode?: string | undefined;
  durationMs: number;
  /** Time spent in the gateway itself, excluding upstream time. */
  overheadMs?: number | undefined;
}

/**
 * Prometheus metrics for one Pipewright instance, in a registry of its own (never prom-client's
 * global default), so two instances in one process never collide.
 */
export interface Metrics {
  readonly registry: Registry;
  /** The `content-type` to answer `/metrics` with. */
  readonly contentType: string;
  /** Counts one model call (cheap: safe on the hot path). */
  observeCall(record: CallRecord): void;
  observeHttpRequest(observation: HttpRequestObservation): void;
  /** Counts call records the telemetry recorder had to drop. */
  observeTelemetryDropped(count: number): void;
  /**
   * Reads circuit-breaker states at each scrape into `pipewright_circuit_state{deployment}`
   * (0 closed, 1 half-open, 2 open). A later call replaces the source.
   */
  trackCircuitBreakers(
    source: () => ReadonlyArray<{ deployment: string; state: 'closed' | 'half_open' | 'open' }>,
  ): void;
  /**
   * Counts what the cache did besides hits and misses, into `pipewright_cache_events_total{event}`:
   * `degraded_answer` (a semantic neighbour served because every route failed) and failures that
   * the call went on without (`semantic_lookup_failed`, `semantic_store_failed`,
   * `semantic_restore_failed`, `exact_store_failed`).
   */
  observeCacheEvent(event: CacheEvent): void;
  /** Reads the semantic cache's size at each scrape into `pipewright_cache_semantic_entries`. */
  trackSemanticCache(source: () => { entries: number; namespaces: number }): void;
  /** The exposition text for `/metrics`. */
  render(): Promise<string>;
}

export const cacheEvents = [
  'degraded_answer',
  'semantic_lookup_failed',
  'semantic_store_failed',
  'semantic_restore_failed',
  'exact_store_failed',
] as const;
export type CacheEvent = (typeof cacheEvents)[number];

export interface MetricsOptions {
  /** Collect Node process metrics (CPU, memory, event loop lag) into the registry. Default true. */
  defaultMetrics?: boolean;
}

/** The OTel `gen_ai.provider.name` for an adapter name; adapters without a registered value keep their own. */
const genAiProviderNames: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  azure: 'azure.ai.openai',
};

/** Label children are cached by key; the bound keeps a runaway label value from growing memory forever. */
const maxCachedChildren = 10_000;

/**
 * Creates the metrics of one instance: the GenAI client metrics (`gen_ai_client_token_usage`,
 * `gen_ai_client_operation_duration_seconds`, `gen_ai_client_operation_time_to_first_chunk_seconds`)
 * and Pipewright's own counters.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.observeCall(record);
 * metrics.observeHttpRequest({ route: '/v1/chat/completions', status: 200, durationMs: 412, overheadMs: 0.4 });
 * reply.header('content-type', metrics.contentType).send(await metrics.render());
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  // Created in this order, which is the order of the exposition.
  const genAi = createGenAiMetrics(registry);
  const http = createHttpMetrics(registry);
  const callCounters = createCallCounters(registry);
  const cache = createCacheMetrics(registry);
  const gateway = createGatewayMetrics(registry);
  const cacheState = createCacheStateMetrics(registry);
  const breakers = createCircuitStateGauge(registry);
  const child = createChildCache();

  return {
    registry,
    contentType: registry.contentType,
    observeCall(record) {
      countCall(record, callCounters, child);
      if (record.operation === 'chat') countCacheOutcome(record, cache, child);
      // The GenAI client metrics describe upstream calls; a cache hit made none.
      if (record.provider !== null) observeGenAiCall(record, record.provider, genAi, child);
    },
    observeHttpRequest(observation) {
      const status = String(observation.status);
      child(`req\u0001${observation.route}\u0001${status}`, () =>
        http.requests.labels({ route: observation.route, status }),
      ).inc();
      child(`reqdur\u0001${observation.route}`, () =>
        http.requestDuration.labels({ route: observation.route }),
      ).observe(observation.durationMs / 1000);
      if (observation.errorCode !== undefined) {
        const code = observation.errorCode;
        child(`err\u0001${code}`, () => http.requestErrors.labels({ code })).inc();
      }
      if (observation.overheadMs !== undefined) gateway.overhead.observe(observation.overheadMs / 1000);
    },
    observeTelemetryDropped(count) {
      if (count > 0) gateway.telemetryDropped.inc(count);
    },
    trackCircuitBreakers(source) {
      breakers.source = source;
    },
    observeCacheEvent(event) {
      cacheState.events.labels({ event }).inc();
    },
    trackSemanticCache(source) {
      cacheState.semanticSource = source;
    },
    render: () => registry.metrics(),
  };
}

type MetricChild = { observe(value: number): void } | { inc(value?: number): void };
type ChildCache = <T extends MetricChild>(key: string, create: () => T) => T;

/**
 * prom-client hashes and validates a labels object on every call; binding children once per
 * label combination keeps observeCall to a string join and a Map lookup.
 */
function createChildCache(): ChildCache {
  const children = new Map<string, MetricChild>();
  return <T extends MetricChild>(key: string, create: () => T): T => {
    const found = children.get(key);
    if (found !== undefined) return found as T;
    if (children.size >= maxCachedChildren) children.clear();
    const created = create();
    children.set(key, created);
    return created;
  };
}

const genAiLabels = [
  'gen_ai_operation_name',
  'gen_ai_provider_name',
  'gen_ai_request_model',
  'gen_ai_response_model',
] as const;

/** The OpenTelemetry GenAI client metrics, one series per operation, provider and model. */
function createGenAiMetrics(registry: Registry) {
  return {
    tokenUsage: createFastHistogram({
      name: 'gen_ai_client_token_usage',
      help: 'Number of input and output tokens used per model call ({token}).',
      labelNames: [...genAiLabels, 'gen_ai_token_type'],
      buckets: tokenUsageBuckets,
      registry,
    }),
    operationDuration: createFastHistogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of model calls, in seconds.',
      labelNames: [...genAiLabels, 'error_type'],
      buckets: operationDurationBuckets,
      registry,
    }),
    timeToFirstChunk: createFastHistogram({
      name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
      help: 'Time from the start of a streamed model call to its first chunk, in seconds.',
      labelNames: genAiLabels,
      buckets: operationDurationBuckets,
      registry,
    }),
  };
}

function createHttpMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'pipewright_requests_total',
      help: 'HTTP requests answered by the gateway.',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    requestErrors: new Counter({
      name: 'pipewright_request_errors_total',
      help: 'HTTP requests that failed, by Pipewright error code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    requestDuration: createFastHistogram({
      name: 'pipewright_request_duration_seconds',
      help: 'Duration of HTTP requests answered by the gateway, in seconds.',
      labelNames: ['route'],
      buckets: requestDurationBuckets,
      registry,
    }),
  };
}

function createCallCounters(registry: Registry) {
  return {
    calls: new Counter({
      name: 'pipewright_calls_total',
      help: 'Model calls handled by the engine, including cache hits.',
      labelNames: ['tenant', 'model_group', 'deployment', 'outcome', 'cache_status'],
      registers: [registry],
    }),
    cost: new Counter({
      name: 'pipewright_cost_usd_total',
      help: 'Estimated spend in USD on model calls (calls with an unknown price are not counted).',
      labelNames: ['tenant', 'model_group'],
      registers: [registry],
    }),
  };
}

/** What the cache did for chat calls, what it saved, and the hit ratios since start. */
function createCacheMetrics(registry: Registry) {
  // Counted here as well as in the requests counter so the ratios are ready to read on a dashboard.
  const counts = { hit: 0, 'semantic-hit': 0, shared: 0, miss: 0 };
  const shareOfLookups = (name: string, help: string, status: 'hit' | 'semantic-hit') =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const lookups = counts.hit + counts['semantic-hit'] + counts.shared + counts.miss;
        this.set(lookups === 0 ? 0 : counts[status] / lookups);
      },
    });
  const metrics = {
    counts,
    requests: new Counter({
      name: 'pipewright_cache_requests_total',
      help: 'Chat calls by what the cache did: hit, semantic-hit, miss (looked up, not found) or bypass (not looked up).',
      labelNames: ['status'],
      registers: [registry],
    }),
    savedCost: new Counter({
      name: 'pipewright_cache_saved_cost_usd_total',
      help: "Estimated spend in USD avoided by cache hits (the original calls' cost).",
      registers: [registry],
    }),
    savedLatency: new Counter({
      name: 'pipewright_cache_saved_latency_seconds_total',
      help: "Model latency avoided by cache hits (the original calls' latency), in seconds.",
      registers: [registry],
    }),
  };
  shareOfLookups(
    'pipewright_cache_hit_ratio',
    'Share of cache lookups (hit + semantic-hit + shared + miss) answered by the exact cache, since start.',
    'hit',
  );
  shareOfLookups(
    'pipewright_cache_semantic_hit_ratio',
    'Share of cache lookups (hit + semantic-hit + shared + miss) answered by the semantic cache, since start.',
    'semantic-hit',
  );
  return metrics;
}

function createGatewayMetrics(registry: Registry) {
  return {
    overhead: createFastHistogram({
      name: 'pipewright_gateway_overhead_seconds',
      help: 'Time spent inside the gateway per request, excluding upstream time, in seconds.',
      buckets: overheadBuckets,
      registry,
    }),
    telemetryDropped: new Counter({
      name: 'pipewright_telemetry_dropped_total',
      help: 'Call records dropped because the telemetry queue was full.',
      registers: [registry],
    }),
  };
}

/** Cache events besides hits and misses, and the semantic cache's size read at each scrape. */
function createCacheStateMetrics(registry: Registry) {
  const state: {
    events: Counter<'event'>;
    semanticSource: (() => { entries: number; namespaces: number }) | undefined;
  } = {
    events: new Counter({
      name: 'pipewright_cache_events_total',
      help: 'Cache events besides hits and misses: degraded answers served during outages, and cache failures the calls went on without.',
      labelNames: ['event'],
      registers: [registry],
    }),
    semanticSource: undefined,
  };
  for (const event of cacheEvents) state.events.labels({ event }).inc(0);
  new Gauge({
    name: 'pipewright_cache_semantic_entries',
    help: 'Entries held by the semantic cache (all tenants).',
    registers: [registry],
    collect() {
      this.set(state.semanticSource?.().entries ?? 0);
    },
  });
  return state;
}

type BreakerSource = () => ReadonlyArray<{ deployment: string; state: 'closed' | 'half_open' | 'open' }>;

const circuitStateValues = { closed: 0, half_open: 1, open: 2 } as const;

/** `pipewright_circuit_state{deployment}`, read from the tracked source at each scrape. */
function createCircuitStateGauge(registry: Registry): { source: BreakerSource | undefined } {
  const tracked: { source: BreakerSource | undefined } = { source: undefined };
  new Gauge({
    name: 'pipewright_circuit_state',
    help: 'Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open.',
    labelNames: ['deployment'],
    registers: [registry],
    collect() {
      if (tracked.source === undefined) return;
      this.reset();
      for (const entry of tracked.source())
        this.labels({ deployment: entry.deployment }).set(circuitStateValues[entry.state]);
    },
  });
  return tracked;
}

function countCall(
  record: CallRecord,
  counters: ReturnType<typeof createCallCounters>,
  child: ChildCache,
): void {
  const deployment = record.deployment ?? '';
  child(
    `calls\u0001${record.tenantId}\u0001${record.modelGroup}\u0001${deployment}\u0001${record.outcome}\u0001${record.cacheStatus}`,
    () =>
      counters.calls.labels({
        tenant: record.tenantId,
        model_group: record.modelGroup,
        deployment,
        outcome: record.outcome,
        cache_status: record.cacheStatus,
      }),
  ).inc();
  if (record.costUsd !== null && record.costUsd > 0) {
    child(`cost\u0001${record.tenantId}\u0001${record.modelGroup}`, () =>
      counters.cost.labels({ tenant: record.tenantId, model_group: record.modelGroup }),
    ).inc(record.costUsd);
  }
}

function countCacheOutcome(
  record: CallRecord,
  cache: ReturnType<typeof createCacheMetrics>,
  child: ChildCache,
): void {
  child(`cache\u0001${record.cacheStatus}`, () =>
    cache.requests.labels({ status: record.cacheStatus }),
  ).inc();
  if (record.cacheStatus !== 'bypass') cache.counts[record.cacheStatus] += 1;
  if (record.savedCostUsd !== undefined && record.savedCostUsd !== null && record.savedCostUsd > 0)
    cache.savedCost.inc(record.savedCostUsd);
  if (record.savedLatencyMs !== undefined && record.savedLatencyMs !== null && record.savedLatencyMs > 0)
    cache.savedLatency.inc(record.savedLatencyMs / 1000);
}

/** Tokens, duration (with the error type when it failed) and, for streams, time to the first chunk. */
function observeGenAiCall(
  record: CallRecord,
  adapter: string,
  genAi: ReturnType<typeof createGenAiMetrics>,
  child: ChildCache,
): void {
  const provider = genAiProviderNames[adapter] ?? adapter;
  const responseModel = record.model ?? '';
  const base = `${record.operation}\u0001${provider}\u0001${record.modelGroup}\u0001${responseModel}`;
  const labels = {
    gen_ai_operation_name: record.operation,
    gen_ai_provider_name: provider,
    gen_ai_request_model: record.modelGroup,
    gen_ai_response_model: responseModel,
  };
  if (record.outcome === 'success' || record.inputTokens > 0 || record.outputTokens > 0) {
    child(`tok\u0001${base}\u0001input`, () =>
      genAi.tokenUsage.labels({ ...labels, gen_ai_token_type: 'input' }),
    ).observe(record.inputTokens);
    child(`tok\u0001${base}\u0001output`, () =>
      genAi.tokenUsage.labels({ ...labels, gen_ai_token_type: 'output' }),
    ).observe(record.outputTokens);
  }
  if (record.outcome === 'error') {
    const errorType = record.errorCode ?? '_OTHER';
    child(`dur\u0001${base}\u0001${errorType}`, () =>
      genAi.operationDuration.labels({ ...labels, error_type: errorType }),
    ).observe(record.latencyMs / 1000);
  } else {
    child(`dur\u0001${base}`, () => genAi.operationDuration.labels(labels)).observe(record.latencyMs / 1000);
  }
  if (record.streamed && record.timeToFirstTokenMs !== null) {
    child(`ttfc\u0001${base}`, () => genAi.timeToFirstChunk.labels(labels)).observe(
      record.timeToFirstTokenMs / 1000,
    );
  }
}
