import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PipewrightError } from '../core/index.ts';
import type { Engine } from '../engine/index.ts';
import { parseWithSchema } from '../spec/index.ts';
import type { WorkflowEventRecord, WorkflowNodeRecord, WorkflowStore } from '../store/index.ts';
import {
  compileWorkflow,
  findUnknownModelReferences,
  loadWorkflow,
  WorkflowDefinitionError,
  type CompiledWorkflow,
  type WorkflowDefinition,
  type WorkflowRunner,
  type WorkflowRunView,
} from '../workflow/index.ts';
import { tenantIdOf } from './authenticate.ts';
import { jsonObjectBody } from './parse-json-body.ts';
import { toErrorResponse } from './error-response.ts';

/** What the workflow routes need: a runner over the gateway's engine and store, and the configured workflows. */
export interface WorkflowRoutesOptions {
  runner: WorkflowRunner;
  /** For listing a tenant's runs. */
  store: WorkflowStore;
  /** Workflows callable by id (the config's `workflows` files). */
  definitions: ReadonlyArray<CompiledWorkflow>;
  /** Between two SSE keep-alive comments (default 15 s), so proxies keep an idle stream open. */
  keepAliveMs?: number;
  /** The body limit of `POST /v1/workflows/runs` (default: the server's). */
  bodyLimitBytes?: number;
}

/** Cancel and resume take no body; a small one (`{}`) is read and ignored. */
const noBodyLimitBytes = 1024;

const runIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const startSchema = z.strictObject({
  /** A configured workflow's id (`GET /v1/workflows` lists them). */
  workflow: z.string().min(1).optional(),
  /** With `workflow`: a version other than the newest configured one. */
  version: z.number().int().positive().optional(),
  /** An inline definition: YAML text, or the same as a JSON object. */
  definition: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  input: z.record(z.string(), z.unknown()).default({}),
  runId: z
    .string()
    .regex(runIdPattern, 'must be 1-128 letters, digits or . _ : - (starting with a letter or digit)')
    .optional(),
  concurrency: z.number().int().min(1).max(1_000).optional(),
});

const listSchema = z.strictObject({
  status: z.enum(['running', 'succeeded', 'partial', 'failed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(20),
});

const versionSchema = z.strictObject({
  version: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a non-negative integer')
    .optional(),
});
const eventsQuerySchema = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,12}$/, 'must be a non-negative integer')
    .optional(),
});

/**
 * Resumes the runs a crash or restart left `running`, for every tenant that has some; logs what
 * resumed and what could not (an unknown or changed definition).
 *
 * @example
 * await resumeInterruptedRuns({ runner, store: store.workflows, logger });
 */
export async function resumeInterruptedRuns(options: {
  runner: WorkflowRunner;
  store: WorkflowStore;
  logger?: Logger;
}): Promise<{ resumed: number; failed: number }> {
  const { runner, store, logger } = options;
  let resumed = 0;
  let failed = 0;
  let tenants: string[];
  try {
    tenants = await store.listTenants({ status: 'running' });
  } catch (error) {
    // The gateway still serves calls; the runs stay `running` for the next start or a manual resume.
    logger?.error({ err: error }, 'cannot list interrupted workflow runs');
    return { resumed, failed };
  }
  for (const tenantId of tenants) {
    let outcome: Awaited<ReturnType<WorkflowRunner['resumeInterrupted']>>;
    try {
      outcome = await runner.resumeInterrupted({ tenantId });
    } catch (error) {
      logger?.error({ err: error, tenantId }, 'cannot resume interrupted workflow runs');
      continue;
    }
    resumed += outcome.resumed.length;
    failed += outcome.failed.length;
    if (outcome.resumed.length > 0)
      logger?.info(
        { tenantId, runs: outcome.resumed.map((handle) => handle.runId) },
        `resumed ${outcome.resumed.length} interrupted workflow run(s)`,
      );
    for (const failure of outcome.failed)
      logger?.error(
        { tenantId, runId: failure.runId, err: failure.error },
        `workflow run ${failure.runId} cannot resume: ${failure.error.message}`,
      );
  }
  return { resumed, failed };
}

/**
 * The workflow API, tenant-scoped (another tenant's run is a 404):
 * `GET /v1/workflows`, `POST /v1/workflows/runs`, `GET /v1/workflows/runs`,
 * `GET /v1/workflows/runs/:id`, `GET /v1/workflows/runs/:id/context?version=N`,
 * `GET /v1/workflows/runs/:id/events` (SSE, live until the run ends),
 * `POST /v1/workflows/runs/:id/cancel`, `POST /v1/workflows/runs/:id/resume`.
 *
 * @example
 * registerWorkflowRoutes(app, engine, { runner, store: store.workflows, definitions });
 */
