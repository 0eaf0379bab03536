import { createSystemClock, hashValue, PipewrightError, type Clock } from '../core/index.ts';
import { createProviderClient, type Deployment, type ProviderClient } from '../providers/index.ts';
import {
  createAjv,
  parseChatRequest,
  parseEmbeddingsRequest,
  parseImagesRequest,
  type ChatResponse,
  type EmbeddingsResponse,
  type ImagesResponse,
} from '../spec/index.ts';
import {
  createResilience,
  type BreakerSnapshot,
  type BreakerTransition,
  type RateLimitStore,
  type Resilience,
} from '../resilience/index.ts';
import {
  createPriceCatalog,
  type Metrics,
  type ModelPrice,
  type PriceCatalog,
  type TelemetryRecorder,
} from '../telemetry/index.ts';
import type { CacheBackend, SemanticCachePersistence } from '../cache/index.ts';
import { createChatCache } from './create-chat-cache.ts';
import type { CacheLayerDependencies } from './layers/cache-layer.ts';
import { runAdaptedFunction, type AdaptFunctionOptions } from './adapt-function.ts';
import { createCallPipeline, type EngineChatStream } from './call-pipeline.ts';
import type { CallMeta, EngineCallOptions, StepResult } from './engine-types.ts';
import type { DeploymentSettings, EngineSettings } from './engine-settings.ts';
import { createModelCatalog, type ModelGroup } from './model-catalog.ts';
import { runStep, type RunStepOptions } from './run-step.ts';
import {
  createConfiguredStepType,
  normalizeStepType,
  type RegisteredStepType,
  type StepContext,
  type StepTypeDefinition,
} from './step-type.ts';

/** What the engine is built from besides its settings: the parts a host may replace or observe. */
export interface EngineDependencies {
  /** Defaults to an undici-based client created (and closed) by the engine. */
  client?: ProviderClient;
  recorder?: TelemetryRecorder;
  metrics?: Metrics;
  /** Defaults to the maintained catalog with the deployments' price overrides. */
  prices?: PriceCatalog;
  clock?: Clock;
  /** Source of randomness for backoff jitter and weighted balancing (tests pass a seeded one). Default Math.random. */
  random?: () => number;
  /** Called on every circuit-breaker transition (the gateway logs them). */
  onBreakerTransition?: (transition: BreakerTransition) => void;
  /** Where rate-limit counters live; in memory by default. */
  rateLimitStore?: RateLimitStore;
  /** Where exact-cache entries live (a Redis backend shares them across processes); in memory by default. */
  cacheBackend?: CacheBackend;
  /** Where semantic-cache entries are persisted (the store), so the index survives a restart. */
  semanticCachePersistence?: SemanticCachePersistence;
  /** Called when a cache fails and the call goes on without it (the gateway logs it). */
  onCacheError?: CacheLayerDependencies['onCacheError'];
}

type StepEntry =
  | { kind: 'model'; step: RegisteredStepType<unknown, unknown> }
  | { kind: 'function'; adapted: AdaptFunctionOptions<unknown, unknown> };

/**
 * The library API: every AI call of an application goes through one engine.
 *
 * @example
 * const engine = createEngine({ config: { deployments: [...], modelGroups: [...] } });
 * const { response, meta } = await engine.chat({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] });
 * console.log(response.choices[0].message.content, meta.costUsd);
 */
export interface Engine {
  /** The typed settings the engine was built from. */
  readonly settings: EngineSettings;
  chat(request: unknown, options?: EngineCallOptions): Promise<{ response: ChatResponse; meta: CallMeta }>;
  chatStream(request: unknown, options?: EngineCallOptions): Promise<EngineChatStream>;
  embed(
    request: unknown,
    options?: EngineCallOptions,
  ): Promise<{ response: EmbeddingsResponse; meta: CallMeta }>;
  images(
    request: unknown,
    options?: EngineCallOptions,
  ): Promise<{ response: ImagesResponse; meta: CallMeta }>;
  /** Runs a registered step type: prompt builder → model group → validated, typed output. */
  run<Output = unknown>(
    stepType: string,
    input: unknown,
    context?: StepContext,
    options?: RunStepOptions,
  ): Promise<StepResult<Output>>;
  registerStepType<Input, Output>(definition: StepTypeDefinition<Input, Output>): void;
  /**
   * Wraps an existing model-calling function as a step type (observed, not yet engine-called) and
   * returns a function with the same call shape that goes through `engine.run`.
   */
  adaptFunction<Input, Output>(
    options: AdaptFunctionOptions<Input, Output>,
  ): (input: Input, context?: StepContext) => Promise<Output>;
  stepTypes(): string[];
  modelGroups(): ModelGroup[];
  /** Circuit-breaker state per deployment (for `/admin/breakers` and the `pipewright_circuit_state` gauge). */
  readonly resilience: { snapshot(): BreakerSnapshot[] };
  /**
   * Resolves when start-up work running in the background is done: the semantic cache's index
   * rebuilt from the store. Calls do not need to wait for it (until then a semantic lookup sees
   * what is loaded so far); tests and warm-up scripts may.
   */
  ready(): Promise<void>;
  /** Closes what the engine created itself (the HTTP client). Recorders passed in are the caller's to close. */
  close(): Promise<void>;
}

