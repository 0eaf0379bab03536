import { z } from 'zod';
import { providerDefinitions, resolveDeploymentOptions } from '../providers/index.ts';
import { balancingStrategies, maxDeadlineMs } from '../resilience/index.ts';
import { cacheRuleSchema } from '../cache/index.ts';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const id = z
  .string()
  .regex(idPattern, 'must be 1-128 letters, digits or . _ : / - (starting with a letter or digit)');

export const priceSchema = z.object({
  inputPerMillion: z.number().nonnegative(),
  outputPerMillion: z.number().nonnegative(),
  cachedInputPerMillion: z.number().nonnegative().optional(),
  cacheWritePerMillion: z.number().nonnegative().optional(),
  reasoningPerMillion: z.number().nonnegative().optional(),
});

// Every duration has a ceiling: a timer past 2^31 ms fires at once, and an hour-long wait is already a stall.
const atMostAnHour = `must be at most ${maxDeadlineMs} (one hour)`;
const milliseconds = z.number().int().nonnegative().max(maxDeadlineMs, atMostAnHour);
const positiveMilliseconds = z.number().int().positive().max(maxDeadlineMs, atMostAnHour);

/** A deadline for every operation, or per operation (the others keep their defaults). */
const deadlineSchema = z.union([
  positiveMilliseconds,
  z.strictObject({
    chat: positiveMilliseconds.optional(),
    chatStream: positiveMilliseconds.optional(),
    embeddings: positiveMilliseconds.optional(),
    images: positiveMilliseconds.optional(),
  }),
]);

/** Retries of one deployment (see docs/configuration.md#resilience). */
export const retrySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20).optional(),
  initialDelayMs: milliseconds.optional(),
  maxDelayMs: milliseconds.optional(),
  maxRetryAfterMs: milliseconds.optional(),
});

export const timeoutsSchema = z.strictObject({
  /** Streams: from the call's start to the first content chunk. */
  firstTokenMs: positiveMilliseconds.optional(),
  /** Streams: the longest silence between two chunks. */
  idleMs: positiveMilliseconds.optional(),
});

export const breakerSchema = z.strictObject({
  consecutiveFailures: z.number().int().min(1).optional(),
  failureRate: z.number().gt(0).max(1).optional(),
  minimumCalls: z.number().int().min(1).optional(),
  windowMs: positiveMilliseconds.optional(),
  openMs: positiveMilliseconds.optional(),
  maxOpenMs: positiveMilliseconds.optional(),
  halfOpenProbes: z.number().int().min(1).optional(),
});

/** Our own limits (the provider's are enforced by the provider). */
export const rateLimitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
});

export const resilienceSchema = z.strictObject({
  /**
   * The overall deadline of a call nobody set one for: one value for every operation, or
   * `{ chat, chatStream, embeddings, images }`; unset ones keep the defaults (120 s, 600 s, 30 s, 180 s).
   */
  deadlineMs: deadlineSchema.optional(),
  /** TCP (and TLS) connect timeout for every upstream; a slow connect is a retryable `provider.timeout`. */
  connectTimeoutMs: positiveMilliseconds.default(10_000),
  retry: retrySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  breaker: breakerSchema.optional(),
  /** Calls in flight per tenant; unlimited when unset. */
  maxInFlightPerTenant: z.number().int().positive().optional(),
  /** Requests and tokens per minute per tenant. */
  tenantLimits: rateLimitsSchema.optional(),
  /** Over a bulkhead cap: wait in line (up to maxQueueMs and the deadline) or answer 429 at once. */
  overflow: z.enum(['queue', 'reject']).default('queue'),
  maxQueueMs: milliseconds.default(10_000),
  /** When every deployment's breaker is open: wait this long at most for the first to half-open. */
  waitForRecoveryMs: milliseconds.default(30_000),
});

