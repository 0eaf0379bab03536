import { countPromptTokens, countTextTokens, truncateToTokens } from './count-tokens.ts';
import { createRandom, hashString, type Random } from './create-random.ts';
import { extractKeywords, type PromptTerms } from './extract-keywords.ts';
import { generateJsonValue } from './generate-json-value.ts';
import {
  generateTextAnswer,
  generateToolPreamble,
  generateToolResultAnswer,
} from './generate-text-answer.ts';
import { chooseTool, generateToolCall } from './generate-tool-call.ts';
import type { SimChoice, SimCompletion, SimMessage, SimPrompt } from './sim-prompt.ts';

/** Put in a prompt, this marker makes the first JSON answer invalid (see README). */
export const invalidJsonMarker = '[sim:invalid-json]';

// A key in single quotes: how the sim's broken answers look when pasted into a repair prompt.
const brokenAnswerPattern = /[{,]\s*'[^'\n]{1,64}'\s*:/;

/**
 * The sim's answer to a prompt: the same prompt and seed always give the same answer, whatever
 * wire format it came through. Calls a tool when tools are offered and the user spoke last,
 * answers from a tool's result when one came back, returns JSON when asked for it, and honours
 * max tokens (finish `length`), stop sequences and `n`.
 *
 * @example
 * const completion = generateCompletion(prompt, 42);
 * completion.choices[0].text; // '[simulated] You asked about "…". …'
 */
export function generateCompletion(
  prompt: SimPrompt,
  seed: number,
  inputTokens = countPromptTokens(prompt),
): SimCompletion {
  const key = JSON.stringify([
    prompt.system,
    prompt.messages,
    prompt.tools,
    prompt.toolChoice,
    prompt.output,
  ]);
  const base = hashString(key, seed);
  const choices: SimChoice[] = [];
  for (let index = 0; index < Math.max(1, prompt.n); index++) {
    choices.push(
      generateChoice(prompt, createRandom((base + Math.imul(index, 0x9e3779b9)) >>> 0), `${base}:${index}`),
    );
  }
  return {
    choices,
    inputTokens,
    outputTokens: choices.reduce((sum, choice) => sum + choice.outputTokens, 0),
  };
}

function generateChoice(prompt: SimPrompt, random: Random, seedText: string): SimChoice {
  const last = prompt.messages.at(-1);
  const repair = findRepairState(prompt.messages);
  const subject = repair.markerMessage ?? lastUserMessage(prompt.messages);
  const terms = extractKeywords(subject?.text ?? '');
  const userSpokeLast = last !== undefined && last.role === 'user' && last.toolResults.length === 0;

  const tool =
    userSpokeLast && repair.markerMessage === undefined
      ? chooseTool(prompt.tools, prompt.toolChoice, terms)
      : undefined;
  if (tool !== undefined) {
    const call = generateToolCall(tool, terms, random, seedText);
    const outputTokens = countTextTokens(`${call.name}${JSON.stringify(call.arguments)}`) + 4;
    return {
      text: '',
      toolCalls: [call],
      toolPreamble: generateToolPreamble(tool.name),
      finishReason: 'tool_calls',
      stopSequence: undefined,
      outputTokens,
    };
  }

  let text: string;
  const toolResult = last?.toolResults.at(-1);
  const answer =
    toolResult !== undefined
      ? generateToolResultAnswer(toolResult.name, toolResult.content, terms, random)
      : generateTextAnswer(terms, random);
  if (prompt.output.type !== 'text' || repair.markerMessage !== undefined) {
    const value = jsonAnswer(prompt, terms, random, answer);
    text = repair.markerMessage !== undefined && !repair.repaired ? breakJson(value) : JSON.stringify(value);
  } else {
    text = answer;
  }
  return finishText(text, prompt);
}

function jsonAnswer(prompt: SimPrompt, terms: PromptTerms, random: Random, answer: string): unknown {
  if (prompt.output.type === 'json_schema')
    return generateJsonValue(prompt.output.schema, { terms, random, answer });
  return { answer, topic: terms.topic, keywords: terms.keywords.slice(0, 5), simulated: true };
}

/** Applies stop sequences, then max tokens. */
function finishText(full: string, prompt: SimPrompt): SimChoice {
  let text = full;
  let finishReason: SimChoice['finishReason'] = 'stop';
  let stopSequence: string | undefined;
  let cut = -1;
  for (const stop of prompt.stop) {
    const at = stop === '' ? -1 : text.indexOf(stop);
    if (at !== -1 && (cut === -1 || at < cut)) {
      cut = at;
      stopSequence = stop;
    }
  }
  if (cut !== -1) text = text.slice(0, cut);
  let outputTokens = countTextTokens(text);
  if (prompt.maxTokens !== undefined && outputTokens > prompt.maxTokens) {
    text = truncateToTokens(text, prompt.maxTokens);
    outputTokens = prompt.maxTokens;
    finishReason = 'length';
    stopSequence = undefined;
  }
  return { text, toolCalls: [], toolPreamble: '', finishReason, stopSequence, outputTokens };
}

function lastUserMessage(messages: SimMessage[]): SimMessage | undefined {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index];
    if (message !== undefined && message.role === 'user' && message.text !== '') return message;
  }
  return undefined;
}

/**
 * With the invalid-JSON marker, the first answer is broken; a follow-up that carries the broken
 * answer (as an assistant turn, or pasted into a message) is "repaired".
 */
function findRepairState(messages: SimMessage[]): {
  markerMessage: SimMessage | undefined;
  repaired: boolean;
} {
  const markerIndex = messages.findIndex(
    (message) => message.role === 'user' && message.text.includes(invalidJsonMarker),
  );
  if (markerIndex === -1) return { markerMessage: undefined, repaired: false };
  const repaired =
    messages.slice(markerIndex + 1).some((message) => message.role === 'assistant') ||
    messages.some((message) => brokenAnswerPattern.test(message.text));
  return { markerMessage: messages[markerIndex], repaired };
}

/** The value written the way a model answering with a Python dict would: never valid JSON. */
function breakJson(value: unknown): string {
  const text = toPythonLiteral(value);
  try {
    JSON.parse(text);
    return text.slice(0, -1); // `{}` or a bare number is valid JSON as it is: cut it short
  } catch {
    return text;
  }
}

function toPythonLiteral(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(toPythonLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([key, item]) => `'${key}': ${toPythonLiteral(item)}`,
    );
    return `{${entries.join(', ')}}`;
  }
  return 'None';
}
