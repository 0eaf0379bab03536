import type { ImagesResponse } from '../../spec/index.ts';
import { createMalformedResponseError, parseWirePayload } from '../shared/index.ts';
import type { TransformContext } from '../types.ts';
import { openAIImagesResponseSchema } from './openai-api-schemas.ts';

/**
 * An `/images/generations` body → the canonical response. Each image must carry a `url` or
 * `b64_json`; nulls are dropped.
 *
 * @example
 * parseOpenAIImagesResponse({ created: 1, data: [{ b64_json: 'iVBOR…' }] }, context, 'openai');
 */
export function parseOpenAIImagesResponse(
  body: unknown,
  context: TransformContext,
  provider: string,
): ImagesResponse {
  const wire = parseWirePayload(openAIImagesResponseSchema, body, {
    provider,
    deployment: context.deployment.id,
  });
  const data = wire.data.map((item, index) => {
    if (typeof item.url !== 'string' && typeof item.b64_json !== 'string') {
      throw createMalformedResponseError(
        { provider, deployment: context.deployment.id },
        `data[${index}]: neither url nor b64_json`,
      );
    }
    const image: ImagesResponse['data'][number] = {};
    if (typeof item.url === 'string') image.url = item.url;
    if (typeof item.b64_json === 'string') image.b64_json = item.b64_json;
    if (typeof item.revised_prompt === 'string') image.revised_prompt = item.revised_prompt;
    return image;
  });
  const response: ImagesResponse = { created: wire.created ?? context.created, data };
  const usage = wire.usage;
  if (usage !== undefined && usage !== null) {
    const out: NonNullable<ImagesResponse['usage']> = {};
    if (typeof usage.input_tokens === 'number') out.input_tokens = usage.input_tokens;
    if (typeof usage.output_tokens === 'number') out.output_tokens = usage.output_tokens;
    if (typeof usage.total_tokens === 'number') out.total_tokens = usage.total_tokens;
    response.usage = out;
  }
  return response;
}
