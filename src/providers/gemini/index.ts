export { createGeminiAdapter, geminiAdapter, type GeminiAdapterOptions } from './create-gemini-adapter.ts';
export { geminiProviderDefinition } from './gemini-provider-definition.ts';
export { convertToGeminiSchema } from './convert-to-gemini-schema.ts';
