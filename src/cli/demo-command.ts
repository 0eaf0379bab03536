import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { z } from 'zod';
import { parseConfig, type PipewrightConfig } from '../config/index.ts';
import { PipewrightError } from '../core/index.ts';
import type { Engine } from '../engine/index.ts';
import { startGateway, type RunningGateway } from '../main.ts';
import { countSimRequests, startSimServer, type SimServer } from '../providers/sim/index.ts';
import type { CallRecord } from '../telemetry/index.ts';
import { formatTable } from './format-table.ts';

/** The demo's configuration: every deployment points at the local sim. */
export function createDemoConfig(simUrl: string, masterKey: string, storePath: string): PipewrightConfig {
  const sim = (
    id: string,
    model: string,
    wireFormat: 'openai' | 'anthropic' | 'gemini',
    extra: Record<string, unknown> = {},
  ) => ({
    id,
    provider: 'sim',
    model,
    wireFormat,
    baseUrl: wireFormat === 'gemini' ? `${simUrl}/v1beta` : `${simUrl}/v1`,
    apiKey: 'sim-key',
    ...extra,
  });
  return parseConfig({
    server: { masterKey, port: 0 },
    store: { path: storePath },
    telemetry: { flushIntervalMs: 200 },
    deployments: [
      sim('sim-gpt-4o-mini', 'gpt-4o-mini', 'openai'),
      sim('sim-claude-haiku', 'claude-3-5-haiku-latest', 'anthropic'),
      sim('sim-gemini-flash', 'gemini-2.5-flash', 'gemini'),
      // The catalog has no embedding prices, so this deployment states OpenAI's list price itself.
      sim('sim-embedding', 'text-embedding-3-small', 'openai', {
        price: { inputPerMillion: 0.02, outputPerMillion: 0 },
      }),
      sim('sim-dall-e', 'dall-e-3', 'openai'),
      // Every call to this one fails upstream with a 503, to show how errors surface.
      sim('sim-down', 'gpt-4o', 'openai', { headers: { 'x-sim-fault': 'status=503' } }),
    ],
    modelGroups: [
      { name: 'fast', deployments: ['sim-gpt-4o-mini'] },
      { name: 'faq', deployments: ['sim-gpt-4o-mini'] },
      { name: 'claude', deployments: ['sim-claude-haiku'] },
      { name: 'gemini', deployments: ['sim-gemini-flash'] },
      { name: 'embed', deployments: ['sim-embedding'] },
      { name: 'image', deployments: ['sim-dall-e'] },
      { name: 'unavailable', deployments: ['sim-down'] },
    ],
    // The exact cache is on by default; the semantic cache is turned on for the support FAQ group.
    cache: { modelGroups: { faq: { semantic: { enabled: true } } } },
    stepTypes: [
      {
        name: 'support-triage',
        modelGroup: 'claude',
        system: 'You triage support tickets for {{context.product}}.',
        prompt: 'Classify this ticket and suggest a reply: {{input.ticket}}',
        outputSchema: {
          type: 'object',
          required: ['category', 'urgency', 'reply'],
          properties: {
            category: { type: 'string', enum: ['billing', 'bug', 'how-to', 'other'] },
            urgency: { type: 'integer', minimum: 1, maximum: 5 },
            reply: { type: 'string' },
          },
        },
      },
    ],
  });
}

interface DemoStep {
  via: 'library' | 'HTTP';
  what: string;
  outcome: string;
}

/** What every step of the demo works with. */
interface DemoSession {
  engine: Engine;
  sim: SimServer;
  tenantId: string;
  /** POSTs a JSON body to the gateway with the master key, as the demo's tenant. */
  post(path: string, body: unknown): Promise<Response>;
}

type DemoStepRunner = (session: DemoSession) => Promise<DemoStep>;

