import type { ConceptNormalizer } from './normalize-concepts.ts';

/**
 * The precision guard: a semantic neighbour is served only when it asks the same thing in other
 * words. Embeddings place "What is 2+2?" next to "What is 2+3?", "Convert 5 miles to km" next to
 * "Convert 5 km to miles", and "Is it safe?" next to "Is it not safe?"; the guard refuses such
 * neighbours by comparing what embeddings blur: numbers and units (in order), negations, named
 * entities (capitalised words inside a sentence) and key content words.
 */
export interface GuardVerdict {
  ok: boolean;
  /**
   * Why the neighbour was refused: `numbers`, `units`, `negation`, `entities` or `content` (the
   * rules), or `verifier` (the learned duplicate verifier scored the pair below its threshold).
   */
  reason?: RuleReason | 'content' | 'verifier';
  /** Share of content words the two texts have in common (0–1). */
  overlap: number;
  /** The learned verifier's probability that the pair is a duplicate (verifier only). */
  score?: number;
}

/** The hard rules: a pair that breaks one never asks the same thing. */
export type RuleReason = 'numbers' | 'units' | 'negation' | 'entities';

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
  // Contractions written without their apostrophe: not rewritten by the normaliser (`wont` and
  // `cant` are words too), but a request that may say "not" never matches one that does not.
  'aint',
  'arent',
  'cant',
  'couldnt',
  'didnt',
  'doesnt',
  'dont',
  'hadnt',
  'hasnt',
  'havent',
  'isnt',
  'mustnt',
  'neednt',
  'shouldnt',
  'wasnt',
  'werent',
  'wont',
  'wouldnt',
]);

// "one" is also a pronoun ("how does one apply?"): it is a number of its own, never equal to 1.
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
  ].map((word, index) => [word, word === 'one' ? 'one' : String(index)]),
);

/**
 * Units and currencies, each form with its canonical name: "5 km" and "5 kilometres" are alike;
 * "5 km" and "5 miles", or "from miles to km" and "from km to miles", are not.
 */
const unitGroups: Record<string, string> = {
  mm: 'millimetre millimetres millimeter millimeters',
  cm: 'centimetre centimetres centimeter centimeters',
  m: 'metre metres meter meters',
  km: 'kilometre kilometres kilometer kilometers kms',
  inch: 'inches',
  foot: 'feet ft',
  yard: 'yards yd yds',
  mile: 'miles mi',
  mg: 'milligram milligrams',
  g: 'gram grams gramme grammes',
  kg: 'kilogram kilograms kilo kilos kgs',
  pound: 'pounds lb lbs',
  ounce: 'ounces oz',
  ton: 'tons tonne tonnes',
  stone: 'stones',
  ml: 'millilitre millilitres milliliter milliliters',
  l: 'litre litres liter liters',
  gallon: 'gallons gal',
  quart: 'quarts',
  pint: 'pints',
  cup: 'cups',
  tablespoon: 'tablespoons tbsp',
  teaspoon: 'teaspoons tsp',
  celsius: 'centigrade',
  fahrenheit: '',
  kelvin: '',
  bit: 'bits',
  byte: 'bytes',
  kb: 'kilobyte kilobytes',
  mb: 'megabyte megabytes',
  gb: 'gigabyte gigabytes',
  tb: 'terabyte terabytes',
  pb: 'petabyte petabytes',
  kbps: '',
  mbps: '',
  gbps: '',
  second: 'seconds sec secs',
  minute: 'minutes min mins',
  hour: 'hours hr hrs',
  day: 'days',
  week: 'weeks',
  month: 'months',
  year: 'years',
  decade: 'decades',
  century: 'centuries',
  mph: '',
  kmh: 'kph',
  watt: 'watts w',
  kw: 'kilowatt kilowatts',
  kwh: '',
  volt: 'volts v',
  amp: 'amps ampere amperes',
  calorie: 'calories kcal',
  joule: 'joules',
  dollar: 'dollars usd $',
  euro: 'euros eur €',
  gbp: '£ sterling',
  yen: 'jpy ¥',
  yuan: 'cny rmb',
  rupee: 'rupees inr ₹',
  franc: 'francs chf',
  cad: '',
  aud: '',
  cent: 'cents',
  am: '',
  pm: '',
};
const units = new Map<string, string>();
for (const [canonical, forms] of Object.entries(unitGroups))
  for (const form of [canonical, ...forms.split(' ')]) if (form !== '') units.set(form, canonical);
// Units that are also ordinary words or letters ("I am", "a bit more", "the second one", "a ton of
// mail"): counted only right after a number.
const unitsAfterNumbersOnly = new Set(
  'm g l w v am pm min mi gal sec secs second seconds minute minutes bit bits ton tons stone stones cup cups'.split(
    ' ',
  ),
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
  /** The numbers in order, repeats kept ("2 + 2" is not "2 + 2 + 2"; "3/4" is not "4/3"). */
  numbers: string[];
  /** The units and currencies in order, by canonical name. */
  units: string[];
  negations: number;
  entities: Set<string>;
  /** Stemmed words that are not function words, numbers or negations. */
  content: Set<string>;
}

/** The first hard rule two texts break (numbers, negations, entities), or undefined. */
export function ruleMismatch(a: TextAnalysis, b: TextAnalysis): RuleReason | undefined {
  if (!sameList(a.numbers, b.numbers)) return 'numbers';
  if (!sameList(a.units, b.units)) return 'units';
  if (a.negations !== b.negations) return 'negation';
  if (!entitiesFound(a.entities, b.stemmedText) || !entitiesFound(b.entities, a.stemmedText))
    return 'entities';
  return undefined;
}

/**
 * @example
 * analyzeText('Is NASA not sending 2 rockets?', createConceptNormalizer()).numbers; // ['2']
 */
export function analyzeText(text: string, normalizer: ConceptNormalizer): TextAnalysis {
  const tokens = normalizer.tokenize(text);
  const numbers: string[] = [];
  const unitsFound: string[] = [];
  let negationCount = 0;
  const content = new Set<string>();
  let afterNumber = false;
  for (const token of tokens) {
    const wasAfterNumber: boolean = afterNumber;
    afterNumber = false;
    const unit = units.get(token);
    if (unit !== undefined && (wasAfterNumber || !unitsAfterNumbersOnly.has(token))) {
      unitsFound.push(unit);
      // "5 km per h", "5 $": a unit after a unit still follows the number.
      afterNumber = wasAfterNumber;
    }
    if (/^\d/.test(token)) {
      numbers.push(token.replaceAll(',', ''));
      afterNumber = true;
    } else if (numberWords.has(token)) {
      numbers.push(numberWords.get(token) as string);
      afterNumber = true;
    } else if (negations.has(token) || token.endsWith("n't")) negationCount += 1;
    else if (!stopWords.has(token) && !/^\p{Sc}$/u.test(token)) content.add(stem(token));
  }
  // "do not" is the canonical form of "don't": both count once, through "not".
  const stemmed = tokens.map(stem);
  return {
    stemmed,
    stemmedText: ` ${stemmed.join(' ')} `,
    numbers,
    units: unitsFound,
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

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** |a ∩ b| / |a ∪ b|; 1 when both are empty. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  for (const item of a) if (b.has(item)) common += 1;
  return common / (a.size + b.size - common);
}
