import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createFakeProviderClient, textResponse } from '../../test/support/fake-provider-client.ts';
import { PipewrightError, ProviderError } from '../core/index.ts';
import type { RunStepOptions, StepContext, StepResult } from '../engine/index.ts';
import { createEngine } from '../pipewright.ts';
import {
  createSqliteStore,
  type Store,
  type WorkflowCommit,
  type WorkflowEventRecord,
  type WorkflowStore,
} from '../store/index.ts';
import type { CallRecord } from '../telemetry/index.ts';
import type { WorkflowEngine } from './call-node-function.ts';
import { loadWorkflow } from './load-workflow.ts';
import type { NodeCallContext, WorkflowDefinition, WorkflowFunctions } from './workflow-definition.ts';
import { createWorkflowRunner, type WorkflowRunner, type WorkflowRunnerOptions } from './workflow-runner.ts';

const directory = mkdtempSync(join(tmpdir(), 'pipewright-workflow-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const tick = (ms = 2) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts how many calls run at once and the most that ever did. */
function concurrencyProbe() {
  let running = 0;
  let peak = 0;
  return {
    async during<T>(work: () => Promise<unknown>, result: T): Promise<T> {
      running += 1;
      peak = Math.max(peak, running);
      try {
        await work();
      } finally {
        running -= 1;
      }
      return result;
    },
    peak: () => peak,
  };
}

/** A promise the test resolves by hand. */
function latch<T = void>() {
  let release: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

/** Waits until the call's signal aborts, then rejects with its reason (a node that never finishes on its own). */
function untilAborted(call: NodeCallContext): Promise<never> {
  return new Promise((_, reject) => {
    if (call.signal.aborted) reject(call.signal.reason as Error);
    call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), { once: true });
  });
}

async function withRunner(
  options: Omit<WorkflowRunnerOptions, 'store'>,
  body: (runner: WorkflowRunner, store: Store) => Promise<void>,
): Promise<void> {
  const store = await createSqliteStore({ path: ':memory:' });
  const runner = createWorkflowRunner({ ...options, store: store.workflows });
  try {
    await body(runner, store);
  } finally {
    await runner.close();
    await store.close();
  }
}

function flow(
  nodes: WorkflowDefinition['nodes'],
  extra: Partial<WorkflowDefinition> = {},
): WorkflowDefinition {
  return {
    id: 'test-flow',
    version: 1,
    inputs: ['topic'],
    context: { fields: { topic: { schema: { type: 'string' }, default: 'tea' }, result: {}, other: {} } },
    nodes,
    ...extra,
  };
}

function isCode(code: string) {
  return (error: unknown) => PipewrightError.isInstance(error) && error.code === code;
}

/** A fake engine recording every call with its options. */
function fakeEngine(
  answer: (kind: 'run' | 'chat', payload: unknown, attempt: number) => unknown = (_kind, payload) => payload,
) {
  const calls: Array<{
    kind: 'run' | 'chat';
    name: string | undefined;
    payload: unknown;
    context: unknown;
    options: Record<string, unknown>;
  }> = [];
  const engine: WorkflowEngine = {
    async run<Output>(
      stepType: string,
      input: unknown,
      context?: StepContext,
      options?: RunStepOptions,
    ): Promise<StepResult<Output>> {
      calls.push({ kind: 'run', name: stepType, payload: input, context, options: { ...options } });
      const output = answer('run', input, calls.length);
      if (output instanceof Error) throw output;
      return { output, costUsd: 0.01 } as StepResult<Output>;
    },
    async chat(request, options) {
      calls.push({
        kind: 'chat',
        name: undefined,
        payload: request,
        context: undefined,
        options: { ...options },
      });
      const output = answer('chat', request, calls.length);
      if (output instanceof Error) throw output;
      return { response: textResponse(String(output)), meta: { costUsd: 0.002 } } as Awaited<
        ReturnType<WorkflowEngine['chat']>
      >;
    },
  };
  return { engine, calls };
}

describe('workflow runner: scheduling', () => {
  test('independent nodes run in parallel up to the per-run limit, and never above it', async () => {
    const probe = concurrencyProbe();
    const slow = () => probe.during(() => tick(5), 1);
    const nodes = Object.fromEntries(
      Array.from({ length: 7 }, (_, index) => [`n${index}`, { type: 'transform' as const, fn: slow }]),
    );
    await withRunner({}, async (runner) => {
      const result = await (await runner.start(flow(nodes), {}, { concurrency: 3 })).result;
      assert.equal(result.status, 'succeeded');
      assert.equal(probe.peak(), 3);
    });
  });

  test('the global limit holds across runs', async () => {
    const probe = concurrencyProbe();
    const slow = () => probe.during(() => tick(5), 1);
    const nodes = Object.fromEntries(
      Array.from({ length: 4 }, (_, index) => [`n${index}`, { type: 'transform' as const, fn: slow }]),
    );
    await withRunner({ concurrency: 2 }, async (runner) => {
      const handles = await Promise.all([
        runner.start(flow(nodes), {}, { concurrency: 4 }),
        runner.start(flow(nodes), {}, { concurrency: 4 }),
      ]);
      for (const handle of handles) assert.equal((await handle.result).status, 'succeeded');
      assert.equal(probe.peak(), 2);
    });
  });

  test('ready nodes start by priority, then in definition order', async () => {
    const order: string[] = [];
    const record = (_input: unknown, call: NodeCallContext) => void order.push(call.nodeId);
    await withRunner({}, async (runner) => {
      const definition = flow({
        low: { type: 'transform', fn: record },
        high: { type: 'transform', fn: record, priority: 10 },
        middle: { type: 'transform', fn: record, priority: 5 },
        later: { type: 'transform', fn: record, priority: 5 },
      });
      assert.equal(
        (await (await runner.start(definition, {}, { concurrency: 1 })).result).status,
        'succeeded',
      );
      assert.deepEqual(order, ['high', 'middle', 'later', 'low']);
    });
  });

  test('a node runs after all of its dependencies, and data flows through references and context', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          a: {
            type: 'transform',
            fn: (input) => `${String(input)}!`,
            input: '$context.topic',
            writes: { result: '$output' },
          },
          b: {
            type: 'transform',
            fn: (input) => ({ length: String(input).length }),
            input: '$context.result',
          },
          c: {
            type: 'transform',
            fn: (input) => input,
            input: { fromB: '$nodes.b.output.length', literal: '$$5', fixed: 3 },
          },
        },
        { outputs: { final: '$nodes.c.output', shout: '$context.result' } },
      );
      const result = await (await runner.start(definition, { topic: 'tea' })).result;
      assert.deepEqual(result.outputs, { final: { fromB: 4, literal: '$5', fixed: 3 }, shout: 'tea!' });
    });
  });

  test('lazy evaluation: a node nothing needs never runs', async () => {
    const ran: string[] = [];
    const record = (_input: unknown, call: NodeCallContext) => {
      ran.push(call.nodeId);
      return call.nodeId;
    };
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          used: { type: 'transform', fn: record },
          unused: { type: 'transform', fn: record },
          effect: { type: 'transform', fn: record, always: true },
        },
        { outputs: { value: '$nodes.used.output' } },
      );
      const handle = await runner.start(definition, {});
      assert.equal((await handle.result).status, 'succeeded');
      assert.deepEqual(ran.sort(), ['effect', 'used']);
      const view = await runner.get(handle.runId);
      assert.equal(view.nodes.find((node) => node.nodeId === 'unused')?.status, 'skipped');
      assert.match(view.nodes.find((node) => node.nodeId === 'unused')?.reason ?? '', /not needed/);
    });
  });

  test('any-of: the first result wins and the others are cancelled', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          fast: { type: 'transform', fn: async () => 'quick' },
          slow: { type: 'transform', fn: (_input, call) => untilAborted(call) },
          join: { type: 'wait', for: ['fast', 'slow'], mode: 'any' },
        },
        { outputs: { first: '$nodes.join.output' } },
      );
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'succeeded');
      assert.deepEqual(result.outputs.first, { winner: 'fast', output: 'quick' });
      const nodes = (await runner.get(handle.runId)).nodes;
      assert.equal(nodes.find((node) => node.nodeId === 'slow')?.status, 'cancelled');
    });
  });

  test('an asynchronous node is joined later: settled waits for every outcome, failures included', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow({
        background: {
          type: 'transform',
          fn: () => Promise.reject(new Error('upstream broke')),
          onError: { action: 'continue' },
        },
        main: { type: 'transform', fn: () => 'main done' },
        afterMain: { type: 'transform', fn: (input) => input, input: '$nodes.main.output' },
        join: { type: 'wait', for: ['background', 'afterMain'], mode: 'settled' },
        report: { type: 'transform', fn: (input) => input, input: '$nodes.join.output' },
      });
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'partial');
      const report = (await runner.get(handle.runId)).nodes.find((node) => node.nodeId === 'report');
      const output = JSON.parse(report?.outputJson ?? 'null') as Record<
        string,
        { status: string; output?: unknown; error?: { message: string } }
      >;
      assert.equal(output.afterMain?.status, 'succeeded');
      assert.equal(output.afterMain?.output, 'main done');
      assert.equal(output.background?.status, 'failed');
      assert.match(output.background?.error?.message ?? '', /upstream broke/);
    });
  });

  test('a branch chooses which downstream nodes run; the others are skipped and a wait joins them', async () => {
    const ran: string[] = [];
    const record = (_input: unknown, call: NodeCallContext) => {
      ran.push(call.nodeId);
      return call.nodeId;
    };
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          score: { type: 'transform', fn: () => 0.9, writes: { result: '$output' } },
          route: {
            type: 'branch',
            cases: [{ when: { ref: '$context.result', gte: 0.8 }, then: ['publish'] }],
            otherwise: ['review'],
          },
          publish: { type: 'transform', fn: record },
          review: { type: 'transform', fn: record },
          done: { type: 'wait', for: ['publish', 'review'], mode: 'any' },
        },
        { outputs: { outcome: '$nodes.done.output.winner' } },
      );
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'succeeded');
      assert.deepEqual(ran, ['publish']);
      assert.equal(result.outputs.outcome, 'publish');
      const review = (await runner.get(handle.runId)).nodes.find((node) => node.nodeId === 'review');
      assert.equal(review?.status, 'skipped');
      assert.match(review?.reason ?? '', /branch route chose another case/);
    });
  });

  test('map: fan-out under its concurrency limit, results in input order, $item and $index bound', async () => {
    const probe = concurrencyProbe();
    const functions: WorkflowFunctions = {
      transforms: {
        shout: async (input) => {
          const { word, index } = input as { word: string; index: number };
          // Later items finish first.
          return probe.during(() => tick(word.length), `${index}:${word.toUpperCase()}`);
        },
      },
    };
    const definition = loadWorkflow(
      `
id: fan-out
version: 1
inputs: [words]
outputs: { shouted: $context.shouted }
context:
  fields:
    words: { schema: { type: array, items: { type: string } } }
    shouted: { schema: { type: array, items: { type: string } } }
nodes:
  each:
    type: map
    over: $context.words
    concurrency: 2
    node: { type: transform, fn: shout, input: { word: $item, index: $index }, output: { type: string } }
    writes: { shouted: $output }
`,
      functions,
    );
    await withRunner({ functions }, async (runner) => {
      const result = await (
        await runner.start(definition, { words: ['elephant', 'giraffe', 'cat', 'ox', 'bee'] })
      ).result;
      assert.deepEqual(result.outputs.shouted, ['0:ELEPHANT', '1:GIRAFFE', '2:CAT', '3:OX', '4:BEE']);
      assert.equal(probe.peak(), 2);
    });
  });
});