export function registerWorkflowRoutes(
  app: FastifyInstance,
  engine: Pick<Engine, 'modelGroups' | 'stepTypes'>,
  options: WorkflowRoutesOptions,
): void {
  const catalog = createWorkflowCatalog(options.definitions);
  app.get('/v1/workflows', async () => ({ object: 'list', data: catalog.list() }));
  registerStartRoute(app, engine, catalog, options);
  registerRunRoutes(app, options.runner, options.store);
  registerEventStreamRoute(app, options.runner, options.keepAliveMs ?? 15_000);
}

type StartBody = z.infer<typeof startSchema>;

/** The workflows a start request can name: the configured ones (by id, or id and version) and inline ones. */
interface WorkflowCatalog {
  /** The configured workflows, every version, as `GET /v1/workflows` lists them. */
  list(): unknown[];
  /** The workflow a start request names, configured or inline (compiled and checked against the inline ones seen). */
  resolve(body: StartBody): CompiledWorkflow;
}

function createWorkflowCatalog(definitions: ReadonlyArray<CompiledWorkflow>): WorkflowCatalog {
  const configured = new Map<string, CompiledWorkflow>();
  for (const workflow of definitions) {
    configured.set(`${workflow.id}@${workflow.version}`, workflow);
    const newest = configured.get(workflow.id);
    if (newest === undefined || workflow.version >= newest.version) configured.set(workflow.id, workflow);
  }
  /** Inline definitions share the runner's registry: one id and version, one content. */
  const inlineHashes = new Map<string, string>();

  function resolveConfigured(id: string, version: number | undefined): CompiledWorkflow {
    const found = configured.get(version === undefined ? id : `${id}@${version}`);
    if (found === undefined) {
      const available = [...new Set(definitions.map((workflow) => workflow.id))].join(', ') || 'none';
      throw new PipewrightError({
        code: 'workflow.not_found',
        message: `no workflow ${id}${version === undefined ? '' : ` version ${version}`} is configured (configured: ${available})`,
        param: 'workflow',
      });
    }
    return found;
  }

  function resolveInline(body: StartBody): CompiledWorkflow {
    if (body.version !== undefined)
      throw new PipewrightError({
        code: 'request.invalid',
        message: '`version` goes with `workflow`; an inline definition states its own',
        param: 'version',
      });
    const definition = body.definition as string | Record<string, unknown>;
    const workflow = prefixProblems(() =>
      typeof definition === 'string'
        ? loadWorkflow(definition)
        : compileWorkflow(definition as unknown as WorkflowDefinition),
    );
    const key = `${workflow.id}@${workflow.version}`;
    if (configured.has(workflow.id)) {
      throw new PipewrightError({
        code: 'request.invalid',
        message: `definition.id: "${workflow.id}" is a configured workflow; start it with "workflow": "${workflow.id}" or give the inline definition another id`,
        param: 'definition.id',
      });
    }
    const known = inlineHashes.get(key);
    if (known !== undefined && known !== workflow.hash) {
      throw new PipewrightError({
        code: 'workflow.definition_changed',
        message: `workflow ${workflow.id} version ${workflow.version} was started with another definition; bump its version`,
        param: 'definition.version',
      });
    }
    inlineHashes.set(key, workflow.hash);
    return workflow;
  }

  return {
    list: () =>
      [...configured.entries()]
        .filter(([key]) => key.includes('@'))
        .map(([, workflow]) => ({
          object: 'workflow',
          id: workflow.id,
          version: workflow.version,
          description: workflow.definition.description ?? null,
          inputs: workflow.definition.inputs ?? [],
          outputs: Object.keys(workflow.definition.outputs ?? {}),
          nodes: [...workflow.nodes.keys()],
        })),
    resolve(body) {
      if ((body.workflow === undefined) === (body.definition === undefined)) {
        throw new PipewrightError({
          code: 'request.invalid',
          message:
            'send either `workflow` (a configured workflow id) or `definition` (an inline definition), not both or neither',
          param: 'workflow',
        });
      }
      return body.workflow !== undefined
        ? resolveConfigured(body.workflow, body.version)
        : resolveInline(body);
    },
  };
}

