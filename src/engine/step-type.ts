import type { Ajv } from 'ajv';
import { z } from 'zod';
import type { PipewrightError } from '../core/index.ts';
import type { StepTypeSettings } from './engine-settings.ts';
import {
  jsonOutputSchema,
  renderTemplate,
  zodOutputSchema,
  type ChatMessage,
  type ChatRequest,
  type OutputSchema,
} from '../spec/index.ts';

/** What a prompt builder sees besides the input: the shared context of the caller or workflow. */
export type StepContext = Readonly<Record<string, unknown>>;

/** How a step's answers may be cached (the caching layer reads this). */
export interface StepCachePolicy {
  mode: 'default' | 'off';
  ttlSeconds?: number;
}

/**
 * A step type: a named, reusable AI task. The engine turns (input, context) into messages, calls
 * the model group, and parses and validates the answer.
 *
 * @example
 * const summarize = defineStepType({
 *   name: 'summarize',
 *   modelGroup: 'fast',
 *   output: z.object({ summary: z.string(), keywords: z.array(z.string()) }),
 *   buildMessages: (input: { text: string }) => [{ role: 'user', content: `Summarise:\n${input.text}` }],
 *   fallback: (input) => ({ summary: input.text.slice(0, 200), keywords: [] }),
 * });
 */
export interface StepTypeDefinition<Input = unknown, Output = unknown> {
  name: string;
  /** The model group called by default (an option of `engine.run` can override it). */
  modelGroup: string;
  description?: string;
  buildMessages(input: Input, context: StepContext): ChatMessage[];
  /** Without a schema the output is the answer's text. */
  output?: OutputSchema<Output> | z.ZodType<Output>;
  /** Request parameters for this step (temperature, max_tokens, seed…). */
  parameters?: Partial<Omit<ChatRequest, 'model' | 'messages' | 'stream' | 'response_format'>>;
  cache?: StepCachePolicy;
  /** A rule-based answer used when every model route failed. */
  fallback?: (input: Input, context: StepContext, error: PipewrightError) => Output | Promise<Output>;
}

/** A step type as the engine holds it: the output schema normalised. */
export interface RegisteredStepType<Input = unknown, Output = unknown> extends Omit<
  StepTypeDefinition<Input, Output>,
  'output'
> {
  output?: OutputSchema<Output>;
}

export function defineStepType<Input, Output>(
  definition: StepTypeDefinition<Input, Output>,
): StepTypeDefinition<Input, Output> {
  return definition;
}

export function normalizeStepType<Input, Output>(
  definition: StepTypeDefinition<Input, Output>,
): RegisteredStepType<Input, Output> {
  const { output, ...rest } = definition;
  if (output === undefined) return rest;
  return { ...rest, output: output instanceof z.ZodType ? zodOutputSchema(output) : output };
}

/** A step type from YAML configuration: templates for the prompt, JSON Schema for the output. */
export function createConfiguredStepType(
  config: StepTypeSettings,
  ajv: Ajv,
  where: string,
): RegisteredStepType<Record<string, unknown>, unknown> {
  const step: RegisteredStepType<Record<string, unknown>, unknown> = {
    name: config.name,
    modelGroup: config.modelGroup,
    buildMessages(input, context) {
      const scope = { input, context };
      const messages: ChatMessage[] = [];
      if (config.system !== undefined)
        messages.push({ role: 'system', content: renderTemplate(config.system, scope) });
      messages.push({ role: 'user', content: renderTemplate(config.prompt, scope) });
      return messages;
    },
    parameters: {
      ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
      ...(config.maxTokens === undefined ? {} : { max_tokens: config.maxTokens }),
    },
  };
  if (config.description !== undefined) step.description = config.description;
  if (config.outputSchema !== undefined)
    step.output = jsonOutputSchema(config.outputSchema, ajv, `${where}.outputSchema`);
  return step;
}
