import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfigFile, parseConfig, type PipewrightConfig } from '../config/index.ts';
import { PipewrightError } from '../core/index.ts';
import type { Engine } from '../engine/index.ts';
import { pino } from 'pino';
import { createPipewright } from '../pipewright.ts';
import { startSimServer, type SimServer } from '../providers/sim/index.ts';
import {
  createSqliteStore,
  type Store,
  type WorkflowNodeRecord,
  type WorkflowRunRecord,
  type WorkflowStore,
} from '../store/index.ts';
import {
  findUnknownModelReferences,
  listModelReferences,
  loadWorkflowFile,
  type WorkflowDefinition,
  type WorkflowRunHandle,
  type WorkflowRunner,
  type WorkflowRunResult,
  type WorkflowRunView,
} from '../workflow/index.ts';
import { formatTable } from './format-table.ts';
import { parseInputs } from './parse-inputs.ts';
import { createWorkflowProgress, formatCost, formatDuration } from './workflow-progress.ts';

/** Options shared by `run`, `resume` and `runs`. */
export interface WorkflowCommandOptions {
  /** A gateway config file (deployments, model groups, step types); default `pipewright.yaml` when it exists. */
  config?: string;
  /** Start the simulated provider in-process; its URL is `SIM_URL` for the config (or a built-in config). */
  sim?: boolean;
  /** The SQLite file (default: the config's `store.path`, `.pipewright/pipewright.db`). */
  store?: string;
  tenant?: string;
  json?: boolean;
}

export interface RunCommandOptions extends WorkflowCommandOptions {
  input: string[];
  runId?: string;
  concurrency?: number;
}

/** The streams and environment a command uses (tests and the real CLI pass their own). */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
  /** Where Ctrl+C comes from (default: the process). */
  signals?: Pick<NodeJS.Process, 'once' | 'off'>;
}

const defaultConfigPath = 'pipewright.yaml';
const defaultStorePath = '.pipewright/pipewright.db';

/** Exit codes: 0 succeeded, 1 failed or cancelled, 2 finished partial, 130 interrupted (resume it). */
const exitCodes = {
  succeeded: 0,
  partial: 2,
  failed: 1,
  cancelled: 1,
  running: 1,
  interrupted: 130,
} as const;

interface Runtime {
  config: PipewrightConfig;
  configSource: string;
  storePath: string;
  tenantId: string;
  store: Store;
  engine: Engine;
  runner: WorkflowRunner;
  sim: SimServer | undefined;
  close(): Promise<void>;
}

/**
 * `pipewright run flow.yaml --input key=value`: runs a workflow with the engine and the SQLite
 * store, shows live progress on stderr, prints a summary with the outputs on stdout (JSON with
 * `--json`) and sets the exit code from the run's status.
 *
 * @example
 * await runWorkflowCommand('examples/workflows/campaign.yaml', { input: ['brief=Green tea for offices'], sim: true });
 */