/** `POST /v1/workflows/runs`: resolves the workflow, checks its model references, starts it (202). */
function registerStartRoute(
  app: FastifyInstance,
  engine: Pick<Engine, 'modelGroups' | 'stepTypes'>,
  catalog: WorkflowCatalog,
  options: WorkflowRoutesOptions,
): void {
  const { runner } = options;
  const startOptions = options.bodyLimitBytes === undefined ? {} : { bodyLimit: options.bodyLimitBytes };
  app.post('/v1/workflows/runs', startOptions, async (request, reply) => {
    const tenantId = tenantIdOf(request);
    const body = parseWithSchema(startSchema, request.body === undefined ? {} : jsonObjectBody(request), {
      what: 'body',
    });
    const workflow = catalog.resolve(body);
    const problems = findUnknownModelReferences(workflow.definition, {
      modelGroups: engine.modelGroups().map((group) => group.name),
      stepTypes: engine.stepTypes(),
    });
    if (problems.length > 0) {
      // An inline definition's problems name their place in the request body.
      const inline = body.definition !== undefined;
      throw new WorkflowDefinitionError(
        inline ? 'definition' : workflow.id,
        inline ? problems.map((problem) => ({ ...problem, path: `definition.${problem.path}` })) : problems,
      );
    }
    const handle = await runner
      .start(workflow, body.input, {
        tenantId,
        ...(body.runId === undefined ? {} : { runId: body.runId }),
        ...(body.concurrency === undefined ? {} : { concurrency: body.concurrency }),
      })
      .catch((error: unknown) => {
        throw locateInputProblem(error);
      });
    const view = await runner.get(handle.runId, { tenantId });
    return reply.status(202).header('location', `/v1/workflows/runs/${handle.runId}`).send(presentRun(view));
  });
}

/** Listing runs, reading one run and its context, cancelling and resuming it. */
function registerRunRoutes(app: FastifyInstance, runner: WorkflowRunner, store: WorkflowStore): void {
  app.get('/v1/workflows/runs', async (request) => {
    const tenantId = tenantIdOf(request);
    const query = parseWithSchema(listSchema, request.query ?? {}, { what: 'query' });
    const runs = await store.listRuns(tenantId, {
      limit: query.limit,
      ...(query.status === undefined ? {} : { status: query.status }),
    });
    return { object: 'list', data: runs.map((run) => presentRun({ run, nodes: [] }, false)) };
  });

  app.get('/v1/workflows/runs/:id', async (request) =>
    presentRun(await runner.get(runIdOf(request), { tenantId: tenantIdOf(request) })),
  );

  app.get('/v1/workflows/runs/:id/context', async (request) => {
    const tenantId = tenantIdOf(request);
    const runId = runIdOf(request);
    const query = parseWithSchema(versionSchema, request.query ?? {}, { what: 'query' });
    const { run } = await runner.get(runId, { tenantId });
    const version = query.version === undefined ? run.contextVersion : Number(query.version);
    const context = await runner.context(runId, { tenantId, version });
    return { object: 'workflow.context', runId, version, latestVersion: run.contextVersion, context };
  });

  app.post('/v1/workflows/runs/:id/cancel', { bodyLimit: noBodyLimitBytes }, async (request) => {
    const tenantId = tenantIdOf(request);
    const runId = runIdOf(request);
    await runner.cancel(runId, { tenantId });
    return presentRun(await runner.get(runId, { tenantId }));
  });

  app.post('/v1/workflows/runs/:id/resume', { bodyLimit: noBodyLimitBytes }, async (request, reply) => {
    const tenantId = tenantIdOf(request);
    const runId = runIdOf(request);
    await runner.resume(runId, { tenantId });
    return reply.status(202).send(presentRun(await runner.get(runId, { tenantId })));
  });
}

/** `GET /v1/workflows/runs/:id/events`: the run's events as SSE, from `?after=` or `Last-Event-ID`, live until it ends. */
function registerEventStreamRoute(app: FastifyInstance, runner: WorkflowRunner, keepAliveMs: number): void {
  const streams = new Set<AbortController>();

  app.get('/v1/workflows/runs/:id/events', async (request, reply) => {
    const tenantId = tenantIdOf(request);
    const runId = runIdOf(request);
    const query = parseWithSchema(eventsQuerySchema, request.query ?? {}, { what: 'query' });
    const lastEventId = request.headers['last-event-id'];
    const resumeFrom =
      typeof lastEventId === 'string' && /^\d{1,12}$/.test(lastEventId) ? Number(lastEventId) : undefined;
    const afterSeq = query.after === undefined ? (resumeFrom ?? 0) : Number(query.after);
    // A missing run is an ordinary 404 before the stream starts.
    await runner.get(runId, { tenantId });

    const controller = new AbortController();
    streams.add(controller);
    try {
      await streamRunEvents(
        reply,
        () => runner.events(runId, { tenantId, afterSeq, signal: controller.signal }),
        { controller, keepAliveMs },
      );
    } finally {
      streams.delete(controller);
    }
    return reply;
  });

  // A shutdown must not wait for event streams following long runs: end them (clients can reconnect with Last-Event-ID).
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.abort();
  });
}

