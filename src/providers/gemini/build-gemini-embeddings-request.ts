import { InvalidRequestError } from '../../core/index.ts';
import type { EmbeddingsRequest } from '../../spec/index.ts';
import type { Deployment, HttpRequestSpec } from '../types.ts';
import { createGeminiHeaders, toGeminiModelPath } from './gemini-wire.ts';

/** "BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch". */
export const maxGeminiEmbeddingInputs = 100;

/**
 * Builds `POST {baseUrl}/models/{model}:batchEmbedContents`: one request per input text, with
 * `dimensions` as `outputDimensionality`. Gemini embeds text only, so token-id inputs are
 * refused with an error naming `input`, as are more than 100 inputs (Gemini's batch limit),
 * which would otherwise fail upstream after the call was counted.
 *
 * @example
 * buildGeminiEmbeddingsRequest({ model: 'emb', input: ['a', 'b'] },
 *   { id: 'g', provider: 'gemini', model: 'gemini-embedding-001', baseUrl: 'https://generativelanguage.googleapis.com/v1beta' }).body;
 * // { requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] } }, { model: …, content: { parts: [{ text: 'b' }] } }] }
 */
export function buildGeminiEmbeddingsRequest(
  request: EmbeddingsRequest,
  deployment: Deployment,
): HttpRequestSpec {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  if (inputs.length > maxGeminiEmbeddingInputs) {
    throw new InvalidRequestError({
      message: `input: gemini embeds at most ${maxGeminiEmbeddingInputs} inputs per request, got ${inputs.length}`,
      param: 'input',
    });
  }
  const texts = inputs.map((input, index) => {
    if (typeof input !== 'string') {
      throw new InvalidRequestError({
        message: 'input: gemini embeds text; token-id arrays are not supported',
        param: typeof request.input === 'string' ? 'input' : `input[${index}]`,
      });
    }
    return input;
  });
  const modelPath = toGeminiModelPath(deployment.model);
  return {
    method: 'POST',
    url: `${deployment.baseUrl}/${modelPath}:batchEmbedContents`,
    headers: createGeminiHeaders(deployment.apiKey, deployment.headers),
    body: {
      requests: texts.map((text) => ({
        model: modelPath,
        content: { parts: [{ text }] },
        ...(request.dimensions === undefined ? {} : { outputDimensionality: request.dimensions }),
      })),
    },
  };
}