describe('workflow runner: model nodes through the engine', () => {
  test('a chat node renders its prompt, calls the model group with the idempotency key, and writes the answer', async () => {
    const client = createFakeProviderClient({
      chat: (request) => textResponse(`tagline for ${String(request.messages.at(-1)?.content)}`),
    });
    const records: CallRecord[] = [];
    const engine = createEngine({
      recorder: {
        record: (record) => void records.push(record),
        flush: async () => {},
        close: async () => {},
      },
      config: {
        deployments: [
          {
            id: 'primary',
            provider: 'openai',
            model: 'gpt-4o-mini',
            baseUrl: 'http://127.0.0.1:1/v1',
            apiKey: 'k',
          },
        ],
        modelGroups: [{ name: 'fast', deployments: ['primary'] }],
      },
      client,
    });
    await withRunner({ engine }, async (runner) => {
      const definition = flow(
        {
          write: {
            type: 'model',
            modelGroup: 'fast',
            system: 'Be brief.',
            prompt: 'Write about {{input.topic}}',
            input: { topic: '$context.topic' },
            parameters: { temperature: 0.2 },
            writes: { result: '$output' },
          },
        },
        { outputs: { tagline: '$context.result' } },
      );
      const handle = await runner.start(definition, { topic: 'green tea' }, { tenantId: 'acme' });
      const result = await handle.result;
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error?.message));
      assert.equal(result.outputs.tagline, 'tagline for Write about green tea');
      assert.ok(result.costUsd > 0, 'the run carries the call cost');
      assert.equal(client.calls.length, 1);
      const sent = client.calls[0];
      assert.equal((sent?.request as { temperature?: number }).temperature, 0.2);
      const key = `${handle.runId}:write:1`;
      assert.equal(sent?.options?.headers?.['idempotency-key'], key);
      // Telemetry carries the key as the request id, under the run's tenant.
      assert.deepEqual(
        records.map((record) => [record.requestId, record.tenantId]),
        [[key, 'acme']],
      );
      await engine.close();
    });
  });

  test('a step-type node gets its bound input, its readable context and the call options', async () => {
    const { engine, calls } = fakeEngine(() => ({ headline: 'Tea time' }));
    await withRunner({ engine }, async (runner) => {
      const definition = flow(
        {
          headline: {
            type: 'model',
            stepType: 'tagline',
            modelGroup: 'smart',
            input: { subject: '$context.topic' },
            reads: ['topic'],
            writes: { result: '$output.headline' },
          },
        },
        { outputs: { headline: '$context.result' } },
      );
      const handle = await runner.start(definition, { topic: 'tea' }, { tenantId: 'acme' });
      assert.equal((await handle.result).outputs.headline, 'Tea time');
      assert.equal(calls[0]?.name, 'tagline');
      assert.deepEqual(calls[0]?.payload, { subject: 'tea' });
      assert.deepEqual(calls[0]?.context, { topic: 'tea' });
      const key = `${handle.runId}:headline:1`;
      assert.deepEqual(calls[0]?.options, {
        tenantId: 'acme',
        requestId: key,
        signal: calls[0]?.options.signal,
        upstreamHeaders: { 'idempotency-key': key },
        modelGroup: 'smart',
      });
    });
  });
});

