import { ConfigError, toPipewrightError } from './core/index.ts';
import {
  isParsedConfig,
  parseConfig,
  type PipewrightConfig,
  type PipewrightConfigInput,
} from './config/index.ts';
import { createEngine, type Engine, type EngineOptions } from './engine/index.ts';
import {
  createSqliteStore,
  type Store,
  type WorkflowRunRecord,
  type WorkflowRunStatus,
} from './store/index.ts';
import { createBatchingRecorder, type TelemetryRecorder } from './telemetry/index.ts';
import {
  createWorkflowRunner,
  loadWorkflowFile,
  type CompiledWorkflow,
  type WorkflowDefinition,
  type WorkflowFunctions,
  type WorkflowRunner,
} from './workflow/index.ts';

export interface PipewrightOptions extends Omit<EngineOptions, 'config' | 'recorder'> {
  /** Deployments, model groups, step types, the store path and workflow files (pipewright.yaml's shape). */
  config: PipewrightConfig | PipewrightConfigInput;
  /** A store to use (and leave open on `close()`); default: a SQLite store at `storePath`. */
  store?: Store;
  /** Where the created SQLite store lives (default `config.store.path`; `:memory:` for none on disk). */
  storePath?: string;
  /** Where call records go; default: batched into the store's call records (closed on `close()`). */
  recorder?: TelemetryRecorder;
  /** Transforms, gates, conditions and validators named by YAML workflows (`config.workflows` files included). */
  functions?: WorkflowFunctions;
  /** Workflows `workflows.start` may name by id (besides the files listed in `config.workflows`). */
  workflows?: ReadonlyArray<WorkflowDefinition | CompiledWorkflow>;
  /** Workflow nodes running at once across every run (default 16). */
  concurrency?: number;
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
export interface Pipewright extends Engine {
  readonly workflows: PipewrightWorkflows;
  readonly store: Store;
  /** Stops running workflow nodes (their runs stay resumable, as after a crash), then closes what `createPipewright` created. */
  close(): Promise<void>;
}

/**
 * Creates the engine, the store (unless given) and the workflow runner over them: the library's
 * one entry point for model calls and workflows. The engine itself knows nothing of workflows;
 * this composes the two.
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
    functions,
    workflows: extraWorkflows,
    concurrency,
    config: rawConfig,
    ...engineOptions
  } = options;
  const config = isParsedConfig(rawConfig) ? rawConfig : parseConfig(rawConfig, options.env ?? {});
  // Workflow files are checked before anything opens: a bad one fails here, naming its entry.
  const definitions = config.workflows.map((path, index) => {
    try {
      return loadWorkflowFile(path, functions);
    } catch (error) {
      throw new ConfigError({
        message: `workflows[${index}]: ${toPipewrightError(error).message}`,
        param: `workflows[${index}]`,
        cause: error,
      });
    }
  });
  const store = givenStore ?? (await createSqliteStore({ path: storePath ?? config.store.path }));
  const recorder =
    givenRecorder ??
    createBatchingRecorder({
      sink: store.callRecords,
      flushIntervalMs: config.telemetry.flushIntervalMs,
      maxBatch: config.telemetry.maxBatch,
      ...(engineOptions.metrics === undefined ? {} : { metrics: engineOptions.metrics }),
    });
  let engine: Engine;
  let runner: WorkflowRunner;
  try {
    engine = createEngine({
      semanticCachePersistence: store.semanticCache,
      ...engineOptions,
      config,
      recorder,
    });
    runner = createWorkflowRunner({
      engine,
      store: store.workflows,
      workflows: [...definitions, ...(extraWorkflows ?? [])],
      defaultTenantId: config.defaultTenant,
      ...(functions === undefined ? {} : { functions }),
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(engineOptions.clock === undefined ? {} : { clock: engineOptions.clock }),
    });
  } catch (error) {
    if (givenRecorder === undefined) await recorder.close().catch(() => undefined);
    if (givenStore === undefined) await store.close().catch(() => undefined);
    throw error;
  }

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
  async function shutdown(): Promise<void> {
    // Each step runs even when an earlier one fails; the first failure is reported.
    const steps: Array<() => Promise<void>> = [() => runner.close(), () => engine.close()];
    if (givenRecorder === undefined) steps.push(() => recorder.close());
    if (givenStore === undefined) steps.push(() => store.close());
    let failure: Error | undefined;
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failure ??= toPipewrightError(error);
      }
    }
    if (failure !== undefined) throw failure;
  }

  return {
    ...engine,
    workflows,
    store,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
