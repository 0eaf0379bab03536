import type { GeminiCandidate } from './gemini-api-schemas.ts';

export interface GeminiFunctionCall {
  /** Set by newer models; older ones give calls no id. */
  id?: string;
  name: string;
  /** The arguments as a JSON string. */
  arguments: string;
}

export interface GeminiCandidateContent {
  index: number;
  /** The visible text of the candidate (thought summaries are left out). */
  text: string;
  functionCalls: GeminiFunctionCall[];
  finishReason?: string;
}

/**
 * Reads one element of `candidates` (already checked by `geminiResponseSchema`): its index
 * (position when absent), visible text, function calls and finish reason. Parts Gemini adds
 * for other features (thought signatures, executable code, inline images) are skipped.
 *
 * @example
 * readGeminiCandidate({ content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: 'STOP', index: 0 }, 0);
 * // { index: 0, text: 'Hi', functionCalls: [], finishReason: 'STOP' }
 */
export function readGeminiCandidate(candidate: GeminiCandidate, position: number): GeminiCandidateContent {
  const out: GeminiCandidateContent = {
    index: candidate.index ?? position,
    text: '',
    functionCalls: [],
  };
  if (typeof candidate.finishReason === 'string') out.finishReason = candidate.finishReason;
  for (const part of candidate.content?.parts ?? []) {
    if (typeof part.text === 'string' && part.thought !== true) out.text += part.text;
    const call = part.functionCall;
    if (call === undefined || call === null) continue;
    const functionCall: GeminiFunctionCall = { name: call.name, arguments: JSON.stringify(call.args ?? {}) };
    if (typeof call.id === 'string' && call.id !== '') functionCall.id = call.id;
    out.functionCalls.push(functionCall);
  }
  return out;
}
