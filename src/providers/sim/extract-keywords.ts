/** What the sim's answers draw on: the words of the prompt that carry meaning. */
export interface PromptTerms {
  /** The prompt, trimmed to one line of at most ~12 words, for "You asked about …". */
  topic: string;
  /** Content words, lower-cased, in order of first appearance, without duplicates. */
  keywords: string[];
  /** Capitalised words that are not at the start of a sentence (names, places), in order. */
  properNouns: string[];
  /** The proper nouns that follow "in", "to", "at", "from" or "near": probably places. */
  places: string[];
  /** Numbers written in the prompt. */
  numbers: number[];
}

const stopWords = new Set(
  (
    'a about above after again all also am an and any are as at be because been before being below between both but by can could ' +
    'did do does doing down during each few for from further get give had has have having he her here hers him his how i if in into ' +
    'is it its just me more most my no nor not now of off on once only or other our ours out over own please same she should so ' +
    'some such tell than that the their theirs them then there these they this those through to too under until up very was we were ' +
    'what when where which while who whom why will with would you your yours yourself list show find make use using want need ' +
    'write answer question describe explain like one two three sim json return reply respond'
  ).split(' '),
);

const placePrepositions = new Set(['in', 'to', 'at', 'from', 'near', 'into', 'via']);

const wordPattern = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;

/**
 * Splits a prompt into the terms the answer generators use.
 *
 * @example
 * extractKeywords('What is the weather in Paris today?').properNouns; // ['Paris']
 */
export function extractKeywords(text: string): PromptTerms {
  const cleaned = text.replace(/\[sim:[a-z-]+\]/gi, ' ');
  const keywords: string[] = [];
  const seen = new Set<string>();
  const properNouns: string[] = [];
  const numbers: number[] = [];
  const places: string[] = [];
  let previous = '';
  let sentenceStart = true;
  for (const match of cleaned.matchAll(wordPattern)) {
    const word = match[0].replace(/['’-]+$/, '');
    const lower = word.toLowerCase();
    const before = cleaned.slice(Math.max(0, match.index - 2), match.index);
    if (/[.!?]\s*$/.test(before)) sentenceStart = true;
    if (/^\d+([.,]\d+)?$/.test(word)) {
      numbers.push(Number(word.replace(',', '.')));
    } else if (!stopWords.has(lower) && lower.length >= 3) {
      if (!seen.has(lower)) {
        seen.add(lower);
        keywords.push(lower);
      }
      if (!sentenceStart && /^\p{Lu}/u.test(word) && !properNouns.includes(word)) {
        properNouns.push(word);
        if (placePrepositions.has(previous)) places.push(word);
      }
    }
    previous = lower;
    sentenceStart = false;
  }
  return { topic: summariseTopic(cleaned), keywords, properNouns, places, numbers };
}

function summariseTopic(text: string): string {
  const words = text
    .replace(/\s+/g, ' ')
    .trim()
    .split(' ')
    .filter((word) => word !== '');
  if (words.length === 0) return 'your request';
  const short = words.length <= 12 ? words.join(' ') : `${words.slice(0, 10).join(' ')}…`;
  return short.replace(/[\s.!?:;,]+$/, '');
}
