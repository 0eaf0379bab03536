import { createGeminiAdapter } from './create-gemini-adapter.ts';

export { createGeminiAdapter, type GeminiAdapterOptions } from './create-gemini-adapter.ts';
export { convertToGeminiSchema } from './convert-to-gemini-schema.ts';

/**
 * The Gemini adapter with the system clock. Stateless: every stream gets its own transformer,
 * so sharing this object is safe.
 *
 * @example
 * import { geminiAdapter } from './providers/gemini/index.ts';
 * const spec = geminiAdapter.buildChatRequest(request, deployment, { stream: false });
 */
export const geminiAdapter = createGeminiAdapter();
