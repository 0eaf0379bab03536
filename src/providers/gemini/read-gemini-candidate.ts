import { createMalformedResponseError, isRecord, type JsonBodySource } from '../shared/index.ts';

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
 * Reads one element of `candidates`: its index (position when absent), visible text,
 * function calls and finish reason. Parts Gemini adds for other features (thought
 * signatures, executable code, inline images) are skipped.
 *
 * @example
 * readGeminiCandidate({ content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: 'STOP', index: 0 }, 0, source);
 * // { index: 0, text: 'Hi', functionCalls: [], finishReason: 'STOP' }
 */
export function readGeminiCandidate(
  candidate: unknown,
  position: number,
  source: JsonBodySource,
): GeminiCandidateContent {
  if (!isRecord(candidate))
    throw createMalformedResponseError(source, `candidates[${position}]: expected an object`);
  const index =
    typeof candidate.index === 'number' && Number.isInteger(candidate.index) ? candidate.index : position;
  const out: GeminiCandidateContent = { index, text: '', functionCalls: [] };
  if (typeof candidate.finishReason === 'string') out.finishReason = candidate.finishReason;
  const content = candidate.content;
  // A candidate stopped by a safety check may come without content.
  if (content === undefined) return out;
  if (!isRecord(content))
    throw createMalformedResponseError(source, `candidates[${position}].content: expected an object`);
  const parts = content.parts ?? [];
  if (!Array.isArray(parts))
    throw createMalformedResponseError(source, `candidates[${position}].content.parts: expected an array`);
  parts.forEach((part: unknown, partIndex) => {
    if (!isRecord(part))
      throw createMalformedResponseError(
        source,
        `candidates[${position}].content.parts[${partIndex}]: expected an object`,
      );
    if (typeof part.text === 'string' && part.thought !== true) out.text += part.text;
    if (part.functionCall !== undefined) {
      const call = part.functionCall;
      if (!isRecord(call) || typeof call.name !== 'string' || call.name === '') {
        throw createMalformedResponseError(
          source,
          `candidates[${position}].content.parts[${partIndex}].functionCall: a call needs a name`,
        );
      }
      const functionCall: GeminiFunctionCall = {
        name: call.name,
        arguments: JSON.stringify(isRecord(call.args) ? call.args : {}),
      };
      if (typeof call.id === 'string' && call.id !== '') functionCall.id = call.id;
      out.functionCalls.push(functionCall);
    }
  });
  return out;
}