describe('workflow runner: failure policies', () => {
  test('fail: the run fails naming the node, running siblings and pending nodes are cancelled', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow({
        broken: { type: 'transform', fn: async () => Promise.reject(new Error('no such brand')) },
        sibling: { type: 'transform', fn: (_input, call) => untilAborted(call) },
        downstream: { type: 'transform', fn: () => 1, after: ['broken'] },
      });
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'failed');
      assert.ok(isCode('workflow.node_failed')(result.error));
      assert.equal(result.error?.details?.nodeId, 'broken');
      assert.match(result.error?.message ?? '', /no such brand/);
      const view = await runner.get(handle.runId);
      const status = Object.fromEntries(view.nodes.map((node) => [node.nodeId, node.status]));
      assert.deepEqual(status, { broken: 'failed', sibling: 'cancelled', downstream: 'cancelled' });
      assert.deepEqual(view.run.error, {
        code: 'workflow.node_failed',
        message: result.error?.message,
        nodeId: 'broken',
      });
    });
  });

  test('continue: dependents are skipped, the rest finishes, the run is partial with partial outputs', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          broken: {
            type: 'transform',
            fn: () => Promise.reject(new Error('bad')),
            onError: { action: 'continue' },
            writes: { result: '$output' },
          },
          needsBroken: { type: 'transform', fn: (input) => input, input: '$context.result' },
          fine: { type: 'transform', fn: () => 'ok', writes: { other: '$output' } },
        },
        { outputs: { fine: '$context.other', needs: '$nodes.needsBroken.output' } },
      );
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'partial');
      assert.deepEqual(result.outputs, { fine: 'ok' });
      const needs = (await runner.get(handle.runId)).nodes.find((node) => node.nodeId === 'needsBroken');
      assert.equal(needs?.status, 'skipped');
      assert.match(needs?.reason ?? '', /dependency broken failed/);
    });
  });

  test('retry with adjusted parameters: each attempt has its own idempotency key and its adjustment', async () => {
    const { engine, calls } = fakeEngine((_kind, payload, attempt) =>
      attempt < 3
        ? new ProviderError({ kind: 'server_error', message: 'boom', provider: 'openai' })
        : `answer to ${JSON.stringify((payload as { model: string }).model)}`,
    );
    await withRunner({ engine }, async (runner) => {
      const definition = flow(
        {
          ask: {
            type: 'model',
            modelGroup: 'fast',
            prompt: 'Hello',
            parameters: { temperature: 1 },
            onError: {
              action: 'retry',
              maxAttempts: 3,
              adjust: [
                { parameters: { temperature: 0.5 } },
                { modelGroup: 'smart', parameters: { temperature: 0 } },
              ],
            },
            writes: { result: '$output' },
          },
        },
        { outputs: { answer: '$context.result' } },
      );
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.outputs.answer, 'answer to "smart"');
      assert.deepEqual(
        calls.map((call) => [
          call.options.requestId,
          (call.payload as { model: string }).model,
          (call.payload as { temperature: number }).temperature,
        ]),
        [
          [`${handle.runId}:ask:1`, 'fast', 1],
          [`${handle.runId}:ask:2`, 'fast', 0.5],
          [`${handle.runId}:ask:3`, 'smart', 0],
        ],
      );
      const events: string[] = [];
      for await (const event of runner.events(handle.runId))
        if (event.nodeId === 'ask') events.push(event.type);
      assert.deepEqual(events, [
        'node-ready',
        'node-started',
        'node-retrying',
        'node-started',
        'node-retrying',
        'node-started',
        'node-succeeded',
      ]);
    });
  });

  test('retry that runs out of attempts fails the run', async () => {
    let calls = 0;
    await withRunner({}, async (runner) => {
      const definition = flow({
        flaky: {
          type: 'transform',
          fn: () => Promise.reject(new Error(`try ${(calls += 1)}`)),
          onError: { action: 'retry', maxAttempts: 2 },
        },
      });
      const result = await (await runner.start(definition, {})).result;
      assert.equal(result.status, 'failed');
      assert.equal(calls, 2);
      assert.match(result.error?.message ?? '', /try 2/);
    });
  });

  test('substitute: a standby node runs in the failed node’s place and its output is written as the node’s', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          primary: {
            type: 'transform',
            fn: () => Promise.reject(new Error('model down')),
            onError: { action: 'substitute', node: 'rules' },
            writes: { result: '$output' },
          },
          rules: {
            type: 'transform',
            standby: true,
            fn: (input) => `rule-based ${String(input)}`,
            input: '$context.topic',
          },
        },
        { outputs: { result: '$context.result' } },
      );
      const handle = await runner.start(definition, { topic: 'tea' });
      const result = await handle.result;
      assert.equal(result.status, 'succeeded');
      assert.equal(result.outputs.result, 'rule-based tea');
      const nodes = (await runner.get(handle.runId)).nodes;
      assert.equal(nodes.find((node) => node.nodeId === 'primary')?.status, 'succeeded');
      assert.equal(nodes.find((node) => node.nodeId === 'rules')?.status, 'succeeded');
    });
  });
});