/** Takes over the response and writes each event as SSE, with keep-alive comments; an error ends it with an error event. */
async function streamRunEvents(
  reply: FastifyReply,
  openEvents: () => AsyncIterable<WorkflowEventRecord>,
  options: { controller: AbortController; keepAliveMs: number },
): Promise<void> {
  const { controller } = options;
  const raw = reply.raw;
  raw.on('close', () => controller.abort());
  reply.hijack();
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const keepAlive = setInterval(() => {
    if (!raw.destroyed) raw.write(': keep-alive\n\n');
  }, options.keepAliveMs);
  keepAlive.unref();
  try {
    for await (const event of openEvents()) {
      if (controller.signal.aborted || raw.destroyed) break;
      await writeEvent(
        raw,
        `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(presentEvent(event))}\n\n`,
        controller.signal,
      );
    }
  } catch (error) {
    if (!controller.signal.aborted && !raw.destroyed) {
      await writeEvent(
        raw,
        `event: error\ndata: ${JSON.stringify(toErrorResponse(error).body)}\n\n`,
        controller.signal,
      ).catch(() => undefined);
    }
  } finally {
    clearInterval(keepAlive);
    raw.end();
  }
}

/** The run id of a `/v1/workflows/runs/:id…` route; a malformed one is a 404 like an unknown one. */
function runIdOf(request: FastifyRequest): string {
  const id = (request.params as { id: string }).id;
  if (!runIdPattern.test(id))
    throw new PipewrightError({
      code: 'workflow.run_not_found',
      message: `no run ${id.slice(0, 128)}`,
      // The runner's name for it, so an unknown and a malformed run id name the same thing.
      param: 'runId',
    });
  return id;
}

async function writeEvent(raw: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (!raw.write(text)) await once(raw, 'drain', { signal });
}

/** A run input problem names its place in the request body: `input.brief`, not `brief`. */
function locateInputProblem(error: unknown): unknown {
  if (!PipewrightError.isInstance(error) || error.code !== 'workflow.input_invalid') return error;
  const param = error.param;
  if (param === 'input' || param?.startsWith('input.') === true || param?.startsWith('input[') === true)
    return error;
  return new PipewrightError({
    code: error.code,
    message: error.message,
    param: param === undefined ? 'input' : param.startsWith('[') ? `input${param}` : `input.${param}`,
    cause: error,
    ...(error.details === undefined ? {} : { details: error.details }),
  });
}

/** Definition problems of an inline definition name their place in the request body. */
function prefixProblems(compile: () => CompiledWorkflow): CompiledWorkflow {
  try {
    return compile();
  } catch (error) {
    if (error instanceof WorkflowDefinitionError) {
      throw new WorkflowDefinitionError(
        'definition',
        error.problems.map((problem) => ({
          ...problem,
          path: problem.path === '' ? 'definition' : `definition.${problem.path}`,
        })),
      );
    }
    throw error;
  }
}

const iso = (time: number | null): string | null => (time === null ? null : new Date(time).toISOString());

function presentNode(node: WorkflowNodeRecord) {
  const items = node.progress?.items;
  return {
    id: node.nodeId,
    status: node.status,
    attempt: node.attempt,
    startedAt: iso(node.startedAt),
    finishedAt: iso(node.finishedAt),
    durationMs: node.startedAt === null || node.finishedAt === null ? null : node.finishedAt - node.startedAt,
    costUsd: node.costUsd,
    contextVersion: node.startVersion,
    ...(node.outputJson === null ? {} : { output: JSON.parse(node.outputJson) as unknown }),
    ...(node.outputBlobHash === null ? {} : { outputBlobHash: node.outputBlobHash }),
    ...(items !== null && typeof items === 'object' ? { itemsDone: Object.keys(items).length } : {}),
    error: node.error,
    reason: node.reason,
  };
}

function presentRun(view: WorkflowRunView, withNodes = true) {
  const { run } = view;
  return {
    object: 'workflow.run',
    id: run.runId,
    tenantId: run.tenantId,
    workflow: { id: run.workflowId, version: run.workflowVersion },
    status: run.status,
    input: run.input,
    outputs: run.outputs,
    error: run.error,
    costUsd: run.costUsd,
    contextVersion: run.contextVersion,
    lastEventSeq: run.eventSeq,
    createdAt: iso(run.createdAt),
    updatedAt: iso(run.updatedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.finishedAt === null ? null : run.finishedAt - run.createdAt,
    ...(withNodes ? { nodes: view.nodes.map(presentNode) } : {}),
  };
}

function presentEvent(event: WorkflowEventRecord) {
  return { seq: event.seq, time: iso(event.time), type: event.type, nodeId: event.nodeId, data: event.data };
}