const deploymentFieldsSchema = z.strictObject({
  id,
  /** A registered provider (providers/provider-definitions.ts): openai, anthropic, gemini, openai-compatible, azure, sim. */
  provider: z.string().min(1),
  model: z.string().min(1),
  baseUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .transform((url) => url.replace(/\/+$/, '')),
  apiKey: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** The provider's own settings, checked by the provider's definition (docs/configuration.md). */
  options: z.record(z.string(), z.unknown()).optional(),
  /** @deprecated `options.apiVersion` (azure) or `options.version` (anthropic). */
  apiVersion: z.string().optional(),
  /** @deprecated `options.deploymentName` (azure). */
  azureDeployment: z.string().optional(),
  /** @deprecated `options.wireFormat` (sim). */
  wireFormat: z.string().optional(),
  /** @deprecated `options.defaultMaxTokens` (anthropic). */
  defaultMaxTokens: z.number().optional(),
  contextWindow: z.number().int().positive().optional(),
  /** Price override in USD per million tokens; otherwise the maintained catalog is used. */
  price: priceSchema.optional(),
  /** Share of traffic under the `weighted` strategy (default 1; 0 = only as a fallback). */
  weight: z.number().nonnegative().optional(),
  /** Calls in flight on this deployment at most; when full the next deployment is tried. */
  maxInFlight: z.number().int().positive().optional(),
  /** Requests and tokens per minute we send to this deployment at most. */
  limits: rateLimitsSchema.optional(),
  retry: retrySchema.optional(),
  timeouts: timeoutsSchema.optional(),
  breaker: breakerSchema.optional(),
});

/**
 * A deployment: the provider must be registered and its `options` must satisfy the provider's
 * definition; the older top-level spellings (`apiVersion`, `azureDeployment`, `wireFormat`,
 * `defaultMaxTokens`) are moved under `options` by the provider that used them.
 */
export const deploymentSchema = deploymentFieldsSchema.transform(
  ({ apiVersion, azureDeployment, wireFormat, defaultMaxTokens, options, ...deployment }, context) => {
    const resolved = resolveDeploymentOptions(providerDefinitions, {
      provider: deployment.provider,
      options,
      legacy: { apiVersion, azureDeployment, wireFormat, defaultMaxTokens },
    });
    for (const issue of resolved.issues)
      context.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: options });
    const out: typeof deployment & { options?: Record<string, unknown> } = deployment;
    if (resolved.options !== undefined) out.options = resolved.options;
    return out;
  },
);

export const modelGroupSchema = z.strictObject({
  name: id,
  /** Deployment ids; the strategy orders them per call, the rest of the order is the fallback chain. */
  deployments: z.array(id).min(1, 'must list at least one deployment'),
  description: z.string().optional(),
  strategy: z.enum(balancingStrategies).default('ordered'),
  /** Model groups tried in order when every deployment of this one failed with an error another could avoid. */
  fallbacks: z.array(id).default([]),
  /** The group to try when the prompt is too long (a larger context window). */
  contextLengthFallback: id.optional(),
  /** The group to try when a content filter refused the prompt or the answer. */
  contentFilterFallback: id.optional(),
});

export const stepTypeConfigSchema = z.strictObject({
  name: id,
  modelGroup: id,
  description: z.string().optional(),
  /** Mustache-style templates: `{{input.topic}}`, `{{context.brand}}`. */
  system: z.string().optional(),
  prompt: z.string().min(1),
  /** JSON Schema the answer must satisfy. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  /** This step type's deadline (wins over resilience.deadlineMs). */
  deadlineMs: positiveMilliseconds.optional(),
  /** Retry and timeout policy for this step type's calls (wins over the deployment's). */
  retry: retrySchema.optional(),
  timeouts: timeoutsSchema.optional(),
});

/** The semantic cache's defaults (the rule part) and its index and embedder settings. */
const semanticCacheSchema = z.strictObject({
  ...cacheRuleSchema.shape.semantic.unwrap().shape,
  /**
   * Which embedder turns requests into vectors: `local` (Universal Sentence Encoder, offline, in
   * process) or a model group of this config that serves embeddings (`modelGroup: embed`).
   */
  embedder: z.union([z.literal('local'), z.strictObject({ modelGroup: z.string().min(1) })]).default('local'),
  /**
   * The time budget of one provider embedding call (retries included): a slow or failing embedder
   * turns a lookup into a miss quickly instead of holding the chat call.
   */
  embedTimeoutMs: z.number().int().positive().default(2_000),
  /** Most entries held in all; least recently used first. */
  maxEntries: z.number().int().positive().default(100_000),
  /** Most entries per namespace (tenant + step type + model group + system prompt). */
  maxEntriesPerNamespace: z.number().int().positive().default(10_000),
  /** Most entries of one tenant (its least recently used go first); default: `maxEntries`. */
  maxEntriesPerTenant: z.number().int().positive().optional(),
});