describe('workflow runner: gates', () => {
  test('reject: the gate fails with its score and reasons, the run fails', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow({
        draft: { type: 'transform', fn: () => 'Buy now!!!' },
        brand: {
          type: 'gate',
          target: 'draft',
          check: (value) => ({
            pass: !String(value).includes('!!!'),
            score: 0.2,
            reasons: ['too many exclamation marks'],
          }),
        },
        publish: { type: 'transform', fn: (input) => input, input: '$nodes.draft.output' },
      });
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'failed');
      const cause = result.error?.cause;
      assert.ok(isCode('workflow.gate_rejected')(cause));
      assert.deepEqual((cause as PipewrightError).details?.reasons, ['too many exclamation marks']);
      const nodes = (await runner.get(handle.runId)).nodes;
      assert.equal(
        nodes.find((node) => node.nodeId === 'publish')?.status,
        'cancelled',
        'a node after the gated one never runs on a rejected output',
      );
    });
  });

  test('flag: the run goes on, the gate output and an event carry the flag', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          draft: { type: 'transform', fn: () => 'meh' },
          quality: {
            type: 'gate',
            target: 'draft',
            check: () => ({ pass: true, score: 0.4 }),
            threshold: 0.5,
            onFail: 'flag',
          },
        },
        { outputs: { verdict: '$nodes.quality.output' } },
      );
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'succeeded');
      assert.deepEqual(result.outputs.verdict, { pass: false, score: 0.4, reasons: [], flagged: true });
      const types: string[] = [];
      for await (const event of runner.events(handle.runId)) types.push(event.type);
      assert.ok(types.includes('gate-failed'));
    });
  });

  test('rerun: the target runs again with the reasons as feedback, and dependents see the new output', async () => {
    const feedbackSeen: string[][] = [];
    await withRunner({}, async (runner) => {
      const definition = flow(
        {
          draft: {
            type: 'transform',
            fn: (_input, call) => {
              feedbackSeen.push(call.feedback);
              return call.attempt === 1 ? 'BUY NOW' : 'A calm cup of tea';
            },
            writes: { result: '$output' },
          },
          tone: {
            type: 'gate',
            target: 'draft',
            check: (value) =>
              String(value) === String(value).toUpperCase()
                ? { pass: false, reasons: ['shouting'] }
                : { pass: true, score: 1 },
            onFail: 'rerun',
            maxReruns: 2,
          },
          publish: {
            type: 'transform',
            fn: (input) => `published: ${String(input)}`,
            input: '$context.result',
          },
        },
        { outputs: { published: '$nodes.publish.output' } },
      );
      const handle = await runner.start(definition, {});
      const result = await handle.result;
      assert.equal(result.status, 'succeeded');
      assert.equal(result.outputs.published, 'published: A calm cup of tea');
      assert.deepEqual(feedbackSeen, [[], ['shouting']]);
      const draft = (await runner.get(handle.runId)).nodes.find((node) => node.nodeId === 'draft');
      assert.equal(draft?.attempt, 2);
    });
  });
});

