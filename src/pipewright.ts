import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { createSystemClock, toPipewrightError } from './core/index.ts';
import {
  isParsedConfig,
  parseConfig,
  type PipewrightConfig,
  type PipewrightConfigInput,
} from './config/index.ts';
import { composeEngine, type Engine, type EngineDependencies } from './engine/index.ts';
import { createSharedRateLimitStore } from './resilience/index.ts';
import { createRedisCacheBackend } from './cache/index.ts';
import {
  createSqliteStore,
  type Store,
  type WorkflowRunRecord,
  type WorkflowRunStatus,
} from './store/index.ts';
import {
  createBatchingRecorder,
  createMetrics,
  type Metrics,
  type TelemetryRecorder,
} from './telemetry/index.ts';
import {
  createWorkflowRunner,
  loadConfiguredWorkflows,
  type CompiledWorkflow,
  type WorkflowDefinition,
  type WorkflowFunctions,
  type WorkflowRunner,
} from './workflow/index.ts';

export interface EngineOptions extends EngineDependencies {
  /** Deployments, model groups and step types (pipewright.yaml's shape), raw or parsed by `parseConfig`. */
  config: PipewrightConfig | PipewrightConfigInput;
  /** Environment for `${VAR}` expansion when `config` is raw input. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The engine of a config, parsed (and `${VAR}`-expanded from `env`) unless it already was. */
export interface ConfiguredEngine extends Engine {
  /** The whole parsed config (the engine itself reads only its settings). */
  readonly config: PipewrightConfig;
}

/**
 * The library API: every AI call of an application goes through one engine. Takes a config as
 * written in pipewright.yaml (or already parsed) and builds the engine from its typed settings.
 *
 * @example
 * const engine = createEngine({ config: { deployments: [...], modelGroups: [...] } });
 * const { response, meta } = await engine.chat({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] });
 * console.log(response.choices[0].message.content, meta.costUsd);
 */
export function createEngine(options: EngineOptions): ConfiguredEngine {
  const { config: rawConfig, env, ...dependencies } = options;
  const config = isParsedConfig(rawConfig) ? rawConfig : parseConfig(rawConfig, env ?? {});
  return { ...composeEngine(config, dependencies), config };
}

export interface PipewrightOptions extends Omit<
  EngineOptions,
  'config' | 'recorder' | 'metrics' | 'onCacheError' | 'onBreakerTransition'
> {
  /** Deployments, model groups, step types, the store path and workflow files (pipewright.yaml's shape). */
  config: PipewrightConfig | PipewrightConfigInput;
  /** A store to use (and leave open on `close()`); default: a SQLite store at `storePath`. */
  store?: Store;
  /** Where the created SQLite store lives (default `config.store.path`; `:memory:` for none on disk). */
  storePath?: string;
  /** Where call records go; default: batched into the store's call records (closed on `close()`). */
  recorder?: TelemetryRecorder;
  /** The Prometheus registry and metrics; default: a new one for this instance. */
  metrics?: Metrics;
  /** Where breaker transitions, cache failures and telemetry write failures are logged; default: nowhere. */
  logger?: Logger;
  /** Transforms, gates, conditions and validators named by YAML workflows (`config.workflows` files included). */
  functions?: WorkflowFunctions;
  /** Workflows `workflows.start` may name by id (besides the files listed in `config.workflows`). */
  workflows?: ReadonlyArray<WorkflowDefinition | CompiledWorkflow>;
  /** Workflow nodes running at once across every run (default 16). */
  concurrency?: number;
  /**
   * Check the step types the `config.workflows` files call against the configured ones (the
   * gateway does: nothing can register more there). Default false: the library may register
   * step types in TypeScript after start-up.
   */
  strictWorkflowReferences?: boolean;
}

/** The workflow operations of `createPipewright`: the same as the CLI and the HTTP API. */
export interface PipewrightWorkflows extends Pick<
  WorkflowRunner,
  'register' | 'start' | 'resume' | 'resumeInterrupted' | 'cancel' | 'get' | 'context' | 'events'
> {
  /** The tenant's runs, newest first (default tenant: `config.defaultTenant`). */
  list(options?: {
    tenantId?: string;
    status?: WorkflowRunStatus;
    limit?: number;
  }): Promise<WorkflowRunRecord[]>;
}

/** The engine with workflows and the store it persists them in. */
export interface Pipewright extends ConfiguredEngine {
  readonly workflows: PipewrightWorkflows;
  readonly store: Store;
  readonly metrics: Metrics;
  /** Where call records go (`flush()` writes what is queued). */
  readonly recorder: TelemetryRecorder;
  /** The `config.workflows` files, loaded and checked (callable by id). */
  readonly configuredWorkflows: readonly CompiledWorkflow[];
  /** The workflow runner itself (the gateway's workflow routes use it). */
  readonly runner: WorkflowRunner;
  /** Stops running workflow nodes (their runs stay resumable, as after a crash), then closes what `createPipewright` created. */
  close(): Promise<void>;
}

/**
 * The composition root, the one way the library, the CLI and the gateway are built: config →
 * store, telemetry, shared state (Redis when configured), engine, workflow runner. The gateway
 * is this plus the HTTP server (`startGateway` in main.ts).
 *
 * @example
 * const pw = await createPipewright({ config: loadConfigFile('pipewright.yaml') });
 * const { response } = await pw.chat({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] });
 * const handle = await pw.workflows.start('campaign', { brief: 'Green tea for offices' }, { tenantId: 'acme' });
 * const { status, outputs, costUsd } = await handle.result;
 * await pw.close();
 */
export async function createPipewright(options: PipewrightOptions): Promise<Pipewright> {
  const {
    store: givenStore,
    storePath,
    recorder: givenRecorder,
    metrics: givenMetrics,
    logger,
    functions,
    workflows: extraWorkflows,
    concurrency,
    strictWorkflowReferences,
    config: rawConfig,
    ...engineOptions
  } = options;
  const config = isParsedConfig(rawConfig) ? rawConfig : parseConfig(rawConfig, options.env ?? {});
  // Workflow files are checked before anything opens: a bad one fails here, naming its entry.
  const configuredWorkflows = loadConfiguredWorkflows({
    paths: config.workflows,
    modelGroups: config.modelGroups.map((group) => group.name),
    stepTypes: strictWorkflowReferences === true ? config.stepTypes.map((step) => step.name) : undefined,
    functions,
  });
  const path = storePath ?? config.store.path;
  if (givenStore === undefined && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const store = givenStore ?? (await createSqliteStore({ path }));
  const metrics = givenMetrics ?? createMetrics();
  const recorder =
    givenRecorder ??
    createBatchingRecorder({
      sink: store.callRecords,
      flushIntervalMs: config.telemetry.flushIntervalMs,
      maxBatch: config.telemetry.maxBatch,
      metrics,
      onError: (error, dropped) => logger?.error({ err: error, dropped }, 'telemetry write failed'),
    });
  // Closed in reverse order of creation, each even when an earlier one fails.
  const closers: Array<() => Promise<void>> = [];
  if (givenStore === undefined) closers.push(() => store.close());
  if (givenRecorder === undefined) closers.push(() => recorder.close());
  try {
    const shared = createSharedState(config, engineOptions, metrics, logger);
    if (shared.close !== undefined) closers.push(shared.close);
    const { env: _env, ...dependencies } = engineOptions;
    const engine = createEngine({
      semanticCachePersistence: store.semanticCache,
      ...shared.engineOptions,
      ...dependencies,
      config,
      recorder,
      metrics,
      onCacheError: throttled((error, operation) =>
        logger?.warn(
          { err: error, operation },
          `cache: ${operation} failed; calls go on without it (logged at most once a minute per operation)`,
        ),
      ),
      onBreakerTransition: (transition) =>
        logger?.[transition.to === 'open' ? 'warn' : 'info'](
          { breaker: transition },
          `circuit breaker ${transition.deployment}: ${transition.from} → ${transition.to} (${transition.reason})`,
        ),
    });
    closers.push(() => engine.close());
    const runner = createWorkflowRunner({
      engine,
      store: store.workflows,
      workflows: [...configuredWorkflows, ...(extraWorkflows ?? [])],
      defaultTenantId: config.defaultTenant,
      ...(functions === undefined ? {} : { functions }),
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(engineOptions.clock === undefined ? {} : { clock: engineOptions.clock }),
    });
    // Running workflow nodes stop first, as in a crash: their runs stay resumable.
    closers.push(() => runner.close());
    return assemble({ engine, runner, store, metrics, recorder, configuredWorkflows }, config, closers);
  } catch (error) {
    await closeAll(closers).catch(() => undefined);
    throw error;
  }
}

function assemble(
  parts: Omit<Pipewright, 'workflows' | 'close' | keyof ConfiguredEngine> & { engine: ConfiguredEngine },
  config: PipewrightConfig,
  closers: Array<() => Promise<void>>,
): Pipewright {
  const { engine, runner, store } = parts;
  const workflows: PipewrightWorkflows = {
    register: (workflow) => runner.register(workflow),
    start: (workflow, input, startOptions) => runner.start(workflow, input, startOptions),
    resume: (runId, resumeOptions) => runner.resume(runId, resumeOptions),
    resumeInterrupted: (resumeOptions) => runner.resumeInterrupted(resumeOptions),
    cancel: (runId, cancelOptions) => runner.cancel(runId, cancelOptions),
    get: (runId, getOptions) => runner.get(runId, getOptions),
    context: (runId, contextOptions) => runner.context(runId, contextOptions),
    events: (runId, eventOptions) => runner.events(runId, eventOptions),
    list: ({ tenantId, ...query } = {}) => store.workflows.listRuns(tenantId ?? config.defaultTenant, query),
  };
  let closing: Promise<void> | undefined;
  return {
    ...engine,
    ...parts,
    workflows,
    close() {
      closing ??= closeAll(closers);
      return closing;
    },
  };
}

/** Runs every closer, last created first; each runs even when an earlier one fails; the first failure is reported. */
async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  let failure: Error | undefined;
  for (const close of [...closers].reverse()) {
    try {
      await close();
    } catch (error) {
      failure ??= toPipewrightError(error);
    }
  }
  if (failure !== undefined) throw failure;
}

/**
 * With a `redis` section, rate limits hold across processes (in-process while Redis is down);
 * with `cache.backend: redis` too, exact-cache entries are shared (misses while Redis is down).
 * Stores passed in by the caller win.
 */
function createSharedState(
  config: PipewrightConfig,
  given: Pick<EngineOptions, 'rateLimitStore' | 'cacheBackend'>,
  metrics: Metrics,
  logger: Logger | undefined,
): { engineOptions: Pick<EngineOptions, 'rateLimitStore' | 'cacheBackend'>; close?: () => Promise<void> } {
  if (config.redis === undefined) return { engineOptions: {} };
  const connection = {
    ...config.redis,
    clock: createSystemClock(),
    registry: metrics.registry,
    ...(logger === undefined ? {} : { logger }),
  };
  const limits = given.rateLimitStore === undefined ? createSharedRateLimitStore(connection) : undefined;
  const cache =
    given.cacheBackend === undefined && config.cache.backend === 'redis'
      ? createRedisCacheBackend(connection)
      : undefined;
  return {
    engineOptions: {
      ...(limits === undefined ? {} : { rateLimitStore: limits.store }),
      ...(cache === undefined ? {} : { cacheBackend: cache }),
    },
    close: async () => {
      await limits?.close();
      await cache?.close();
    },
  };
}

/** One log line per operation per minute: an embedder outage must not write a line per call. */
function throttled(
  log: (error: unknown, operation: string) => void,
  intervalMs = 60_000,
): (error: unknown, operation: string) => void {
  const last = new Map<string, number>();
  return (error, operation) => {
    const now = Date.now();
    if (now - (last.get(operation) ?? -Infinity) < intervalMs) return;
    last.set(operation, now);
    log(error, operation);
  };
}
