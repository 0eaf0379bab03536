import type { ConceptNormalizer } from './normalize-concepts.ts';

/**
 * The precision guard: a semantic neighbour is served only when it asks the same thing in other
 * words. Embeddings place "What is 2+2?" next to "What is 2+3?", and "Is it safe?" next to "Is it
 * not safe?"; the guard refuses such neighbours by comparing what embeddings blur: numbers,
 * negations, named entities (capitalised words inside a sentence) and key content words.
 */
export interface GuardVerdict {
  ok: boolean;
  /**
   * Why the neighbour was refused: `numbers`, `negation`, `entities` or `content` (the rules), or
   * `verifier` (the learned duplicate verifier scored the pair below its threshold).
   */
  reason?: 'numbers' | 'negation' | 'entities' | 'content' | 'verifier';
  /** Share of content words the two texts have in common (0–1). */
  overlap: number;
  /** The learned verifier's probability that the pair is a duplicate (verifier only). */
  score?: number;
}

export interface PrecisionGuardOptions {
  /**
   * The least share of content words (Jaccard, after concept normalisation and light stemming)
   * two texts must share: paraphrases reword some words but keep most of the subject.
   */
  minContentOverlap?: number;
}

export interface PrecisionGuard {
  /**
   * `similarity` is the embedders' cosine similarity of the two (normalised) texts, when the caller
   * has it: the rule guard ignores it, the learned verifier needs it.
   */
  check(request: string, candidate: string, similarity?: number): GuardVerdict;
}

const negations = new Set([
  'not',
  'no',
  'never',
  'none',
  'nobody',
  'nothing',
  'neither',
  'nor',
  'nowhere',
  'without',
  "n't",
]);

const numberWords = new Map(
  [
    'zero',
    'one',
    'two',
    'three',
    'four',
    'five',
    'six',
    'seven',
    'eight',
    'nine',
    'ten',
    'eleven',
    'twelve',
    'thirteen',
    'fourteen',
    'fifteen',
    'sixteen',
    'seventeen',
    'eighteen',
    'nineteen',
    'twenty',
  ].map((word, index) => [word, String(index)]),
);

// Function words carry no subject: the content comparison ignores them.
const stopWords = new Set(
  (
    'a an the and or but if then so of to in on at by for with from into onto over under about as is are was were be been being am ' +
    'do does did doing done have has had having i me my we our you your he him his she her it its they them their this that these those ' +
    'what which who whom whose when where why how there here can could will would shall should may might must also just very really ' +
    'some any all each every more most other such only own same than too up down out off again further once s t one ' +
    'get got make made let use used using way ways thing things something anything please'
  ).split(' '),
);

/**
 * @example
 * const guard = createPrecisionGuard(createConceptNormalizer());
 * guard.check('What is the capital of France?', 'What is the capital of Spain?'); // { ok: false, reason: 'entities', … }
 */
export function createPrecisionGuard(
  normalizer: ConceptNormalizer,
  options: PrecisionGuardOptions = {},
): PrecisionGuard {
  const minOverlap = options.minContentOverlap ?? 0.5;
  return {
    check: (request, candidate) => {
      const a = analyzeText(request, normalizer);
      const b = analyzeText(candidate, normalizer);
      const overlap = jaccard(a.content, b.content);
      const rule = ruleMismatch(a, b);
      if (rule !== undefined) return { ok: false, reason: rule, overlap };
      if (overlap < minOverlap) return { ok: false, reason: 'content', overlap };
      return { ok: true, overlap };
    },
  };
}

/** What the guard and the verifier compare in one text. */
export interface TextAnalysis {
  /** The normalised tokens, lightly stemmed. */
  stemmed: string[];
  /** The stemmed tokens joined with spaces and padded: ` word word `. */
  stemmedText: string;
  numbers: Set<string>;
  negations: number;
  entities: Set<string>;
  /** Stemmed words that are not function words, numbers or negations. */
  content: Set<string>;
}

/** The first hard rule two texts break (numbers, negations, entities), or undefined. */
export function ruleMismatch(
  a: TextAnalysis,
  b: TextAnalysis,
): 'numbers' | 'negation' | 'entities' | undefined {
  if (!sameSet(a.numbers, b.numbers)) return 'numbers';
  if (a.negations !== b.negations) return 'negation';
  if (!entitiesFound(a.entities, b.stemmedText) || !entitiesFound(b.entities, a.stemmedText))
    return 'entities';
  return undefined;
}

/**
 * @example
 * analyzeText('Is NASA not sending 2 rockets?', createConceptNormalizer()).numbers; // Set { '2' }
 */
export function analyzeText(text: string, normalizer: ConceptNormalizer): TextAnalysis {
  const tokens = normalizer.tokenize(text);
  const numbers = new Set<string>();
  let negationCount = 0;
  const content = new Set<string>();
  for (const token of tokens) {
    if (/^\d/.test(token)) numbers.add(token.replaceAll(',', ''));
    else if (numberWords.has(token)) numbers.add(numberWords.get(token) as string);
    else if (negations.has(token) || token.endsWith("n't")) negationCount += 1;
    else if (!stopWords.has(token)) content.add(stem(token));
  }
  // "do not" is the canonical form of "don't": both count once, through "not".
  const stemmed = tokens.map(stem);
  return {
    stemmed,
    stemmedText: ` ${stemmed.join(' ')} `,
    numbers,
    negations: negationCount,
    entities: findEntities(text, normalizer),
    content,
  };
}

/**
 * Named entities as a capitalised word that does not start a sentence, or a word in capitals or
 * with inner capitals (NASA, iPhone); compared in normalised, stemmed form.
 */
function findEntities(text: string, normalizer: ConceptNormalizer): Set<string> {
  const entities = new Set<string>();
  const pattern = /[\p{L}\p{N}][\p{L}\p{N}'.-]*/gu;
  let sentenceStart = true;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const word = match[0].replace(/[.'-]+$/, '');
    const between = text.slice(last, match.index);
    if (/[.!?:;\n]/.test(between) || /["(]/.test(between.trim())) sentenceStart = true;
    last = match.index + match[0].length;
    const capitalised = /^\p{Lu}/u.test(word);
    const shouty = word.length > 1 && /^[\p{Lu}\p{N}]+$/u.test(word) && /\p{Lu}/u.test(word);
    const innerCaps = /^\p{Ll}+\p{Lu}/u.test(word);
    if ((capitalised && !sentenceStart && word !== 'I') || shouty || innerCaps) {
      const normalized = normalizer.tokenize(word).map(stem).join(' ');
      if (normalized !== '' && !stopWords.has(normalized)) entities.add(normalized);
    }
    sentenceStart = /[.!?]$/.test(match[0]);
  }
  return entities;
}

/** Light stemming so plurals and tenses compare equal: "plays", "played", "playing" → "play". */
function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const suffix of ['ing', 'ed', 'es', 's']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const base = word.slice(0, -suffix.length);
      // "running" → "run", not "runn"
      return /(.)\1$/.test(base) && !/(ll|ss)$/.test(base) ? base.slice(0, -1) : base;
    }
  }
  return word;
}

/** An entity of one text matches when the other text names it too, capitalised or not. */
function entitiesFound(entities: Set<string>, otherText: string): boolean {
  for (const entity of entities) if (!otherText.includes(` ${entity} `)) return false;
  return true;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

/** |a ∩ b| / |a ∪ b|; 1 when both are empty. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  for (const item of a) if (b.has(item)) common += 1;
  return common / (a.size + b.size - common);
}