describe('workflow runner: context, input, cancellation, events, tenants', () => {
  test('a node reading a field outside its permissions fails loudly', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow({
        nosy: { type: 'transform', fn: async (_input, call) => call.context.get('topic'), reads: ['other'] },
      });
      const result = await (await runner.start(definition, {})).result;
      assert.equal(result.status, 'failed');
      assert.ok(isCode('workflow.permission_denied')(result.error?.cause), String(result.error?.message));
    });
  });

  test('a node reads the snapshot of its start version; the context is readable at every version', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow({
        first: { type: 'transform', fn: () => 'one', writes: { result: '$output' } },
        second: {
          type: 'transform',
          fn: async (_input, call) => `${String(await call.context.get('result'))}+two`,
          reads: ['result'],
          writes: { other: '$output' },
        },
      });
      const handle = await runner.start(definition, { topic: 'tea' });
      await handle.result;
      assert.deepEqual(await runner.context(handle.runId, { version: 0 }), { topic: 'tea' });
      assert.deepEqual(await runner.context(handle.runId, { version: 1 }), { topic: 'tea', result: 'one' });
      assert.deepEqual(await runner.context(handle.runId), { topic: 'tea', result: 'one', other: 'one+two' });
    });
  });

  test('bad input is refused before the run starts, naming the field', async () => {
    await withRunner({}, async (runner) => {
      const definition: WorkflowDefinition = {
        id: 'needs',
        version: 1,
        inputs: ['count'],
        context: { fields: { count: { schema: { type: 'integer', minimum: 1 } } } },
        nodes: { a: { type: 'transform', fn: () => 1 } },
      };
      await assert.rejects(
        runner.start(definition, {}),
        (error: unknown) =>
          isCode('workflow.input_invalid')(error) && (error as PipewrightError).param === 'count',
      );
      await assert.rejects(
        runner.start(definition, { count: 1, extra: true }),
        (error: unknown) =>
          isCode('workflow.input_invalid')(error) && (error as PipewrightError).param === 'extra',
      );
      await assert.rejects(
        runner.start(definition, { count: 0 }),
        (error: unknown) => isCode('workflow.input_invalid')(error) && /count/.test((error as Error).message),
      );
      await assert.rejects(runner.start('unknown-flow', {}), isCode('workflow.not_found'));
    });
  });

  test('cancel mid-run: running nodes are aborted, the rest cancelled, the run and its event stream end', async () => {
    const started = latch();
    await withRunner({}, async (runner) => {
      const definition = flow({
        long: {
          type: 'transform',
          fn: (_input, call) => {
            started.release();
            return untilAborted(call);
          },
        },
        after: { type: 'transform', fn: () => 1, after: ['long'] },
      });
      const handle = await runner.start(definition, {});
      const seen: string[] = [];
      const reading = (async () => {
        for await (const event of runner.events(handle.runId))
          seen.push(`${event.type}${event.nodeId === null ? '' : ` ${event.nodeId}`}`);
      })();
      await started.promise;
      await runner.cancel(handle.runId);
      const result = await handle.result;
      assert.equal(result.status, 'cancelled');
      assert.ok(isCode('workflow.cancelled')(result.error));
      await reading;
      assert.equal(seen.at(-1), 'run-finished');
      assert.ok(seen.includes('node-cancelled long'));
      assert.ok(seen.includes('node-cancelled after'));
      const view = await runner.get(handle.runId);
      assert.equal(view.run.status, 'cancelled');
      await runner.cancel(handle.runId); // cancelling a finished run is a no-op
    });
  });

  test('cancel does not wait for a node that ignores its abort signal', async () => {
    const started = latch();
    await withRunner({}, async (runner) => {
      const definition = flow({
        stubborn: {
          type: 'transform',
          fn: () => {
            started.release();
            return new Promise(() => undefined); // never settles, never looks at the signal
          },
        },
      });
      const handle = await runner.start(definition, {});
      await started.promise;
      await runner.cancel(handle.runId);
      assert.equal((await handle.result).status, 'cancelled');
      assert.equal((await runner.get(handle.runId)).nodes[0]?.status, 'cancelled');
    });
  });

  test('events arrive in order, each once, and a reader can continue after a seq', async () => {
    await withRunner({}, async (runner) => {
      const definition = flow({
        a: { type: 'transform', fn: () => 1 },
        b: { type: 'transform', fn: () => 2 },
        c: { type: 'transform', fn: () => 3, after: ['a', 'b'] },
      });
      const handle = await runner.start(definition, {});
      const seqs: number[] = [];
      for await (const event of runner.events(handle.runId)) seqs.push(event.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, index) => index + 1),
      );
      const rest: number[] = [];
      for await (const event of runner.events(handle.runId, { afterSeq: 5 })) rest.push(event.seq);
      assert.deepEqual(rest, seqs.slice(5));
    });
  });

  test('runs are tenant-scoped: another tenant cannot read, follow, cancel or resume them', async () => {
    await withRunner({}, async (runner) => {
      const handle = await runner.start(
        flow({ a: { type: 'transform', fn: () => 1 } }),
        {},
        { tenantId: 'acme' },
      );
      await handle.result;
      assert.equal((await runner.get(handle.runId, { tenantId: 'acme' })).run.tenantId, 'acme');
      await assert.rejects(
        runner.get(handle.runId, { tenantId: 'globex' }),
        isCode('workflow.run_not_found'),
      );
      await assert.rejects(
        runner.cancel(handle.runId, { tenantId: 'globex' }),
        isCode('workflow.run_not_found'),
      );
      await assert.rejects(
        runner.resume(handle.runId, { tenantId: 'globex' }),
        isCode('workflow.run_not_found'),
      );
      await assert.rejects(async () => {
        for await (const _event of runner.events(handle.runId, { tenantId: 'globex' }))
          assert.fail('no event of another tenant');
      }, isCode('workflow.run_not_found'));
    });
  });
});