/** `pipewright demo`: the sim + the gateway + a mix of calls, then a summary read back from the store. */
export async function runDemo(
  options: { keepRunning?: boolean } = {},
  output: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const write = (text: string) => output.write(`${text}\n`);
  mkdirSync('.pipewright', { recursive: true });
  const sim = await startSimServer({ host: '127.0.0.1', port: 0, seed: 7 });
  const masterKey = `pw-demo-${randomBytes(12).toString('hex')}`;
  const config = createDemoConfig(sim.url, masterKey, '.pipewright/demo.db');
  const gateway = await startGateway({ config, port: 0, logger: pino({ level: 'warn' }) });
  const tenantId = `demo-${Date.now().toString(36)}`;
  write('Pipewright demo');
  write('  NOTE: every provider here is SIMULATED (the built-in sim provider). No real model is called,');
  write('        answers are synthetic, and costs are what the real models would have cost at list price.');
  write(
    `  sim provider: ${sim.url}   gateway: ${gateway.url}   store: ${config.store.path}   tenant: ${tenantId}\n`,
  );

  const session: DemoSession = {
    engine: gateway.engine,
    sim,
    tenantId,
    post: (path, body) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${masterKey}`,
          'content-type': 'application/json',
          'x-pipewright-tenant': tenantId,
        },
        body: JSON.stringify(body),
      }),
  };
  const steps = await runDemoSteps(session, write);
  write(
    formatTable(
      ['#', 'via', 'what', 'result'],
      steps.map((step, index) => [index + 1, step.via, step.what, step.outcome]),
    ),
  );
  await writeStoreSummary(gateway, tenantId, write);

  if (options.keepRunning === true) {
    write(`\nGateway running. Master key for this run: ${masterKey}\nPress Ctrl+C to stop.`);
    const stop = () => void Promise.all([gateway.close(), sim.close()]).then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  await gateway.close();
  await sim.close();
}

/** The demo's steps, in the order they run and are numbered in the summary. */
const demoStepRunners: readonly DemoStepRunner[] = [
  runLibraryChat,
  runJsonSchemaStep,
  runZodStep,
  runHttpChat,
  runHttpStream,
  runHttpToolCall,
  runHttpEmbeddings,
  runHttpImage,
  runProviderDown,
  runBadRequest,
  runExactCache,
  runSemanticCache,
  runSingleFlight,
];

/** Runs the steps in order; the first failure is reported and ends the run, keeping the steps done so far. */
async function runDemoSteps(session: DemoSession, write: (text: string) => void): Promise<DemoStep[]> {
  const steps: DemoStep[] = [];
  try {
    for (const runStep of demoStepRunners) steps.push(await runStep(session));
  } catch (error) {
    write(
      `demo failed: ${PipewrightError.isInstance(error) ? `${error.code}: ${error.message}` : String(error)}`,
    );
    process.exitCode = 1;
  }
  return steps;
}

/** 1. Library: a plain chat call. */
async function runLibraryChat({ engine, tenantId }: DemoSession): Promise<DemoStep> {
  const chat = await engine.chat(
    {
      model: 'fast',
      messages: [{ role: 'user', content: 'Give me one tip for writing clear error messages.' }],
    },
    { tenantId },
  );
  return {
    via: 'library',
    what: 'chat (fast)',
    outcome: truncate(chat.response.choices[0]?.message.content ?? ''),
  };
}

/** 2. Library: a step type with a JSON output schema. */
async function runJsonSchemaStep({ engine, tenantId }: DemoSession): Promise<DemoStep> {
  const triage = await engine.run<{ category: string; urgency: number }>(
    'support-triage',
    { ticket: 'I was charged twice for my March invoice.' },
    { product: 'Acme Cloud' },
    { tenantId },
  );
  return {
    via: 'library',
    what: 'step support-triage (JSON schema)',
    outcome: `${JSON.stringify(triage.output).slice(0, 60)}… confidence ${triage.confidence}`,
  };
}

/** 3. Library: a zod-typed step type registered in code. */
async function runZodStep({ engine, tenantId }: DemoSession): Promise<DemoStep> {
  engine.registerStepType({
    name: 'headline',
    modelGroup: 'gemini',
    output: z.object({ headline: z.string(), words: z.number().int() }),
    buildMessages: (input: { topic: string }) => [
      { role: 'user', content: `Write a headline about ${input.topic}` },
    ],
  });
  const headline = await engine.run<{ headline: string }>(
    'headline',
    { topic: 'resilient AI pipelines' },
    {},
    { tenantId },
  );
  return {
    via: 'library',
    what: 'step headline (zod, gemini)',
    outcome: truncate(headline.output.headline),
  };
}

/** 4. HTTP: chat completion. */
async function runHttpChat({ post }: DemoSession): Promise<DemoStep> {
  const chatResponse = await post('/v1/chat/completions', {
    model: 'claude',
    messages: [{ role: 'user', content: 'Summarise why gateways help teams.' }],
  });
  const chatBody = (await chatResponse.json()) as { choices: Array<{ message: { content: string } }> };
  return {
    via: 'HTTP',
    what: 'POST /v1/chat/completions (claude)',
    outcome: `${chatResponse.status} overhead ${chatResponse.headers.get('x-pipewright-overhead-ms')} ms: ${truncate(chatBody.choices[0]?.message.content ?? '', 40)}`,
  };
}

/** 5. HTTP: a stream. */
async function runHttpStream({ post }: DemoSession): Promise<DemoStep> {
  const streamResponse = await post('/v1/chat/completions', {
    model: 'fast',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Count to five.' }],
  });
  const streamText = await streamResponse.text();
  const events = streamText.split('\n\n').filter((event) => event.startsWith('data: '));
  return {
    via: 'HTTP',
    what: 'POST /v1/chat/completions stream',
    outcome: `${streamResponse.status}, ${events.length} SSE events, ends with ${events.at(-1)?.slice(6) ?? '?'}`,
  };
}

/** 6. HTTP: a tool call. */
async function runHttpToolCall({ post }: DemoSession): Promise<DemoStep> {
  const toolResponse = await post('/v1/chat/completions', {
    model: 'gemini',
    messages: [{ role: 'user', content: 'What is the weather in Lisbon?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
        },
      },
    ],
  });
  const toolBody = (await toolResponse.json()) as {
    choices: Array<{ message: { tool_calls?: Array<{ function: { name: string; arguments: string } }> } }>;
  };
  const toolCall = toolBody.choices[0]?.message.tool_calls?.[0]?.function;
  return {
    via: 'HTTP',
    what: 'tool call (gemini)',
    outcome:
      toolCall === undefined
        ? `${toolResponse.status} no tool call`
        : `${toolCall.name}(${toolCall.arguments})`,
  };
}

/** 7. HTTP: embeddings. */
async function runHttpEmbeddings({ post }: DemoSession): Promise<DemoStep> {
  const embedResponse = await post('/v1/embeddings', {
    model: 'embed',
    input: ['artificial intelligence', 'machine learning'],
  });
  const embedBody = (await embedResponse.json()) as { data: Array<{ embedding: number[] }> };
  return {
    via: 'HTTP',
    what: 'POST /v1/embeddings',
    outcome: `${embedResponse.status}, ${embedBody.data.length} vectors of ${embedBody.data[0]?.embedding.length ?? 0} dims`,
  };
}

/** 8. HTTP: an image. */
async function runHttpImage({ post }: DemoSession): Promise<DemoStep> {
  const imageResponse = await post('/v1/images/generations', {
    model: 'image',
    prompt: 'a lighthouse at dawn',
    response_format: 'b64_json',
    size: '256x256',
  });
  const imageBody = (await imageResponse.json()) as { data: Array<{ b64_json?: string }> };
  return {
    via: 'HTTP',
    what: 'POST /v1/images/generations',
    outcome: `${imageResponse.status}, PNG of ${Math.round(((imageBody.data[0]?.b64_json?.length ?? 0) * 3) / 4)} bytes`,
  };
}

/** 9. HTTP: a provider error, surfaced as an OpenAI error envelope. */
async function runProviderDown({ post }: DemoSession): Promise<DemoStep> {
  const errorResponse = await post('/v1/chat/completions', {
    model: 'unavailable',
    messages: [{ role: 'user', content: 'Hello?' }],
  });
  const errorBody = (await errorResponse.json()) as {
    error: { code: string; pipewright_code: string; message: string; details?: { attempts?: unknown[] } };
  };
  const attempts = errorBody.error.details?.attempts?.length ?? 1;
  // `code` is the upstream's own where it gave one; Pipewright's stable code travels beside it.
  const { code, pipewright_code: pipewrightCode } = errorBody.error;
  return {
    via: 'HTTP',
    what: 'provider down (503 upstream)',
    outcome: `${errorResponse.status} ${pipewrightCode}${code === pipewrightCode ? '' : ` (upstream: ${code})`} after ${attempts} attempt${attempts === 1 ? '' : 's'} (retried with backoff)`,
  };
}

/** 10. HTTP: bad input, answered with the field at fault. */
async function runBadRequest({ post }: DemoSession): Promise<DemoStep> {
  const badResponse = await post('/v1/chat/completions', {
    model: 'fast',
    messages: [{ role: 'user', content: 42 }],
  });
  const badBody = (await badResponse.json()) as { error: { param: string } };
  return {
    via: 'HTTP',
    what: 'bad request (content: 42)',
    outcome: `${badResponse.status} param ${badBody.error.param}`,
  };
}

/** 11. Library: the exact cache. A repeatable request (temperature 0) asked twice is answered once. */
async function runExactCache({ engine, tenantId }: DemoSession): Promise<DemoStep> {
  const question = {
    model: 'fast',
    temperature: 0,
    messages: [{ role: 'user', content: 'What does a circuit breaker do?' }],
  };
  await engine.chat(question, { tenantId });
  const repeated = await engine.chat(question, { tenantId });
  return {
    via: 'library',
    what: 'exact cache (same question twice)',
    outcome: `${repeated.meta.cacheStatus}: saved ${formatCost(repeated.meta.savedCostUsd)} and ${repeated.meta.savedLatencyMs?.toFixed(1) ?? '?'} ms`,
  };
}

/** 12. HTTP: the semantic cache. A reworded question gets the stored answer of the first. */
async function runSemanticCache({ post }: DemoSession): Promise<DemoStep> {
  const faq = (content: string) => ({
    model: 'faq',
    temperature: 0,
    messages: [
      { role: 'system', content: 'You answer Acme Cloud support questions.' },
      { role: 'user', content },
    ],
  });
  await post('/v1/chat/completions', faq('How do I export my data?'));
  const reworded = await post('/v1/chat/completions', faq('How can I export all my data?'));
  await reworded.body?.cancel();
  return {
    via: 'HTTP',
    what: 'semantic cache (reworded question)',
    outcome: `${reworded.headers.get('x-pipewright-cache') ?? '?'}, similarity ${reworded.headers.get('x-pipewright-cache-similarity') ?? '-'}, confidence ${reworded.headers.get('x-pipewright-cache-confidence') ?? '-'}`,
  };
}

/** 13. Library: single-flight. Five identical concurrent calls share one upstream call. */
async function runSingleFlight({ engine, sim, tenantId }: DemoSession): Promise<DemoStep> {
  const before = countSimRequests(sim.stats());
  const burst = {
    model: 'claude',
    temperature: 0,
    messages: [{ role: 'user', content: 'Name three uses of a gateway.' }],
  };
  await Promise.all(Array.from({ length: 5 }, () => engine.chat(burst, { tenantId })));
  return {
    via: 'library',
    what: 'single-flight (5 identical at once)',
    outcome: `${countSimRequests(sim.stats()) - before} upstream call for 5 callers`,
  };
}

/** The calls the store recorded for the demo's tenant, their totals and the cache ratios. */
async function writeStoreSummary(
  gateway: RunningGateway,
  tenantId: string,
  write: (text: string) => void,
): Promise<void> {
  await gateway.recorder.flush();
  const records = (await gateway.store.callRecords.list({ tenantId, limit: 100 })).reverse();
  const summary = await gateway.store.callRecords.summarize({ tenantId });
  write('\nCalls recorded in the store (one row per model call):');
  write(
    formatTable(
      [
        'model group',
        'deployment',
        'model',
        'op',
        'tokens in',
        'tokens out',
        'cost USD',
        'latency',
        'cache',
        'outcome',
      ],
      records.map((record) => [
        record.modelGroup,
        record.deployment ?? '-',
        record.model ?? '-',
        operationLabel(record),
        record.inputTokens,
        record.outputTokens,
        formatCost(record.costUsd),
        `${record.latencyMs.toFixed(1)} ms`,
        record.cacheStatus,
        record.outcome === 'success' ? 'ok' : (record.errorCode ?? 'error'),
      ]),
    ),
  );
  write(
    `\nTotal: ${summary.calls} calls, ${summary.errors} error${summary.errors === 1 ? '' : 's'}, ${summary.inputTokens} input + ${summary.outputTokens} output tokens, $${summary.costUsd.toFixed(6)} (simulated).`,
  );
  // Lookups: calls the cache was asked about (hit, semantic-hit or miss); bypassed calls never were.
  const lookups = records.filter((record) => record.cacheStatus !== 'bypass').length;
  const ratio = (count: number) => (lookups === 0 ? '0%' : `${Math.round((100 * count) / lookups)}%`);
  write(
    `Cache: ${lookups} lookups, hit ratio ${ratio(summary.cacheHits - summary.semanticHits)}, semantic hit ratio ${ratio(summary.semanticHits)}; saved ${formatCost(summary.savedCostUsd)} and ${(summary.savedLatencyMs / 1000).toFixed(2)} s of model time (hits and shared in-flight calls).`,
  );
  write(`Metrics: ${gateway.url}/metrics   (Authorization: Bearer <master key>)`);
}

function operationLabel(record: CallRecord): string {
  return record.streamed ? `${record.operation}/stream` : record.operation;
}

function formatCost(cost: number | null): string {
  if (cost === null) return 'n/a';
  // Tiny costs (embeddings) keep two significant digits instead of rounding to zero.
  return cost > 0 && cost < 0.000001 ? `$${cost.toFixed(10).replace(/0+$/, '')}` : `$${cost.toFixed(6)}`;
}

function truncate(text: string, length = 50): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
