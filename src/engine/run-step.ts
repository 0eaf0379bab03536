import { createId, createTraceId, PipewrightError, toPipewrightError } from '../core/index.ts';
import { emptyUsage, type ChatMessage, type ChatRequest, type TokenUsage } from '../spec/index.ts';
import type { CallPipeline } from './call-pipeline.ts';
import type { CallMeta, EngineCallOptions, StepResult } from './engine-types.ts';
import type { OutputCheck } from '../spec/index.ts';
import type { RegisteredStepType, StepContext } from './step-type.ts';

export interface RunStepOptions extends EngineCallOptions {
  /** Call this model group instead of the step type's default. */
  modelGroup?: string;
}

/** Confidence of each way an output can be produced; see docs/step-types.md. */
export const stepConfidence = {
  firstAnswer: 1,
  truncatedAnswer: 0.5,
  repairedAnswer: 0.7,
  ruleFallback: 0.3,
} as const;

const repairInstruction =
  'Your previous answer could not be used: {problems}. Reply again with only a JSON value that satisfies the required schema, with no prose and no code fences.';

/**
 * Runs one step: builds the messages, calls the model group, parses and validates the answer
 * (with one repair attempt on invalid output), and falls back to the step's rule when every model
 * route failed or the answer stayed invalid.
 */
export async function runStep<Input, Output>(
  pipeline: CallPipeline,
  step: RegisteredStepType<Input, Output>,
  input: Input,
  context: StepContext,
  options: RunStepOptions & { tenantId: string },
): Promise<StepResult<Output>> {
  const ids: StepIds = {
    tenantId: options.tenantId,
    requestId: options.requestId ?? createId('req'),
    traceId: options.traceId ?? createTraceId(),
  };
  const callOptions: EngineCallOptions = { ...options, ...ids, stepType: step.name };
  // A semantic-cache answer is only as trustworthy as the match (lower still when served degraded).
  const result = (
    output: Output,
    source: StepResult<Output>['source'],
    confidence: number,
    calls: CallMeta[],
    started: number,
  ) =>
    buildResult(
      step.name,
      ids,
      output,
      source,
      Math.min(confidence, calls.at(-1)?.semantic?.confidence ?? 1),
      calls,
      started,
    );
  const calls: CallMeta[] = [];
  const started = performance.now();
  const messages = step.buildMessages(input, context);
  const request: ChatRequest = {
    ...step.parameters,
    model: options.modelGroup ?? step.modelGroup,
    messages,
  };
  if (step.output !== undefined) {
    request.response_format = {
      type: 'json_schema',
      json_schema: { name: toSchemaName(step.name), schema: step.output.jsonSchema, strict: false },
    };
  }

  try {
    const first = await pipeline.chat(request, callOptions);
    calls.push(first.meta);
    const choice = first.response.choices[0];
    const content = choice?.message.content ?? '';
    const truncated = choice?.finish_reason === 'length';
    if (step.output === undefined) {
      return result(
        content as Output,
        'model',
        truncated ? stepConfidence.truncatedAnswer : stepConfidence.firstAnswer,
        calls,
        started,
      );
    }
    const firstCheck = checkAnswer(step.output.check.bind(step.output), content);
    if (firstCheck.ok) {
      return result(
        firstCheck.value,
        'model',
        truncated ? stepConfidence.truncatedAnswer : stepConfidence.firstAnswer,
        calls,
        started,
      );
    }
    const repairMessages: ChatMessage[] = [
      ...messages,
      { role: 'assistant', content },
      {
        role: 'user',
        content: repairInstruction.replace('{problems}', firstCheck.problems.slice(0, 5).join('; ')),
      },
    ];
    const second = await pipeline.chat({ ...request, messages: repairMessages }, callOptions);
    calls.push(second.meta);
    const repairedContent = second.response.choices[0]?.message.content ?? '';
    const secondCheck = checkAnswer(step.output.check.bind(step.output), repairedContent);
    if (secondCheck.ok)
      return result(secondCheck.value, 'model-repaired', stepConfidence.repairedAnswer, calls, started);
    throw new PipewrightError({
      code: 'step.output_invalid',
      message: `step ${step.name}: the model's answer did not match the output schema after one repair attempt: ${secondCheck.problems.slice(0, 3).join('; ')}`,
      details: {
        problems: secondCheck.problems,
        answer: repairedContent.slice(0, 2000),
        stepType: step.name,
      },
    });
  } catch (caught) {
    const error = toPipewrightError(caught);
    if (step.fallback === undefined || error.code === 'request.invalid' || options.signal?.aborted === true)
      throw error;
    const output = await step.fallback(input, context, error);
    return result(output, 'rule-fallback', stepConfidence.ruleFallback, calls, started);
  }
}

interface StepIds {
  tenantId: string;
  requestId: string;
  traceId: string;
}

function buildResult<Output>(
  stepType: string,
  ids: StepIds,
  output: Output,
  source: StepResult<Output>['source'],
  confidence: number,
  calls: CallMeta[],
  started: number,
): StepResult<Output> {
  const last = calls.at(-1);
  const usage = calls.reduce<TokenUsage>(
    (sum, call) => ({
      inputTokens: sum.inputTokens + call.usage.inputTokens,
      outputTokens: sum.outputTokens + call.usage.outputTokens,
      cachedInputTokens: sum.cachedInputTokens + call.usage.cachedInputTokens,
      cacheWriteTokens: sum.cacheWriteTokens + call.usage.cacheWriteTokens,
      reasoningTokens: sum.reasoningTokens + call.usage.reasoningTokens,
    }),
    { ...emptyUsage },
  );
  const costs = calls.map((call) => call.costUsd);
  return {
    output,
    stepType,
    usage,
    costUsd:
      costs.length === 0
        ? 0
        : costs.some((cost) => cost === null)
          ? null
          : costs.reduce<number>((sum, cost) => sum + (cost ?? 0), 0),
    latencyMs: performance.now() - started,
    model: source === 'rule-fallback' ? null : (last?.model ?? null),
    deployment: source === 'rule-fallback' ? null : (last?.deployment ?? null),
    provider: source === 'rule-fallback' ? null : (last?.provider ?? null),
    cacheStatus: last?.cacheStatus ?? 'bypass',
    confidence,
    source,
    ...ids,
    simulated: calls.some((call) => call.simulated),
    calls,
  };
}

/** Parses the answer as JSON (tolerating a ```json fence) and validates it. */
function checkAnswer<Output>(
  check: (value: unknown) => OutputCheck<Output>,
  content: string,
): OutputCheck<Output> {
  const text = stripFence(content.trim());
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`not valid JSON (${(error as Error).message})`] };
  }
  return check(value);
}

function stripFence(text: string): string {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(text);
  return fenced?.[1] ?? text;
}

function toSchemaName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'output' : cleaned;
}