describe('workflow runner: durability', () => {
  const yaml = `
id: durable
version: 1
inputs: [topic]
outputs: { summary: $context.summary }
context:
  fields:
    topic: { schema: { type: string } }
    research: { schema: { type: string } }
    summary: { schema: { type: string } }
nodes:
  research: { type: model, stepType: research, input: $context.topic, writes: { research: $output } }
  outline: { type: transform, fn: outline, input: $context.research }
  summarize: { type: transform, fn: summarize, input: { outline: $nodes.outline.output, research: $context.research }, writes: { summary: $output } }
`;

  test('a stopped run resumes on a new runner and store without re-running succeeded nodes', async () => {
    const path = join(directory, 'resume.db');
    const calls: string[] = [];
    const keys: string[] = [];
    const { engine } = fakeEngine((_kind, payload) => {
      calls.push('research');
      return `notes on ${String(payload)}`;
    });
    const recordingEngine: WorkflowEngine = {
      run: (stepType, input, context, options) => {
        keys.push(String(options?.requestId));
        return engine.run(stepType, input, context, options);
      },
      chat: engine.chat,
    };
    const outlineStarted = latch();
    const firstFunctions: WorkflowFunctions = {
      transforms: {
        outline: (_input, call) => {
          calls.push('outline (interrupted)');
          keys.push(call.idempotencyKey);
          outlineStarted.release();
          return untilAborted(call);
        },
        summarize: () => 'never',
      },
    };

    const firstStore = await createSqliteStore({ path });
    const first = createWorkflowRunner({
      engine: recordingEngine,
      store: firstStore.workflows,
      functions: firstFunctions,
    });
    const handle = await first.start(loadWorkflow(yaml, firstFunctions), { topic: 'tea' });
    await outlineStarted.promise;
    await first.close(); // like a crash: outline stays "running" in the store
    await firstStore.close();
    assert.equal((await handle.result).status, 'interrupted');

    const secondFunctions: WorkflowFunctions = {
      transforms: {
        outline: (input, call) => {
          calls.push('outline');
          keys.push(call.idempotencyKey);
          return `outline of ${String(input)}`;
        },
        summarize: (input) => {
          calls.push('summarize');
          const { outline, research } = input as { outline: string; research: string };
          return `${outline} / ${research}`;
        },
      },
    };
    const secondStore = await createSqliteStore({ path });
    const second = createWorkflowRunner({
      engine: recordingEngine,
      store: secondStore.workflows,
      functions: secondFunctions,
    });
    try {
      const before = await second.get(handle.runId);
      assert.equal(before.nodes.find((node) => node.nodeId === 'research')?.status, 'succeeded');
      assert.equal(before.nodes.find((node) => node.nodeId === 'outline')?.status, 'running');

      const resumed = await second.resume(handle.runId);
      const result = await resumed.result;
      assert.equal(result.status, 'succeeded');
      assert.equal(result.outputs.summary, 'outline of notes on tea / notes on tea');
      assert.deepEqual(
        calls,
        ['research', 'outline (interrupted)', 'outline', 'summarize'],
        'research (succeeded) did not run again',
      );
      // The interrupted attempt is re-issued under the same idempotency key.
      assert.deepEqual(keys, [
        `${handle.runId}:research:1`,
        `${handle.runId}:outline:1`,
        `${handle.runId}:outline:1`,
      ]);
      const types: string[] = [];
      for await (const event of second.events(handle.runId)) types.push(event.type);
      assert.ok(types.includes('run-resumed'));
      await assert.rejects(
        second.resume(handle.runId),
        isCode('workflow.run_conflict'),
        'a finished run cannot be resumed',
      );
    } finally {
      await second.close();
      await secondStore.close();
    }
  });

  test('a store failure ends the run without crashing; resume finishes it as the failure policy said', async () => {
    const path = join(directory, 'store-fault.db');
    const store = await createSqliteStore({ path });
    // The store fails the commit that would record the end of the run (as if the process died there).
    const faulty = {
      ...store.workflows,
      commit: async (
        tenantId: string,
        runId: string,
        change: Parameters<typeof store.workflows.commit>[2],
      ) => {
        if (change.events?.some((event) => event.type === 'run-finished') === true)
          throw new PipewrightError({ code: 'store.failure', message: 'disk full' });
        return store.workflows.commit(tenantId, runId, change);
      },
    };
    const functions: WorkflowFunctions = {
      transforms: { boom: () => Promise.reject(new Error('no luck')), later: () => 1 },
    };
    const definition = loadWorkflow(
      `
id: faulty
version: 1
context: { fields: {} }
nodes:
  boom: { type: transform, fn: boom }
  later: { type: transform, fn: later, after: [boom] }
`,
      functions,
    );
    const first = createWorkflowRunner({ store: faulty, functions });
    const handle = await first.start(definition, {});
    const result = await handle.result;
    assert.equal(result.status, 'failed');
    assert.ok(isCode('store.failure')(result.error));
    await first.close();
    assert.equal(
      (await store.workflows.getRun('default', handle.runId))?.status,
      'running',
      'the end was never stored',
    );

    const second = createWorkflowRunner({ store: store.workflows, functions });
    try {
      const resumed = await (await second.resume(handle.runId)).result;
      assert.equal(resumed.status, 'failed');
      assert.equal(resumed.error?.details?.nodeId, 'boom', String(resumed.error?.message));
      const nodes = Object.fromEntries(
        (await second.get(handle.runId)).nodes.map((node) => [node.nodeId, node.status]),
      );
      assert.deepEqual(nodes, { boom: 'failed', later: 'cancelled' });
    } finally {
      await second.close();
      await store.close();
    }
  });

  test('resumeInterrupted picks up every interrupted run of the tenant and reports the ones it cannot', async () => {
    const path = join(directory, 'startup.db');
    const hanging = latch();
    let started = 0;
    const hangFunctions: WorkflowFunctions = {
      transforms: {
        step: (_input, call) => {
          started += 1;
          if (started === 3) hanging.release();
          return untilAborted(call);
        },
      },
    };
    const make = (id: string) =>
      loadWorkflow(
        `id: ${id}\nversion: 1\ncontext: { fields: {} }\nnodes:\n  step: { type: transform, fn: step }\n`,
        hangFunctions,
      );
    const store = await createSqliteStore({ path });
    const first = createWorkflowRunner({ store: store.workflows, functions: hangFunctions });
    const one = await first.start(make('one'), {}, { tenantId: 'acme' });
    const two = await first.start(make('two'), {}, { tenantId: 'acme' });
    const other = await first.start(make('three'), {}, { tenantId: 'globex' });
    await hanging.promise;
    await first.close();

    // Workflow "two" is no longer known with the same definition: it cannot resume.
    const changedTwo = loadWorkflow(
      'id: two\nversion: 1\ncontext: { fields: {} }\nnodes:\n  step: { type: transform, fn: step, priority: 1 }\n',
      hangFunctions,
    );
    const finishFunctions: WorkflowFunctions = { transforms: { step: () => 'finished' } };
    const second = createWorkflowRunner({
      store: store.workflows,
      functions: finishFunctions,
      workflows: [changedTwo],
    });
    try {
      const { resumed, failed } = await second.resumeInterrupted({ tenantId: 'acme' });
      assert.deepEqual(
        resumed.map((handle) => handle.runId),
        [one.runId],
      );
      assert.equal((await resumed[0]?.result)?.status, 'succeeded');
      assert.deepEqual(
        failed.map((entry) => [entry.runId, entry.error.code]),
        [[two.runId, 'workflow.definition_changed']],
      );
      assert.equal(
        (await second.get(other.runId, { tenantId: 'globex' })).run.status,
        'running',
        'another tenant’s run is left alone',
      );
    } finally {
      await second.close();
      await store.close();
    }
  });

  test('large outputs and context values are stored by reference and read back after a resume', async () => {
    const path = join(directory, 'blobs.db');
    const big = 'tea '.repeat(500);
    const waiting = latch();
    const firstFunctions: WorkflowFunctions = {
      transforms: {
        make: () => big,
        hold: (_input, call) => (waiting.release(), untilAborted(call)),
        check: () => 'unused',
      },
    };
    const yamlText = `
id: blobs
version: 1
outputs: { fromNode: $nodes.check.output.fromNode, fromContext: $nodes.check.output.fromContext }
context:
  fields: { text: { schema: { type: string } } }
  blobThresholdBytes: 256
nodes:
  make: { type: transform, fn: make, writes: { text: $output } }
  hold: { type: transform, fn: hold, after: [make] }
  check: { type: transform, fn: check, after: [hold], input: { fromNode: $nodes.make.output, fromContext: $context.text } }
`;
    const store = await createSqliteStore({ path });
    const first = createWorkflowRunner({ store: store.workflows, functions: firstFunctions });
    const handle = await first.start(loadWorkflow(yamlText, firstFunctions), {});
    await waiting.promise;
    await first.close();
    const make = (await store.workflows.listNodes('default', handle.runId)).find(
      (node) => node.nodeId === 'make',
    );
    assert.equal(make?.outputJson, null);
    assert.match(make?.outputBlobHash ?? '', /^[0-9a-f]{64}$/);
    const written = (await store.workflows.listContext('default', handle.runId)).find(
      (write) => write.field === 'text',
    );
    assert.equal(written?.blobHash, make?.outputBlobHash, 'one blob, addressed by content, serves both');
    assert.equal(await store.workflows.getBlob('default', make?.outputBlobHash ?? ''), JSON.stringify(big));

    const secondFunctions: WorkflowFunctions = {
      transforms: {
        make: () => assert.fail('make already succeeded'),
        hold: () => 'held',
        check: (input) => input,
      },
    };
    const second = createWorkflowRunner({ store: store.workflows, functions: secondFunctions });
    try {
      const result = await (await second.resume(handle.runId)).result;
      assert.equal(result.status, 'succeeded');
      assert.equal(result.outputs.fromNode, big);
      assert.equal(result.outputs.fromContext, big);
    } finally {
      await second.close();
      await store.close();
    }
  });

  test('resume refuses a changed definition and an unknown run', async () => {
    const path = join(directory, 'changed.db');
    const stop = latch();
    const functions: WorkflowFunctions = {
      transforms: { outline: (_input, call) => (stop.release(), untilAborted(call)), summarize: () => 's' },
    };
    const { engine } = fakeEngine(() => 'notes');
    const store = await createSqliteStore({ path });
    const first = createWorkflowRunner({ engine, store: store.workflows, functions });
    const handle = await first.start(loadWorkflow(yaml, functions), { topic: 'tea' });
    await stop.promise;
    await first.close();
    const changed = loadWorkflow(
      yaml.replace('fn: outline, input', 'fn: outline, priority: 3, input'),
      functions,
    );
    const second = createWorkflowRunner({ engine, store: store.workflows, functions, workflows: [changed] });
    try {
      await assert.rejects(second.resume(handle.runId), isCode('workflow.definition_changed'));
      await assert.rejects(second.resume('run_missing'), isCode('workflow.run_not_found'));
      // An interrupted run can be cancelled from any runner.
      await second.cancel(handle.runId);
      assert.equal((await second.get(handle.runId)).run.status, 'cancelled');
    } finally {
      await second.close();
      await store.close();
    }
  });
});