/**
 * Builds the engine from typed settings (the library's `createEngine` and `createPipewright`
 * parse a config into these first).
 *
 * @example
 * const engine = composeEngine(parseConfig(raw), { recorder });
 */
export function composeEngine(config: EngineSettings, options: EngineDependencies = {}): Engine {
  const deployments: Deployment[] = config.deployments.map(toDeployment);
  const catalog = createModelCatalog(config.modelGroups, deployments);
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    createProviderClient({ transportOptions: { connectTimeoutMs: config.resilience.connectTimeoutMs } });
  const prices = options.prices ?? createPriceCatalog({ overrides: priceOverrides(config) });
  const clock = options.clock ?? createSystemClock();
  const resilience = createResilienceFromConfig(config, clock, options);
  options.metrics?.trackCircuitBreakers(() => resilience.snapshot());
  const chatCache = createChatCache({
    config,
    clock,
    backend: options.cacheBackend,
    persistence: options.semanticCachePersistence,
    onRestoreError: (error) => {
      options.metrics?.observeCacheEvent('semantic_restore_failed');
      options.onCacheError?.(error, 'semantic-restore');
    },
    // Provider embeddings go through this engine (resilience, telemetry), under the tenant whose request they embed.
    embedThrough: (modelGroup, deadlineMs) => async (inputs, signal, tenantId) => {
      const callOptions = {
        stepType: 'semantic-cache',
        deadlineMs,
        ...(signal === undefined ? {} : { signal }),
        ...(tenantId === undefined ? {} : { tenantId }),
      };
      const { response } = await pipeline.embed({ model: modelGroup, input: inputs }, callOptions);
      return response.data.map((item) =>
        typeof item.embedding === 'string' ? decodeBase64Floats(item.embedding) : item.embedding,
      );
    },
  });
  const semanticCache = chatCache.semantic;
  if (semanticCache !== undefined) options.metrics?.trackSemanticCache(() => semanticCache.stats());
  const pipeline = createCallPipeline({
    catalog,
    client,
    clock,
    resilience,
    defaultTenantId: config.defaultTenant,
    recorder: options.recorder,
    metrics: options.metrics,
    prices,
    cache: chatCache,
    onCacheError: options.onCacheError,
  });
  const ajv = createAjv();
  const steps = new Map<string, StepEntry>();
  config.stepTypes.forEach((stepType, index) => {
    steps.set(stepType.name, {
      kind: 'model',
      step: createConfiguredStepType(stepType, ajv, `stepTypes[${index}]`) as RegisteredStepType<
        unknown,
        unknown
      >,
    });
  });

  function register(name: string, entry: StepEntry): void {
    if (
      !catalog.has(entry.kind === 'model' ? entry.step.modelGroup : entry.adapted.modelGroup) &&
      entry.kind === 'model'
    ) {
      throw new PipewrightError({
        code: 'config.invalid',
        message: `step type ${name}: unknown model group "${entry.step.modelGroup}"`,
        param: 'modelGroup',
      });
    }
    steps.set(name, entry);
  }

  const engine: Engine = {
    settings: config,
    // async so that validation errors reject the promise rather than throw synchronously.
    chat: async (request, callOptions) => pipeline.chat(parseChatRequest(request), callOptions),
    chatStream: async (request, callOptions) => pipeline.chatStream(parseChatRequest(request), callOptions),
    embed: async (request, callOptions) => pipeline.embed(parseEmbeddingsRequest(request), callOptions),
    images: async (request, callOptions) => pipeline.images(parseImagesRequest(request), callOptions),

    async run<Output>(
      stepType: string,
      input: unknown,
      context: StepContext = {},
      runOptions: RunStepOptions = {},
    ): Promise<StepResult<Output>> {
      const entry = steps.get(stepType);
      if (entry === undefined) {
        throw new PipewrightError({
          code: 'step.unknown_type',
          message: `unknown step type "${stepType}"; registered: ${[...steps.keys()].join(', ') || '(none)'}`,
          param: 'stepType',
        });
      }
      const scoped = { ...runOptions, tenantId: runOptions.tenantId ?? config.defaultTenant };
      if (entry.kind === 'function')
        return (await runAdaptedFunction(
          pipeline,
          entry.adapted,
          input,
          context,
          scoped,
        )) as StepResult<Output>;
      return (await runStep(pipeline, entry.step, input, context, scoped)) as StepResult<Output>;
    },

    registerStepType(definition) {
      register(definition.name, {
        kind: 'model',
        step: normalizeStepType(definition) as RegisteredStepType<unknown, unknown>,
      });
    },

    adaptFunction<Input, Output>(adapted: AdaptFunctionOptions<Input, Output>) {
      register(adapted.stepType, {
        kind: 'function',
        adapted: adapted as AdaptFunctionOptions<unknown, unknown>,
      });
      return async (input: Input, context: StepContext = {}) =>
        (await engine.run<Output>(adapted.stepType, input, context)).output;
    },

    stepTypes: () => [...steps.keys()],
    modelGroups: () => catalog.list(),
    resilience: { snapshot: () => resilience.snapshot() },

    async ready() {
      await chatCache.semantic?.restore();
    },

    async close() {
      if (ownsClient) await client.close();
    },
  };
  return engine;
}

