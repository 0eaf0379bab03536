import { countTextTokens } from './count-tokens.ts';
import { convertGeminiEmbedRequest } from './convert-gemini-request.ts';
import { convertOpenAIEmbeddingsRequest } from './convert-openai-request.ts';
import { defaultEmbeddingDimensions, embedText, encodeEmbeddingBase64 } from './embed-text.ts';
import { resolveFaultPlan } from './resolve-fault-plan.ts';
import { respondWithPlan } from './respond-with-plan.ts';
import { headerFacts, type SimExchange } from './sim-exchange.ts';

/** OpenAI/Azure `/embeddings` and Gemini `:embedContent` / `:batchEmbedContents`. */
export async function handleEmbeddings(exchange: SimExchange, body: unknown): Promise<void> {
  const { route, runtime } = exchange;
  let texts: string[];
  let dimensions: Array<number | undefined>;
  let base64 = false;
  if (route.format === 'gemini') {
    ({ texts, dimensions } = convertGeminiEmbedRequest(body, route.batch === true));
    exchange.model = route.model ?? '';
  } else {
    const input = convertOpenAIEmbeddingsRequest(body, route.model);
    texts = input.texts;
    dimensions = texts.map(() => input.request.dimensions);
    base64 = input.request.encoding_format === 'base64';
    exchange.model = route.model ?? input.request.model;
  }
  const promptTokens = texts.reduce((sum, text) => sum + countTextTokens(text), 0);
  const vectors = (): Float32Array[] =>
    texts.map((text, index) => embedText(text, dimensions[index] ?? defaultEmbeddingDimensions));
  const render = (): string => {
    if (route.format === 'gemini') {
      const values = vectors().map((vector) => Array.from(vector));
      return JSON.stringify(
        route.batch === true
          ? { embeddings: values.map((item) => ({ values: item })) }
          : { embedding: { values: values[0] ?? [] } },
      );
    }
    return JSON.stringify({
      object: 'list',
      data: vectors().map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? encodeEmbeddingBase64(vector) : Array.from(vector),
      })),
      model: exchange.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  };
  const plan = resolveFaultPlan(runtime.faults, {
    endpoint: 'embeddings',
    format: route.format,
    model: exchange.model,
    stream: false,
    tokens: promptTokens,
    ...headerFacts(exchange),
  });
  await respondWithPlan(exchange, plan, { kind: 'json', body: render }, { promptTokens });
}
