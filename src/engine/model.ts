import type { PipewrightError } from '../core/index.ts';
import type {
  CallOperation,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ImagesRequest,
  ImagesResponse,
} from '../spec/index.ts';
import type { CallContext } from './call-context.ts';
import type { CallMeta } from './engine-types.ts';

/** The request of each operation. */
export interface OperationRequests {
  chat: ChatRequest;
  embeddings: EmbeddingsRequest;
  images: ImagesRequest;
}

/** The response of each operation. */
export interface OperationResponses {
  chat: ChatResponse;
  embeddings: EmbeddingsResponse;
  images: ImagesResponse;
}

/** One call as it travels down the layers: the validated request and its context. */
export interface ModelCall<Operation extends CallOperation = CallOperation> {
  readonly operation: Operation;
  readonly request: OperationRequests[Operation];
  readonly context: CallContext;
}

/** A whole answer: the response and what the engine knows about the call. */
export interface ModelAnswer<Operation extends CallOperation = CallOperation> {
  response: OperationResponses[Operation];
  meta: CallMeta;
}

/** How a stream ended: its final meta, and the error when it did not end complete. */
export interface StreamEnd {
  meta: CallMeta;
  error: PipewrightError | null;
}

/**
 * A started stream: `meta` is known before the first chunk (the deployment chosen, ids); `end`
 * resolves once, however the stream ends (complete, failed, or cancelled through the call's
 * signal). Chunks always carry usage; what the caller sees is decided at the engine's edge.
 */
export interface ModelStream {
  meta: CallMeta;
  chunks: AsyncIterable<ChatChunk>;
  end: Promise<StreamEnd>;
}

/** Answers a whole call of any operation. */
export type Generate = <Operation extends CallOperation>(
  call: ModelCall<Operation>,
) => Promise<ModelAnswer<Operation>>;

/** Answers a chat call as a stream. */
export type Stream = (call: ModelCall<'chat'>) => Promise<ModelStream>;

/**
 * The engine-level model contract (in the spirit of the Vercel AI SDK's `doGenerate`/`doStream`):
 * something that answers a call, whole or streamed. The attempt loop over deployments is the
 * innermost model; every capability around it is a layer.
 */
export interface Model {
  generate: Generate;
  stream: Stream;
}

/**
 * One capability wrapped around the model (cache, admission, telemetry, and later routing,
 * budgets, gates, tracing). A layer sees the call on its way down and the answer on its way up,
 * and calls `next` at most once per call (or answers itself, as a cache hit does). A hook it does
 * not define passes the call through untouched.
 *
 * Cancellation has one mechanism: `call.context.signal` aborts when the caller aborts or the
 * consumer of a stream goes away, and every layer that holds something for a call (a slot, a
 * reservation, an upstream socket) releases it on that signal or when its answer ends.
 */
export interface ModelLayer {
  /** Shown in errors and docs; unique in the list. */
  readonly name: string;
  generate?<Operation extends CallOperation>(
    call: ModelCall<Operation>,
    next: Generate,
  ): Promise<ModelAnswer<Operation>>;
  stream?(call: ModelCall<'chat'>, next: Stream): Promise<ModelStream>;
}

/**
 * Wraps `inner` in `layers`, the first the outermost. Composed once when the engine is built:
 * a call pays one function call per layer, nothing else.
 *
 * @example
 * const model = composeModel(attemptModel, [telemetryLayer, cacheLayer, admissionLayer]);
 */
export function composeModel(inner: Model, layers: readonly ModelLayer[]): Model {
  const names = new Set<string>();
  for (const layer of layers) {
    if (names.has(layer.name)) throw new Error(`model layer "${layer.name}" is listed twice`);
    names.add(layer.name);
  }
  return layers.reduceRight<Model>((next, layer) => {
    const wrapGenerate = layer.generate?.bind(layer);
    const wrapStream = layer.stream?.bind(layer);
    return {
      generate: wrapGenerate === undefined ? next.generate : (call) => wrapGenerate(call, next.generate),
      stream: wrapStream === undefined ? next.stream : (call) => wrapStream(call, next.stream),
    };
  }, inner);
}

/**
 * For a layer that only acts on chat calls: other operations go straight to `next`.
 *
 * @example
 * const layer: ModelLayer = { name: 'cache', generate: onlyChat(async (call, next) => ...) };
 */
export function onlyChat(
  handler: (call: ModelCall<'chat'>, next: Generate) => Promise<ModelAnswer<'chat'>>,
): NonNullable<ModelLayer['generate']> {
  return <Operation extends CallOperation>(call: ModelCall<Operation>, next: Generate) =>
    isChatCall(call)
      ? (handler(call, next) as Promise<ModelAnswer<CallOperation>> as Promise<ModelAnswer<Operation>>)
      : next(call);
}

function isChatCall(call: ModelCall): call is ModelCall<'chat'> {
  return call.operation === 'chat';
}
