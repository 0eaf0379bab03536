export {
  createAnthropicAdapter,
  anthropicAdapter,
  type AnthropicAdapterOptions,
} from './create-anthropic-adapter.ts';
export { anthropicProviderDefinition } from './anthropic-provider-definition.ts';
export { anthropicOptionsSchema, readAnthropicOptions, type AnthropicOptions } from './anthropic-options.ts';
export { parseAnthropicRateLimitResetMs } from './parse-anthropic-error.ts';