/** An embedding sent as base64 little-endian float32. */
function decodeBase64Floats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function createResilienceFromConfig(
  config: EngineSettings,
  clock: Clock,
  options: EngineDependencies,
): Resilience {
  const settings = config.resilience;
  return createResilience({
    clock,
    ...(options.random === undefined ? {} : { random: options.random }),
    onTransition: options.onBreakerTransition,
    defaults: {
      retry: settings.retry,
      timeouts: settings.timeouts,
      breaker: settings.breaker,
      deadlineMs: settings.deadlineMs,
    },
    deployments: config.deployments.map((deployment) => ({
      id: deployment.id,
      // What identifies the credentials and endpoint: a new key lifts a 401/403 exclusion.
      configHash: hashValue([
        deployment.provider,
        deployment.baseUrl,
        deployment.apiKey ?? null,
        deployment.headers ?? null,
        deployment.options ?? null,
      ]),
      weight: deployment.weight,
      maxInFlight: deployment.maxInFlight,
      limits: deployment.limits,
      retry: deployment.retry,
      timeouts: deployment.timeouts,
      breaker: deployment.breaker,
    })),
    stepTypes: config.stepTypes.map((stepType) => ({
      name: stepType.name,
      deadlineMs: stepType.deadlineMs,
      retry: stepType.retry,
      timeouts: stepType.timeouts,
    })),
    tenants: {
      maxInFlight: settings.maxInFlightPerTenant,
      limits: settings.tenantLimits,
      overflow: settings.overflow,
      maxQueueMs: settings.maxQueueMs,
    },
    rateLimitStore: options.rateLimitStore,
    waitForRecoveryMs: settings.waitForRecoveryMs,
  });
}

function toDeployment(config: DeploymentSettings): Deployment {
  const {
    price: _price,
    weight: _weight,
    maxInFlight: _maxInFlight,
    limits: _limits,
    retry: _retry,
    timeouts: _timeouts,
    breaker: _breaker,
    ...deployment
  } = config;
  return Object.fromEntries(
    Object.entries(deployment).filter(([, value]) => value !== undefined),
  ) as unknown as Deployment;
}

function priceOverrides(config: EngineSettings): Record<string, ModelPrice> {
  const overrides: Record<string, ModelPrice> = {};
  for (const deployment of config.deployments) {
    if (deployment.price !== undefined) {
      overrides[deployment.id] = Object.fromEntries(
        Object.entries(deployment.price).filter(([, value]) => value !== undefined),
      ) as unknown as ModelPrice;
    }
  }
  return overrides;
}
