import { deriveToken, type Random } from './create-random.ts';
import type { PromptTerms } from './extract-keywords.ts';
import { generateJsonValue } from './generate-json-value.ts';
import type { SimTool, SimToolCall, SimToolChoice } from './sim-prompt.ts';

/**
 * The tool to call: the one tool_choice names, else the one whose name and description share
 * the most words with the prompt, else the first. `undefined` when no tool should be called.
 */
export function chooseTool(tools: SimTool[], choice: SimToolChoice, terms: PromptTerms): SimTool | undefined {
  if (tools.length === 0 || choice.mode === 'none') return undefined;
  if (choice.mode === 'named') return tools.find((tool) => tool.name === choice.name) ?? tools[0];
  const prompt = new Set(terms.keywords.flatMap((keyword) => [keyword, stem(keyword)]));
  let best = tools[0];
  let bestScore = 0;
  for (const tool of tools) {
    const words = `${tool.name.replace(/([a-z0-9])([A-Z])/g, '$1 $2')} ${tool.description}`
      .toLowerCase()
      .split(/[^a-z0-9]+/);
    let score = 0;
    for (const word of new Set(words))
      if (word.length >= 3 && (prompt.has(word) || prompt.has(stem(word)))) score++;
    if (score > bestScore) {
      best = tool;
      bestScore = score;
    }
  }
  return best;
}

/** A call of `tool` with arguments valid against its parameters schema, drawn from the prompt. */
export function generateToolCall(
  tool: SimTool,
  terms: PromptTerms,
  random: Random,
  seedText: string,
): SimToolCall {
  const value = generateJsonValue(tool.parameters, { terms, random, answer: terms.topic });
  const args =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  return { key: deriveToken(`${seedText}|${tool.name}`, 24), name: tool.name, arguments: args };
}

function stem(word: string): string {
  return word.length > 4 && word.endsWith('s') ? word.slice(0, -1) : word;
}
