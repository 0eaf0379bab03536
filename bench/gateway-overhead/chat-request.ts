/** The model every target is asked for (a Pipewright model group of the same name points at the sim). */
export const benchModel = 'gpt-4o-mini';

/**
 * The requests the benchmark sends: `tiny` (a one-line question, at most 64 tokens back: what the
 * gateway costs when the payload is nothing) and `realistic` (a system prompt, a paragraph-long
 * question, `max_tokens` 256 and an answer of about 200 tokens: where the cost that grows with the
 * payload — validation, copying, serialising, one stream chunk per word — shows).
 */
export const requestKinds = ['tiny', 'realistic'] as const;
export type RequestKind = (typeof requestKinds)[number];

/**
 * Asks the sim for an answer of about this many tokens. The sim reads markers from the prompt
 * (`[sim:invalid-json]` is another); a sim that does not know this one ignores it and answers its
 * usual two to seven sentences (about 60 tokens), which the report then says (see bench/README.md).
 */
export const realisticAnswerTokens = 200;
export const answerLengthMarker = `[sim:answer-tokens=${realisticAnswerTokens}]`;

const realisticSystemPrompt = [
  'You are the support assistant of Northwind Cloud, a hosting company for small businesses.',
  'Answer in plain English, in short paragraphs, without marketing language.',
  'When a question is about billing, quote the plan names exactly as the customer wrote them.',
  'If you are not sure of a fact about the customer account, say so and suggest contacting a human agent.',
  'Never reveal internal tooling, ticket numbers or the names of other customers.',
].join(' ');

const realisticQuestion = [
  'We run a customer-support platform that answers around two million questions a month in English,',
  'German and Spanish. Our agents currently call three model providers directly from a dozen services,',
  'each with its own retry logic, timeouts and API keys, and we have no single place to see what we',
  'spend per team or why some answers are slow. We are considering putting an OpenAI-compatible gateway',
  'in front of all providers, with caching of repeated questions, fallbacks when a provider is overloaded',
  'and per-tenant budgets. What should we measure before and after the change, which risks does a',
  'gateway add to latency and availability, and how would you roll it out gradually without breaking',
  `the services that depend on it? ${answerLengthMarker}`,
].join(' ');

/**
 * The body every target receives: one of the `requestKinds`, streaming with usage or not.
 *
 * @example
 * createChatBody({ stream: true, kind: 'realistic' });
 */
export function createChatBody(options: { stream: boolean; kind?: RequestKind }): string {
  const realistic = options.kind === 'realistic';
  return JSON.stringify({
    model: benchModel,
    messages: realistic
      ? [
          { role: 'system', content: realisticSystemPrompt },
          { role: 'user', content: realisticQuestion },
        ]
      : [
          { role: 'system', content: 'You are a concise assistant.' },
          {
            role: 'user',
            content:
              'Explain in two sentences why a gateway in front of model providers should add little latency.',
          },
        ],
    max_tokens: realistic ? 256 : 64,
    ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

/** What one whole answer and one stream of a request look like, read from the upstream before the run. */
export interface RequestShape {
  kind: RequestKind;
  requestBytes: number;
  promptTokens: number;
  completionTokens: number;
  wholeBytes: number;
  streamBytes: number;
  streamChunks: number;
}

/**
 * Sends one whole and one streamed request of `kind` to `url` and measures what came back, so the
 * report can say how big the payloads were (and whether the sim gave the answer length asked for).
 *
 * @example
 * const shape = await measureRequestShape(sim.target.url, sim.target.headers, 'realistic');
 */
export async function measureRequestShape(
  url: string,
  headers: Record<string, string>,
  kind: RequestKind,
): Promise<RequestShape> {
  const send = async (stream: boolean) => {
    const body = createChatBody({ stream, kind });
    const response = await fetch(url, { method: 'POST', headers, body });
    const text = await response.text();
    if (!response.ok) throw new Error(`${kind} request: status ${response.status}: ${text.slice(0, 300)}`);
    return { body, text };
  };
  const whole = await send(false);
  const stream = await send(true);
  const usage = (JSON.parse(whole.text) as { usage?: { prompt_tokens?: number; completion_tokens?: number } })
    .usage;
  return {
    kind,
    requestBytes: Buffer.byteLength(whole.body),
    promptTokens: usage?.prompt_tokens ?? Number.NaN,
    completionTokens: usage?.completion_tokens ?? Number.NaN,
    wholeBytes: Buffer.byteLength(whole.text),
    streamBytes: Buffer.byteLength(stream.text),
    streamChunks: stream.text.split('\n\n').filter((event) => event.startsWith('data: {')).length,
  };
}

/**
 * True for a whole chat completion with a non-empty answer.
 *
 * @example
 * isRealCompletion('{"object":"chat.completion","choices":[{"message":{"content":"Hi"}}]}'); // true
 */
export function isRealCompletion(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as {
      object?: unknown;
      choices?: Array<{ message?: { content?: unknown } }>;
    };
    const content = parsed.choices?.[0]?.message?.content;
    return parsed.object === 'chat.completion' && typeof content === 'string' && content.length > 0;
  } catch {
    return false;
  }
}

/**
 * True for a finished OpenAI stream: chunks, a usage chunk, and `data: [DONE]` at the end.
 *
 * @example
 * isRealStream('data: {"object":"chat.completion.chunk","usage":{"total_tokens":3}}\n\ndata: [DONE]\n\n'); // true
 */
export function isRealStream(body: string): boolean {
  return (
    body.trimEnd().endsWith('data: [DONE]') &&
    body.includes('"chat.completion.chunk"') &&
    /"usage":\s*\{/.test(body)
  );
}
