import { createId, createTraceId, toPipewrightError } from '../core/index.ts';
import { emptyUsage, type TokenUsage } from '../spec/index.ts';
import type { CallPipeline } from './call-pipeline.ts';
import type { EngineCallOptions, StepResult } from './engine-types.ts';
import type { StepContext } from './step-type.ts';

/** What a wrapped function can report about the model call it made. */
export interface ExternalCallReport {
  model?: string;
  usage?: Partial<TokenUsage>;
}

export interface AdaptFunctionOptions<Input, Output> {
  /** The step type name the function will be known by (and later re-implemented as). */
  stepType: string;
  /** The model group it conceptually belongs to, for telemetry and the later migration. */
  modelGroup: string;
  /** The existing code: calls a model however it does today. */
  call: (input: Input, context: StepContext) => Promise<Output>;
  /** Optionally extracts the model and token usage from the output, for cost telemetry. */
  describe?: (output: Output) => ExternalCallReport;
}

/**
 * Runs a function that calls a model outside the engine, recording its tenant, latency, outcome
 * and (when `describe` tells) model and tokens, so existing components move onto Pipewright one
 * at a time: first wrapped (observed), then re-registered as a real step type (engine-called)
 * with no change at the call sites, which go through `engine.run(stepType, …)` throughout.
 */
export async function runAdaptedFunction<Input, Output>(
  pipeline: CallPipeline,
  adapted: AdaptFunctionOptions<Input, Output>,
  input: Input,
  context: StepContext,
  options: EngineCallOptions & { tenantId: string },
): Promise<StepResult<Output>> {
  const requestId = options.requestId ?? createId('req');
  const traceId = options.traceId ?? createTraceId();
  const startedAt = Date.now();
  const started = performance.now();
  try {
    const output = await adapted.call(input, context);
    const report = adapted.describe?.(output) ?? {};
    const usage: TokenUsage = { ...emptyUsage, ...report.usage };
    const latencyMs = performance.now() - started;
    pipeline.recordExternal({
      tenantId: options.tenantId,
      requestId,
      traceId,
      stepType: adapted.stepType,
      modelGroup: adapted.modelGroup,
      model: report.model ?? null,
      usage,
      latencyMs,
      startedAt,
      error: null,
    });
    return {
      output,
      stepType: adapted.stepType,
      usage,
      costUsd: null,
      latencyMs,
      model: report.model ?? null,
      deployment: null,
      provider: 'external',
      cacheStatus: 'bypass',
      confidence: 1,
      source: 'function',
      tenantId: options.tenantId,
      requestId,
      traceId,
      simulated: false,
      calls: [],
    };
  } catch (caught) {
    const error = toPipewrightError(caught);
    pipeline.recordExternal({
      tenantId: options.tenantId,
      requestId,
      traceId,
      stepType: adapted.stepType,
      modelGroup: adapted.modelGroup,
      model: null,
      usage: { ...emptyUsage },
      latencyMs: performance.now() - started,
      startedAt,
      error,
    });
    throw caught;
  }
}
