import { countTextTokens } from './count-tokens.ts';
import { convertOpenAIImagesRequest } from './convert-openai-request.ts';
import { createPng, parseImageSize } from './create-png.ts';
import { resolveFaultPlan } from './resolve-fault-plan.ts';
import { respondWithPlan } from './respond-with-plan.ts';
import { headerFacts, type SimExchange } from './sim-exchange.ts';

/**
 * OpenAI/Azure `/images/generations`: small real PNGs (at most 256 px a side) drawn from the
 * prompt, as `b64_json` or as a `data:` URL when `url` is asked (there is nowhere to host them).
 */
export async function handleImages(exchange: SimExchange, body: unknown): Promise<void> {
  const { route, runtime } = exchange;
  const request = convertOpenAIImagesRequest(body, route.model);
  exchange.model = route.model ?? request.model;
  const model = exchange.model;
  const gptImage = model.startsWith('gpt-image');
  const format = request.response_format ?? (gptImage ? 'b64_json' : 'url');
  const promptTokens = countTextTokens(request.prompt);
  const plan = resolveFaultPlan(runtime.faults, {
    endpoint: 'images',
    format: route.format,
    model,
    stream: false,
    tokens: promptTokens,
    ...headerFacts(exchange),
  });
  const render = (): string => {
    const { width, height } = parseImageSize(request.size);
    const data = Array.from({ length: request.n ?? 1 }, (_, index) => {
      const base64 = createPng(`${request.prompt}|${index}`, width, height).toString('base64');
      const image: Record<string, string> =
        format === 'b64_json' ? { b64_json: base64 } : { url: `data:image/png;base64,${base64}` };
      if (model.startsWith('dall-e-3')) image['revised_prompt'] = `[simulated] ${request.prompt}`;
      return image;
    });
    const out: Record<string, unknown> = { created: Math.floor(runtime.clock.now() / 1000), data };
    if (gptImage) {
      const imageTokens = 272 * data.length;
      out['usage'] = {
        input_tokens: promptTokens,
        output_tokens: imageTokens,
        total_tokens: promptTokens + imageTokens,
        input_tokens_details: { text_tokens: promptTokens, image_tokens: 0 },
      };
    }
    return JSON.stringify(out);
  };
  await respondWithPlan(exchange, plan, { kind: 'json', body: render }, { promptTokens });
}