describe('workflow runner: a paid model call is not paid twice', () => {
  /** The store as a process that dies at the commit `dies` picks: that commit and every later one fail. */
  function dyingStore(inner: WorkflowStore, dies: (change: WorkflowCommit) => boolean): WorkflowStore {
    let dead = false;
    return {
      ...inner,
      commit: async (tenantId, runId, change) => {
        if (dead || dies(change)) {
          dead = true;
          throw new PipewrightError({ code: 'store.failure', message: 'the process died' });
        }
        return inner.commit(tenantId, runId, change);
      },
    };
  }

  test('a call that completed before the crash is replayed on resume from its stored result, not re-sent', async () => {
    const path = join(directory, 'paid-once.db');
    const { engine, calls } = fakeEngine(() => ({ headline: 'Tea, slowly' }));
    const definition = flow(
      {
        draft: {
          type: 'model',
          stepType: 'tagline',
          input: { subject: '$context.topic' },
          writes: { result: '$output.headline' },
        },
      },
      { outputs: { headline: '$context.result' } },
    );
    const store = await createSqliteStore({ path });
    // The engine answers (and is paid), then the process dies before the node's success is stored.
    const dying = dyingStore(
      store.workflows,
      (change) =>
        change.nodes?.some((node) => node.nodeId === 'draft' && node.status === 'succeeded') === true,
    );
    const first = createWorkflowRunner({ engine, store: dying });
    const handle = await first.start(definition, { topic: 'tea' }, { tenantId: 'acme' });
    assert.equal((await handle.result).status, 'failed');
    await first.close();
    assert.equal(calls.length, 1);
    assert.equal(
      (await store.workflows.listNodes('acme', handle.runId)).find((node) => node.nodeId === 'draft')?.status,
      'running',
      'the success was never stored',
    );
    const key = `${handle.runId}:draft:1`;
    assert.deepEqual(JSON.parse((await store.workflows.getModelCall('acme', key))?.outputJson ?? 'null'), {
      headline: 'Tea, slowly',
    });

    const second = createWorkflowRunner({ engine, store: store.workflows });
    try {
      const result = await (await second.resume(handle.runId, { tenantId: 'acme' })).result;
      assert.equal(result.status, 'succeeded', String(result.error?.message));
      assert.equal(result.outputs.headline, 'Tea, slowly');
      assert.equal(calls.length, 1, 'the engine was called once in total');
      assert.equal(result.costUsd, 0.01, 'the one payment is counted once');
      const draft = (await second.get(handle.runId, { tenantId: 'acme' })).nodes.find(
        (node) => node.nodeId === 'draft',
      );
      assert.deepEqual(
        [draft?.status, draft?.attempt, JSON.parse(draft?.outputJson ?? 'null')],
        ['succeeded', 1, { headline: 'Tea, slowly' }],
      );
      const succeeded: WorkflowEventRecord[] = [];
      for await (const event of second.events(handle.runId, { tenantId: 'acme' }))
        if (event.type === 'node-succeeded') succeeded.push(event);
      assert.deepEqual(
        succeeded.map((event) => [event.nodeId, event.data.replayed, event.data.costUsd]),
        [['draft', true, 0.01]],
      );
      assert.equal(
        await store.workflows.getModelCall('acme', key),
        undefined,
        'a finished run lets its stored calls go',
      );
    } finally {
      await second.close();
      await store.close();
    }
  });

  test('map items: a chat answer stored before the crash is replayed (and parsed) on resume; the others are called once', async () => {
    const path = join(directory, 'paid-once-map.db');
    const { engine, calls } = fakeEngine((_kind, request) => {
      const content = String((request as { messages: Array<{ content: string }> }).messages.at(-1)?.content);
      return JSON.stringify({ line: `about ${content}` });
    });
    const definition = flow(
      {
        lines: {
          type: 'map',
          over: '$context.items',
          concurrency: 1,
          node: { type: 'model', modelGroup: 'fast', prompt: '{{input}}', responseFormat: 'json' },
        },
      },
      {
        inputs: ['items'],
        context: { fields: { items: { schema: { type: 'array', items: { type: 'string' } } } } },
        outputs: { lines: '$nodes.lines.output' },
      },
    );
    const store = await createSqliteStore({ path });
    // Dies as the first item's progress is committed: that answer is paid but not in the node's progress.
    const first = createWorkflowRunner({
      engine,
      store: dyingStore(
        store.workflows,
        (change) => change.events?.some((event) => event.type === 'map-item-succeeded') === true,
      ),
    });
    const handle = await first.start(definition, { items: ['green', 'black'] });
    assert.equal((await handle.result).status, 'failed');
    await first.close();
    assert.equal(calls.length, 1);

    const second = createWorkflowRunner({ engine, store: store.workflows });
    try {
      const result = await (await second.resume(handle.runId)).result;
      assert.equal(result.status, 'succeeded', String(result.error?.message));
      assert.deepEqual(result.outputs.lines, [{ line: 'about green' }, { line: 'about black' }]);
      assert.deepEqual(
        calls.map((call) => (call.options.requestId as string).slice(handle.runId.length)),
        [':lines:1:0', ':lines:1:1'],
        'item 0 was called once (before the crash), item 1 once (after)',
      );
      const items: Array<[unknown, unknown]> = [];
      for await (const event of second.events(handle.runId))
        if (event.type === 'map-item-succeeded') items.push([event.data.index, event.data.replayed]);
      assert.deepEqual(items, [
        [0, true],
        [1, undefined],
      ]);
      assert.equal(result.costUsd, 0.004, 'two calls paid, two counted');
    } finally {
      await second.close();
      await store.close();
    }
  });
});
