import { z } from 'zod';
import { createDeploymentOptionsReader } from '../provider-definition.ts';
import { anthropicProvider } from './anthropic-wire.ts';

const anthropicOptionsShape = {
  /** The `anthropic-version` header (default `2023-06-01`). */
  version: z.string().min(1).optional(),
  /** The `anthropic-beta` header: beta features to turn on (`prompt-caching-2024-07-31`, …). */
  beta: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  /** Anthropic requires `max_tokens`; used when a request sets none (default 4096). */
  defaultMaxTokens: z.number().int().positive().optional(),
};

/** What an Anthropic deployment's `options` may hold (see docs/configuration.md). */
export const anthropicOptionsSchema = z.strictObject(anthropicOptionsShape);

export type AnthropicOptions = z.infer<typeof anthropicOptionsSchema>;

/** The options of an Anthropic deployment, as its adapter reads them. */
export const readAnthropicOptions = createDeploymentOptionsReader(
  anthropicProvider,
  z.object(anthropicOptionsShape),
);
