/** The model every target is asked for (a Pipewright model group of the same name points at the sim). */
export const benchModel = 'gpt-4o-mini';

/**
 * The body every target receives: a short chat request, streaming with usage or not.
 *
 * @example
 * createChatBody({ stream: true });
 */
export function createChatBody(options: { stream: boolean }): string {
  return JSON.stringify({
    model: benchModel,
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      {
        role: 'user',
        content:
          'Explain in two sentences why a gateway in front of model providers should add little latency.',
      },
    ],
    max_tokens: 64,
    ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
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
