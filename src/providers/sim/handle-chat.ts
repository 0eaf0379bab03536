import { countPromptTokens, countTextTokens } from './count-tokens.ts';
import { convertAnthropicRequest } from './convert-anthropic-request.ts';
import { convertGeminiRequest } from './convert-gemini-request.ts';
import { convertOpenAIChatRequest } from './convert-openai-request.ts';
import { generateCompletion } from './generate-completion.ts';
import { renderAnthropicFrames, renderAnthropicMessage } from './render-anthropic-message.ts';
import {
  renderGeminiBlockedPrompt,
  renderGeminiFrames,
  renderGeminiResponse,
} from './render-gemini-content.ts';
import {
  renderOpenAIChatFrames,
  renderOpenAIChatResponse,
  type ChatRenderContext,
} from './render-openai-chat.ts';
import { resolveFaultPlan } from './resolve-fault-plan.ts';
import { respondWithPlan, type SimOutput } from './respond-with-plan.ts';
import { headerFacts, type SimExchange } from './sim-exchange.ts';
import type { SimCompletion, SimPrompt } from './sim-prompt.ts';

const maxCachedPromptLength = 16_384;

/** Chat in every format: OpenAI/Azure chat completions, Anthropic messages, Gemini generateContent. */
export async function handleChat(exchange: SimExchange, body: unknown): Promise<void> {
  const { route, runtime } = exchange;
  let prompt: SimPrompt;
  let stream: boolean;
  let includeUsage = false;
  switch (route.format) {
    case 'openai':
    case 'azure':
      ({ prompt, stream, includeUsage } = convertOpenAIChatRequest(body, route.model));
      break;
    case 'anthropic':
      ({ prompt, stream } = convertAnthropicRequest(body));
      break;
    case 'gemini':
      prompt = convertGeminiRequest(body, route.model ?? '');
      stream = route.stream === true;
      break;
  }
  exchange.model = prompt.model;
  const cacheKey = `${runtime.faults.seed}|${JSON.stringify(prompt)}`;
  const cached = runtime.completions.get(cacheKey);
  const promptTokens = cached?.inputTokens ?? countPromptTokens(prompt);
  const plan = resolveFaultPlan(runtime.faults, {
    endpoint: 'chat',
    format: route.format,
    model: prompt.model,
    stream,
    tokens: promptTokens + (prompt.maxTokens ?? 0),
    ...headerFacts(exchange),
  });
  if (
    plan.fault === undefined &&
    plan.contextWindow !== undefined &&
    promptTokens + (prompt.maxTokens ?? 0) > plan.contextWindow
  ) {
    plan.fault = { kind: 'context-length' };
  }
  const filter = plan.fault?.kind === 'content-filter' ? plan.fault.target : undefined;
  const blockedPrompt = filter === 'prompt' && route.format === 'gemini';
  let outcome: string | undefined;
  if (filter === 'output' || blockedPrompt) {
    plan.fault = undefined;
    outcome = 'content_filtered';
  }

  const context: ChatRenderContext = {
    id: chatId(route.format, runtime.nextId()),
    created: Math.floor(runtime.clock.now() / 1000),
    model: prompt.model,
  };
  const complete = (): SimCompletion => {
    let completion = cached;
    if (completion === undefined) {
      completion = generateCompletion(prompt, runtime.faults.seed, promptTokens);
      // Long prompts are not kept: the cache is for repeated benchmark-sized requests.
      if (cacheKey.length <= maxCachedPromptLength) runtime.completions.set(cacheKey, completion);
    }
    return filter === 'output' ? filterOutput(completion) : completion;
  };
  let output: SimOutput;
  if (blockedPrompt) {
    const blocked = (): string => JSON.stringify(renderGeminiBlockedPrompt(promptTokens, context));
    output = stream
      ? { kind: 'stream', frames: () => [{ data: blocked(), content: true }] }
      : { kind: 'json', body: blocked };
  } else if (stream && route.format === 'gemini' && route.query.get('alt') !== 'sse') {
    // Without alt=sse, Gemini streams one JSON array of the same chunks.
    output = {
      kind: 'json',
      body: () =>
        `[${renderGeminiFrames(complete(), context)
          .map((frame) => frame.data)
          .join(',\r\n')}]`,
    };
  } else if (stream) {
    output = { kind: 'stream', frames: () => renderFrames(route.format, complete(), context, includeUsage) };
  } else {
    output = { kind: 'json', body: () => JSON.stringify(renderBody(route.format, complete(), context)) };
  }
  await respondWithPlan(
    exchange,
    plan,
    output,
    outcome === undefined ? { promptTokens } : { promptTokens, outcome },
  );
}

function renderBody(
  format: SimExchange['route']['format'],
  completion: SimCompletion,
  context: ChatRenderContext,
): Record<string, unknown> {
  switch (format) {
    case 'openai':
    case 'azure':
      return renderOpenAIChatResponse(completion, context);
    case 'anthropic':
      return renderAnthropicMessage(completion, context);
    case 'gemini':
      return renderGeminiResponse(completion, context);
  }
}

function renderFrames(
  format: SimExchange['route']['format'],
  completion: SimCompletion,
  context: ChatRenderContext,
  includeUsage: boolean,
) {
  switch (format) {
    case 'openai':
    case 'azure':
      return renderOpenAIChatFrames(completion, context, includeUsage);
    case 'anthropic':
      return renderAnthropicFrames(completion, context);
    case 'gemini':
      return renderGeminiFrames(completion, context);
  }
}

function chatId(format: SimExchange['route']['format'], id: string): string {
  switch (format) {
    case 'openai':
    case 'azure':
      return `chatcmpl-sim${id}`;
    case 'anthropic':
      return `msg_01sim${id}`;
    case 'gemini':
      return `sim${id}`;
  }
}

/** The output filter fired: a few words got out, then the provider stopped the answer. */
function filterOutput(completion: SimCompletion): SimCompletion {
  const choices = completion.choices.map((choice) => {
    const text = choice.toolCalls.length > 0 ? '' : choice.text.split(' ').slice(0, 3).join(' ');
    return {
      ...choice,
      text,
      toolCalls: [],
      toolPreamble: '',
      finishReason: 'content_filter' as const,
      stopSequence: undefined,
      outputTokens: countTextTokens(text),
    };
  });
  return {
    ...completion,
    choices,
    outputTokens: choices.reduce((sum, choice) => sum + choice.outputTokens, 0),
  };
}
