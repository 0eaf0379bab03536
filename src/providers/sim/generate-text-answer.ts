import type { Random } from './create-random.ts';
import type { PromptTerms } from './extract-keywords.ts';

const openings = [
  'You asked about "{topic}".',
  'Here is a short answer to "{topic}".',
  'Regarding "{topic}", here is what matters.',
  'A brief take on "{topic}".',
];

const bodies = [
  '{K1} is closely tied to {k2}, so it helps to consider both together.',
  'In practice, {k1} depends on the context in which {k2} comes up.',
  'A sensible approach is to start with {k1} and then look at the details of {k2}.',
  'Most sources agree that {k1} matters more than it first appears.',
  'It is worth checking how {k1} relates to {k2} before drawing conclusions.',
  'The short version: {k1} and {k2} should be weighed against each other.',
  'One common mistake is to treat {k1} in isolation from {k2}.',
  'Looking at {k1} first usually makes {k2} easier to reason about.',
];

const closings = [
  'In short, {k1} is the part to focus on.',
  'Let me know if you would like more detail on {k1}.',
  'That should cover the essentials of {k1}.',
];

/**
 * A deterministic answer that reads like one and mentions the prompt:
 * `[simulated] You asked about "…". <two to five sentences on its keywords>`.
 */
export function generateTextAnswer(terms: PromptTerms, random: Random): string {
  const keywords = terms.keywords.length > 0 ? terms.keywords : ['this topic', 'the context'];
  const sentences = [fill(random.pick(openings), terms, keywords, random)];
  const pool = bodies.slice();
  const count = random.integer(2, 5);
  for (let index = 0; index < count; index++) {
    // Drawn without replacement, so no sentence repeats.
    const [template = ''] = pool.splice(random.integer(0, pool.length - 1), 1);
    sentences.push(fill(template, terms, keywords, random));
  }
  sentences.push(fill(random.pick(closings), terms, keywords, random));
  return `[simulated] ${sentences.join(' ')}`;
}

/** The answer after a tool ran: it quotes the result so a test can see it was used. */
export function generateToolResultAnswer(
  toolName: string,
  content: string,
  terms: PromptTerms,
  random: Random,
): string {
  const snippet = content.replace(/\s+/g, ' ').trim();
  const quoted = snippet.length > 200 ? `${snippet.slice(0, 197)}...` : snippet;
  const keywords = terms.keywords.length > 0 ? terms.keywords : ['the result', 'the request'];
  const follow = fill(random.pick(bodies), terms, keywords, random);
  return `[simulated] Based on the result of ${toolName}: ${quoted === '' ? '(empty)' : quoted}. ${follow}`;
}

/** The sentence Anthropic-style models say before a tool call. */
export function generateToolPreamble(toolName: string): string {
  return `[simulated] I'll use the ${toolName} tool to help with that.`;
}

function fill(template: string, terms: PromptTerms, keywords: string[], random: Random): string {
  const first = display(random.pick(keywords), terms);
  const others = keywords.filter((keyword) => display(keyword, terms) !== first);
  const second = others.length > 0 ? display(random.pick(others), terms) : 'the wider context';
  return template
    .replace('{topic}', terms.topic)
    .replace('{K1}', capitalise(first))
    .replace('{k1}', first)
    .replace('{k2}', second);
}

/** Keywords are lower-cased; names keep their capital (`paris` → `Paris`). */
function display(keyword: string, terms: PromptTerms): string {
  return terms.properNouns.find((noun) => noun.toLowerCase() === keyword) ?? keyword;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
