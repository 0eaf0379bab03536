import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSystemClock, toTenantId } from '../core/index.ts';
import { noCacheDirectives } from '../cache/index.ts';
import { emptyUsage, type CallOperation } from '../spec/index.ts';
import { createCallContext } from './call-context.ts';
import type { CallMeta } from './engine-types.ts';
import { composeModel, onlyChat, type Model, type ModelCall, type ModelLayer } from './model.ts';

const group = { name: 'main', deployments: [], strategy: 'ordered' as const, fallbacks: [] };

function callOf<Operation extends CallOperation>(
  operation: Operation,
  request: unknown,
): ModelCall<Operation> {
  const context = createCallContext(
    { tenantId: toTenantId('acme'), group, cacheControl: noCacheDirectives },
    createSystemClock(),
  );
  return { operation, request, context } as ModelCall<Operation>;
}

function metaFor(call: ModelCall, deployment: string): CallMeta {
  return {
    tenantId: call.context.tenantId,
    requestId: call.context.requestId,
    traceId: call.context.traceId,
    modelGroup: 'main',
    provider: 'sim',
    model: 'm',
    deployment,
    simulated: true,
    usage: { ...emptyUsage },
    costUsd: 0,
    latencyMs: 0,
    upstreamMs: 0,
    timeToFirstTokenMs: null,
    cacheStatus: call.context.cacheStatus,
    savedCostUsd: null,
    savedLatencyMs: null,
    attempts: [],
  };
}

const inner: Model = {
  generate: async (call) => ({ response: {} as never, meta: metaFor(call, 'inner') }),
  stream: async (call) => {
    const meta = metaFor(call, 'inner');
    return { meta, chunks: (async function* () {})(), end: Promise.resolve({ meta, error: null }) };
  },
};

/** A layer that notes when it sees a call going down and its answer coming up. */
function tracing(name: string, seen: string[]): ModelLayer {
  return {
    name,
    async generate(call, next) {
      seen.push(`${name}↓`);
      const answer = await next(call);
      seen.push(`${name}↑`);
      return answer;
    },
  };
}

test('layers wrap the model in the order listed, the first outermost, each once per call', async () => {
  const seen: string[] = [];
  const model = composeModel(inner, [tracing('a', seen), tracing('b', seen), tracing('c', seen)]);
  await model.generate(callOf('chat', {}));
  assert.deepEqual(seen, ['a↓', 'b↓', 'c↓', 'c↑', 'b↑', 'a↑']);
});

test('a new layer is one more list entry: it can change the call for the layers below, and answer on its own', async () => {
  const seen: string[] = [];
  const stamping: ModelLayer = {
    name: 'stamp',
    generate: (call, next) => next({ ...call, context: { ...call.context, cacheStatus: 'miss' } }),
  };
  const answering: ModelLayer = {
    name: 'answer-embeddings',
    generate: async (call, next) =>
      call.operation === 'embeddings' ? { response: {} as never, meta: metaFor(call, 'layer') } : next(call),
  };
  const model = composeModel(inner, [tracing('outer', seen), stamping, answering]);
  const chat = await model.generate(callOf('chat', {}));
  assert.equal(chat.meta.deployment, 'inner');
  assert.equal(chat.meta.cacheStatus, 'miss', 'the inner model saw what the layer above it handed down');
  const embeddings = await model.generate(callOf('embeddings', {}));
  assert.equal(embeddings.meta.deployment, 'layer', 'the layer answered; the model was not called');
  assert.deepEqual(seen, ['outer↓', 'outer↑', 'outer↓', 'outer↑']);
});

test('a layer without a stream hook passes streams through; onlyChat leaves other operations alone', async () => {
  let chatCalls = 0;
  const chatOnly: ModelLayer = {
    name: 'chat-only',
    generate: onlyChat(async (call, next) => {
      chatCalls += 1;
      return next(call);
    }),
  };
  const model = composeModel(inner, [chatOnly]);
  await model.generate(callOf('images', {}));
  assert.equal(chatCalls, 0);
  await model.generate(callOf('chat', {}));
  assert.equal(chatCalls, 1);
  const stream = await model.stream(callOf('chat', {}));
  assert.equal(stream.meta.deployment, 'inner');
});

test('a layer listed twice is refused when the model is composed', () => {
  assert.throws(() => composeModel(inner, [tracing('x', []), tracing('x', [])]), /listed twice/);
});