export async function runWorkflowCommand(
  file: string,
  options: RunCommandOptions,
  io: CommandIo = processIo(),
): Promise<number> {
  const input = parseInputs(options.input);
  const workflow = loadWorkflowFile(file);
  const runtime = await openRuntime(options, io, async () => workflow.definition);
  try {
    checkModelReferences(runtime, workflow.definition);
    const handle = await runtime.runner.start(workflow, input, {
      tenantId: runtime.tenantId,
      ...(options.runId === undefined ? {} : { runId: options.runId }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    });
    return await follow(runtime, handle, options, io);
  } finally {
    await runtime.close();
  }
}

/**
 * `pipewright resume RUN_ID`: continues an interrupted run (succeeded nodes are not re-run), with
 * the same display and exit codes as `run`.
 *
 * @example
 * await resumeWorkflowCommand('run_8f2…', { sim: true });
 */
export async function resumeWorkflowCommand(
  runId: string,
  options: WorkflowCommandOptions,
  io: CommandIo = processIo(),
): Promise<number> {
  let record: WorkflowRunRecord | undefined;
  const runtime = await openRuntime(options, io, async (store, tenantId, storePath) => {
    record = await store.getRun(tenantId, runId);
    if (record === undefined)
      throw new PipewrightError({
        code: 'workflow.run_not_found',
        message: `no run ${runId} for tenant ${tenantId} in ${storePath} (see \`pipewright runs\`)`,
        param: 'runId',
      });
    return record.source === null ? undefined : (JSON.parse(record.source) as WorkflowDefinition);
  });
  try {
    const source = record?.source;
    if (source !== undefined && source !== null)
      checkModelReferences(runtime, JSON.parse(source) as WorkflowDefinition);
    const before = await runtime.runner.get(runId, { tenantId: runtime.tenantId });
    const kept = before.nodes.filter((node) => node.status === 'succeeded').map((node) => node.nodeId);
    const interrupted = before.nodes.filter((node) => node.status === 'running').map((node) => node.nodeId);
    const handle = await runtime.runner.resume(runId, { tenantId: runtime.tenantId });
    io.stderr.write(
      `resuming run ${runId}: ${kept.length} succeeded node(s) kept${kept.length > 0 ? ` (${kept.join(', ')})` : ''}; re-running interrupted: ${interrupted.join(', ') || 'none'}\n`,
    );
    return await follow(runtime, handle, options, io);
  } finally {
    await runtime.close();
  }
}

/**
 * `pipewright runs`: the tenant's recent runs, newest first.
 *
 * @example
 * await listRunsCommand({ limit: 20 });
 */
export async function listRunsCommand(
  options: WorkflowCommandOptions & { limit?: number; status?: string },
  io: CommandIo = processIo(),
): Promise<number> {
  const statuses = ['running', 'succeeded', 'partial', 'failed', 'cancelled'];
  if (options.status !== undefined && !statuses.includes(options.status)) {
    throw new PipewrightError({
      code: 'request.invalid',
      message: `--status: must be one of ${statuses.join(', ')}, got "${options.status}"`,
      param: 'status',
    });
  }
  const fileConfig = readFileConfig(options, io.env, undefined);
  const storePath = options.store ?? fileConfig?.config.store.path ?? defaultStorePath;
  const tenantId = options.tenant ?? (fileConfig?.config ?? parseConfig({})).defaultTenant;
  if (storePath !== ':memory:' && !existsSync(storePath)) {
    io.stdout.write(options.json === true ? '[]\n' : `No runs yet (no store at ${storePath}).\n`);
    return 0;
  }
  const store = await createSqliteStore({ path: storePath });
  try {
    const status = options.status as WorkflowRunRecord['status'] | undefined;
    const runs = await store.workflows.listRuns(tenantId, {
      limit: options.limit ?? 20,
      ...(status === undefined ? {} : { status }),
    });
    if (options.json === true) {
      io.stdout.write(
        `${JSON.stringify(
          runs.map((run) => ({
            runId: run.runId,
            workflow: { id: run.workflowId, version: run.workflowVersion },
            status: run.status,
            costUsd: run.costUsd,
            createdAt: new Date(run.createdAt).toISOString(),
            durationMs: run.finishedAt === null ? null : run.finishedAt - run.createdAt,
          })),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    if (runs.length === 0) {
      io.stdout.write(`No runs for tenant ${tenantId} in ${storePath}.\n`);
      return 0;
    }
    io.stdout.write(`Runs of tenant ${tenantId} in ${storePath}, newest first:\n`);
    io.stdout.write(
      `${formatTable(
        ['run', 'workflow', 'status', 'cost', 'started', 'took'],
        runs.map((run) => [
          run.runId,
          `${run.workflowId} v${run.workflowVersion}`,
          run.status === 'running' ? 'running/interrupted' : run.status,
          formatCost(run.costUsd),
          new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19),
          run.finishedAt === null ? '-' : formatDuration(run.finishedAt - run.createdAt),
        ]),
      )}\n`,
    );
    const interrupted = runs.filter((run) => run.status === 'running');
    if (interrupted.length > 0)
      io.stdout.write(
        `\nA run left running by a stopped process continues with: pipewright resume ${interrupted[0]?.runId ?? 'RUN_ID'}\n`,
      );
    return 0;
  } finally {
    await store.close();
  }
}

function processIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process };
}

/** The config file: `--config`, else `pipewright.yaml` when present (not with `--sim`, which brings its own). */
function readFileConfig(
  options: WorkflowCommandOptions,
  env: CommandIo['env'],
  sim: SimServer | undefined,
): { config: PipewrightConfig; path: string } | undefined {
  const simEnv = sim === undefined ? env : { ...env, SIM_URL: sim.url };
  if (options.config !== undefined)
    return { config: loadConfigFile(options.config, simEnv), path: options.config };
  if (options.sim !== true && existsSync(defaultConfigPath))
    return { config: loadConfigFile(defaultConfigPath, env), path: defaultConfigPath };
  return undefined;
}

/**
 * With `--sim` and no config file: one simulated deployment behind every model group the workflow
 * names (`fast` when it names none), so any example runs as it is.
 */
function createSimConfig(simUrl: string, definition: WorkflowDefinition | undefined): PipewrightConfig {
  const named = definition === undefined ? [] : [...listModelReferences(definition).modelGroups.keys()];
  const groups = named.length > 0 ? named : ['fast'];
  return parseConfig({
    deployments: [
      {
        id: 'sim-gpt-4o-mini',
        provider: 'sim',
        model: 'gpt-4o-mini',
        baseUrl: `${simUrl}/v1`,
        apiKey: 'sim-key',
      },
    ],
    modelGroups: groups
      .filter((name) => /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(name))
      .map((name) => ({ name, deployments: ['sim-gpt-4o-mini'] })),
  });
}

async function openRuntime(
  options: WorkflowCommandOptions,
  io: CommandIo,
  definitionOf: (
    store: WorkflowStore,
    tenantId: string,
    storePath: string,
  ) => Promise<WorkflowDefinition | undefined>,
): Promise<Runtime> {
  const sim =
    options.sim === true ? await startSimServer({ host: '127.0.0.1', port: 0, seed: 1 }) : undefined;
  let store: Store | undefined;
  try {
    const fileConfig = readFileConfig(options, io.env, sim);
    const storePath = options.store ?? fileConfig?.config.store.path ?? defaultStorePath;
    const tenantId = options.tenant ?? (fileConfig?.config ?? parseConfig({})).defaultTenant;
    if (storePath !== ':memory:') mkdirSync(dirname(storePath), { recursive: true });
    store = await createSqliteStore({ path: storePath });
    const definition = await definitionOf(store.workflows, tenantId, storePath);
    const config =
      fileConfig?.config ?? (sim === undefined ? parseConfig({}) : createSimConfig(sim.url, definition));
    const configSource = fileConfig?.path ?? (sim === undefined ? 'none' : 'built-in (--sim)');
    const opened = store;
    // The same composition root as the library and the gateway, over the store opened above.
    const pipewright = await createPipewright({
      config,
      store: opened,
      logger: pino({ level: 'warn' }, io.stderr),
    });
    return {
      config,
      configSource,
      storePath,
      tenantId,
      store: opened,
      engine: pipewright,
      runner: pipewright.runner,
      sim,
      async close() {
        await pipewright.close();
        await opened.close();
        await sim?.close();
      },
    };
  } catch (error) {
    await store?.close();
    await sim?.close();
    throw error;
  }
}

/** Fails before the run starts when the workflow calls a model group or step type the config lacks. */
function checkModelReferences(runtime: Runtime, definition: WorkflowDefinition): void {
  const problems = findUnknownModelReferences(definition, {
    modelGroups: runtime.engine.modelGroups().map((group) => group.name),
    stepTypes: runtime.engine.stepTypes(),
  });
  if (problems.length === 0) return;
  const hint =
    runtime.configSource === 'none'
      ? ' (no config: pass --config FILE, or --sim for the simulated provider)'
      : ` (config: ${runtime.configSource})`;
  throw new PipewrightError({
    code: 'workflow.definition_invalid',
    message: `${problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n')}${hint}`,
    param: problems[0]?.path ?? 'workflow',
  });
}

/** Follows a run to its end with the progress display, then prints the summary; returns the exit code. */
async function follow(
  runtime: Runtime,
  handle: WorkflowRunHandle,
  options: WorkflowCommandOptions,
  io: CommandIo,
): Promise<number> {
  const { runner } = runtime;
  const scope = { tenantId: handle.tenantId };
  const started = performance.now();
  const initial = await runner.get(handle.runId, scope);
  io.stderr.write(
    `${initial.run.workflowId} v${initial.run.workflowVersion} · run ${handle.runId} · tenant ${handle.tenantId} · store ${runtime.storePath} · config ${runtime.configSource}\n` +
      (runtime.sim === undefined
        ? ''
        : `NOTE: the provider is SIMULATED (built-in sim at ${runtime.sim.url}): answers are synthetic, costs are list prices of the named models.\n`),
  );
  const progress = createWorkflowProgress({ output: io.stderr });
  progress.begin(initial);
  // Ctrl+C interrupts the run the way a crash would: it stays resumable. A second Ctrl+C kills the process.
  const interrupt = () => {
    io.stderr.write('\ninterrupting: the run stays resumable…\n');
    void runner.close();
  };
  io.signals?.once('SIGINT', interrupt);
  io.signals?.once('SIGTERM', interrupt);
  let result: WorkflowRunResult;
  try {
    const following = (async () => {
      for await (const event of runner.events(handle.runId, { ...scope, afterSeq: initial.run.eventSeq }))
        progress.update(event);
    })();
    result = await handle.result;
    await following.catch(() => undefined);
  } finally {
    progress.end();
    io.signals?.off('SIGINT', interrupt);
    io.signals?.off('SIGTERM', interrupt);
  }
  const fetched = await runner.get(handle.runId, scope);
  const view = { ...fetched, nodes: inDefinitionOrder(fetched) };
  const elapsedMs = performance.now() - started;
  const simulated = runtime.sim === undefined ? '' : ' (simulated)';
  if (options.json === true) {
    io.stdout.write(
      `${JSON.stringify(
        {
          runId: result.runId,
          tenantId: result.tenantId,
          workflow: { id: view.run.workflowId, version: view.run.workflowVersion },
          status: result.status,
          outputs: result.outputs,
          costUsd: view.run.costUsd,
          elapsedMs: Math.round(elapsedMs),
          simulated: runtime.sim !== undefined,
          error:
            result.error === undefined ? null : { code: result.error.code, message: result.error.message },
          nodes: view.nodes.map((node) => ({
            id: node.nodeId,
            status: node.status,
            attempt: node.attempt,
            costUsd: node.costUsd,
            durationMs:
              node.startedAt === null || node.finishedAt === null ? null : node.finishedAt - node.startedAt,
            error: node.error,
            reason: node.reason,
          })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const finished = view.nodes.filter(
      (node) => node.status !== 'pending' && node.status !== 'ready' && node.status !== 'running',
    ).length;
    io.stdout.write(
      `\n${view.run.workflowId} v${view.run.workflowVersion} · run ${result.runId}: ${result.status} in ${formatDuration(elapsedMs)} · ${finished} of ${view.nodes.length} nodes finished · cost ${formatCost(view.run.costUsd)}${simulated}\n\n`,
    );
    io.stdout.write(
      `${formatTable(
        ['node', 'status', 'attempts', 'time', 'cost', 'note'],
        view.nodes.map((node) => [
          node.nodeId,
          node.status,
          node.attempt,
          node.startedAt === null || node.finishedAt === null
            ? '-'
            : formatDuration(node.finishedAt - node.startedAt),
          formatCost(node.costUsd),
          node.error?.message ?? node.reason ?? '',
        ]),
      )}\n`,
    );
    if (Object.keys(result.outputs).length > 0)
      io.stdout.write(`\nOutputs\n${formatOutputs(result.outputs)}\n`);
  }
  if (result.status === 'interrupted') {
    io.stderr.write(
      `pipewright: run ${result.runId} interrupted; continue it with: pipewright resume ${result.runId}${resumeFlags(options)}\n`,
    );
  } else if (result.status === 'failed' || result.status === 'cancelled') {
    io.stderr.write(
      `pipewright: run ${result.runId} ${result.status}: ${result.error === undefined ? 'see the nodes above' : `${result.error.code}: ${result.error.message}`}\n`,
    );
  } else if (result.status === 'partial') {
    const failed = view.nodes.filter((node) => node.status === 'failed').map((node) => node.nodeId);
    io.stderr.write(
      `pipewright: run ${result.runId} finished partial: ${failed.join(', ')} failed (their policy let the run continue)\n`,
    );
  }
  return exitCodes[result.status];
}

function resumeFlags(options: WorkflowCommandOptions): string {
  return [
    options.config === undefined ? '' : ` --config ${options.config}`,
    options.sim === true ? ' --sim' : '',
    options.store === undefined ? '' : ` --store ${options.store}`,
    options.tenant === undefined ? '' : ` --tenant ${options.tenant}`,
  ].join('');
}

/** Outputs as `name: value`: text as it is, a list of texts as `- ` lines, short values as one line of JSON. */
function formatOutputs(outputs: Record<string, unknown>): string {
  const indent = (text: string) => text.replace(/^/gm, '    ');
  return Object.entries(outputs)
    .map(([name, value]) => {
      if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
        return `  ${name}:\n${value.map((item) => indent(`- ${item}`)).join('\n')}`;
      const compact = typeof value === 'string' ? value : JSON.stringify(value);
      if (compact.length <= 100 && !compact.includes('\n')) return `  ${name}: ${compact}`;
      return `  ${name}:\n${indent(typeof value === 'string' ? value : JSON.stringify(value, null, 2))}`;
    })
    .join('\n');
}

/** Nodes in their definition's order (the store lists them by id). */
function inDefinitionOrder(view: WorkflowRunView): WorkflowNodeRecord[] {
  let order: string[] = [];
  try {
    order =
      view.run.source === null ? [] : Object.keys((JSON.parse(view.run.source) as WorkflowDefinition).nodes);
  } catch {
    // A source that does not parse keeps the store's order.
  }
  const position = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  return [...view.nodes].sort((a, b) => position(a.nodeId) - position(b.nodeId));
}