export const cacheConfigSchema = z.strictObject({
  /** The exact cache on or off for every model group (overridable per group and step type). */
  enabled: z.boolean().default(true),
  /** Where exact-cache entries live: in this process, or in Redis (needs the `redis` section) so gateway processes share them. */
  backend: z.enum(['memory', 'redis']).default('memory'),
  /** Upper bound of the in-process cache in bytes; least recently used entries go first. */
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Upper bound of one tenant's entries in the in-process cache; its own oldest go first. Default: `maxBytes`. */
  maxBytesPerTenant: z.number().int().positive().optional(),
  /** How long a stored answer is served. */
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(3600),
  /** Also cache requests with temperature > 0 and no seed (off: they ask for variety). */
  cacheNonDeterministic: z.boolean().default(false),
  /** Identical concurrent calls share one upstream call. */
  singleFlight: z.boolean().default(true),
  /** The semantic cache (off unless enabled here, or for a model group or step type). */
  semantic: semanticCacheSchema.prefault({}),
  /** Per model group or step type: only the fields given override the defaults above. */
  modelGroups: z.record(z.string(), cacheRuleSchema).default({}),
  stepTypes: z.record(z.string(), cacheRuleSchema).default({}),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(4000),
      /** The bearer key every request must present (until tenants' keys exist). */
      masterKey: z.string().min(16, 'must be at least 16 characters').optional(),
      bodyLimitBytes: z
        .number()
        .int()
        .positive()
        .default(10 * 1024 * 1024),
      /** Serve /metrics without a key (for a Prometheus scraper on a private network). */
      publicMetrics: z.boolean().default(false),
      /** How long graceful shutdown waits for in-flight requests before closing them. */
      shutdownGraceMs: z.number().int().nonnegative().default(30_000),
      /** The body limit of `POST /v1/workflows/runs` (inline definitions and inputs), at most bodyLimitBytes; 0 = bodyLimitBytes. */
      workflowBodyLimitBytes: z
        .number()
        .int()
        .nonnegative()
        .default(1024 * 1024),
      /** How deeply a request body may nest objects and arrays; deeper is a 400. */
      maxJsonDepth: z.number().int().min(1).max(1_000).default(64),
      /** Time for a client to send a whole request (headers and body); 0 = no limit. */
      requestTimeoutMs: z.number().int().nonnegative().default(60_000),
      /** Time for a client to send the request headers; 0 = no limit. At most requestTimeoutMs. */
      headersTimeoutMs: z.number().int().nonnegative().default(15_000),
    })
    .refine((server) => server.requestTimeoutMs === 0 || server.headersTimeoutMs <= server.requestTimeoutMs, {
      message: 'must be at most server.requestTimeoutMs',
      path: ['headersTimeoutMs'],
    })
    .prefault({}),
  store: z
    .strictObject({
      driver: z.literal('sqlite').default('sqlite'),
      path: z.string().min(1).default('.pipewright/pipewright.db'),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      flushIntervalMs: z.number().int().positive().default(1000),
      maxBatch: z.number().int().positive().default(500),
    })
    .prefault({}),
  resilience: resilienceSchema.prefault({}),
  /** The exact cache and single-flight of chat calls (see docs/configuration.md#cache). */
  cache: cacheConfigSchema.prefault({}),
  /** Shared state across gateway processes: when set, rate limits are counted in Redis. */
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'),
      /** Prefix of every key Pipewright writes (every key also has a TTL). */
      keyPrefix: z.string().min(1).max(100).default('pipewright:'),
    })
    .optional(),
  defaultTenant: id.default('default'),
  deployments: z.array(deploymentSchema).default([]),
  modelGroups: z.array(modelGroupSchema).default([]),
  stepTypes: z.array(stepTypeConfigSchema).default([]),
  /** YAML workflow files the gateway serves (`POST /v1/workflows/runs` by id), relative to the working directory. */
  workflows: z.array(z.string().min(1)).default([]),
});

export type PipewrightConfig = z.infer<typeof configSchema>;
export type DeploymentConfig = z.infer<typeof deploymentSchema>;
export type ModelGroupConfig = z.infer<typeof modelGroupSchema>;
export type StepTypeConfig = z.infer<typeof stepTypeConfigSchema>;
export type PriceConfig = z.infer<typeof priceSchema>;
export type ResilienceConfig = z.infer<typeof resilienceSchema>;
export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type PipewrightConfigInput = z.input<typeof configSchema>;
