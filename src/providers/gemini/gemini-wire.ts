/**
 * The parts of the Gemini API wire format the adapter writes
 * (https://ai.google.dev/api/generate-content). What it reads is checked by the tolerant
 * schemas of gemini-api-schemas.ts.
 */

export const geminiProvider = 'gemini';

export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { fileUri: string; mimeType?: string } }
  | { functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface GeminiToolConfig {
  functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] };
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  candidateCount?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
}

export interface GeminiRequestBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

/**
 * The Gemini resource path of a model: `models/gemini-2.5-flash`, or a name that already has
 * its collection (`tunedModels/…`, `models/…`) as is.
 *
 * @example
 * toGeminiModelPath('gemini-2.5-flash'); // 'models/gemini-2.5-flash'
 * toGeminiModelPath('tunedModels/my-model'); // 'tunedModels/my-model'
 */
export function toGeminiModelPath(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

/**
 * Request headers: JSON plus the API key header the Gemini API reads, then the deployment's extras.
 *
 * @example
 * createGeminiHeaders('AIza…', undefined); // { 'content-type': 'application/json', 'x-goog-api-key': 'AIza…' }
 */
export function createGeminiHeaders(
  apiKey: string | undefined,
  extra: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== undefined) headers['x-goog-api-key'] = apiKey;
  return { ...headers, ...extra };
}
