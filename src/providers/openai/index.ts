export { openaiAdapter } from './openai-adapter.ts';
export { openAIProviderDefinition } from './openai-provider-definition.ts';
export { openAIOptionsSchema, readOpenAIOptions, type OpenAIOptions } from './openai-options.ts';
export {
  createOpenAIAdapter,
  createBearerAuthHeaders,
  trimTrailingSlash,
  type OpenAIAdapterOptions,
  type OpenAIOperation,
} from './create-openai-adapter.ts';
export {
  convertToOpenAIChatRequest,
  type ConvertToOpenAIChatRequestOptions,
} from './convert-to-openai-chat-request.ts';
export {
  createOpenAIStreamTransformer,
  type OpenAIStreamTransformerOptions,
} from './openai-stream-transformer.ts';
export {
  mapOpenAIError,
  mapOpenAIStreamError,
  readOpenAIErrorFacts,
  type OpenAIErrorFacts,
} from './map-openai-error.ts';
export { parseOpenAIChatResponse } from './parse-openai-chat-response.ts';
export { parseOpenAIEmbeddingsResponse } from './parse-openai-embeddings-response.ts';
export { parseOpenAIImagesResponse } from './parse-openai-images-response.ts';
export { convertOpenAIUsage } from './convert-openai-usage.ts';
export { mapOpenAIFinishReason } from './map-openai-finish-reason.ts';
