/**
 * Concept normalisation before embedding: case, punctuation and a synonym/abbreviation table, so
 * that "What is AI in B2B?" and "what is artificial intelligence in business-to-business" embed
 * alike. Each table row is a canonical phrase and the forms that mean the same.
 */
export type ConceptTable = Readonly<Record<string, readonly string[]>>;

/** The built-in table; extend it with `createConceptNormalizer({ concepts })`. */
export const defaultConcepts: ConceptTable = {
  'artificial intelligence': ['ai', 'a.i.'],
  'machine learning': ['ml'],
  'large language model': ['llm'],
  'large language models': ['llms'],
  'natural language processing': ['nlp'],
  'business to business': ['b2b', 'business-to-business'],
  'business to consumer': ['b2c', 'business-to-consumer'],
  'application programming interface': ['api'],
  'frequently asked questions': ['faq', 'faqs'],
  'as soon as possible': ['asap'],
  'for example': ['e.g.', 'eg', 'for instance'],
  'that is': ['i.e.', 'ie'],
  'united states': ['us', 'usa', 'u.s.', 'u.s.a.', 'united states of america'],
  'united kingdom': ['uk', 'u.k.'],
  versus: ['vs', 'vs.'],
  please: ['pls', 'plz'],
  information: ['info'],
  'do not': ["don't", 'dont'],
  'does not': ["doesn't", 'doesnt'],
  'is not': ["isn't", 'isnt'],
  'can not': ["can't", 'cannot', 'cant'],
  'will not': ["won't", 'wont'],
  'what is': ["what's", 'whats'],
  'how do i': ['how can i', 'how to'],
};

export interface ConceptNormalizer {
  /** Lower case, punctuation dropped (except inside numbers), every concept in its canonical form. */
  normalize(text: string): string;
  /** The normalised text as tokens. */
  tokenize(text: string): string[];
}

export interface ConceptNormalizerOptions {
  /** Rows added to (and overriding) the built-in table. */
  concepts?: ConceptTable;
  /** Start from an empty table instead of the built-in one. */
  replaceDefaults?: boolean;
}

/**
 * @example
 * const normalizer = createConceptNormalizer({ concepts: { 'customer relationship management': ['crm'] } });
 * normalizer.normalize('How does AI help B2B CRM?');
 * // "how does artificial intelligence help business to business customer relationship management"
 */
export function createConceptNormalizer(options: ConceptNormalizerOptions = {}): ConceptNormalizer {
  const table = { ...(options.replaceDefaults === true ? {} : defaultConcepts), ...(options.concepts ?? {}) };
  // Phrase (as tokens) → canonical tokens; matched longest first.
  const phrases = new Map<string, string[]>();
  let longest = 1;
  for (const [canonical, forms] of Object.entries(table)) {
    const target = splitWords(canonical);
    for (const form of [canonical, ...forms]) {
      const words = splitWords(form);
      if (words.length === 0) continue;
      phrases.set(words.join(' '), target);
      longest = Math.max(longest, words.length);
    }
  }
  const tokenize = (text: string): string[] => {
    const words = splitWords(text);
    const out: string[] = [];
    for (let index = 0; index < words.length;) {
      let matched = false;
      for (let length = Math.min(longest, words.length - index); length >= 1; length--) {
        const target = phrases.get(words.slice(index, index + length).join(' '));
        if (target !== undefined) {
          out.push(...target);
          index += length;
          matched = true;
          break;
        }
      }
      if (!matched) out.push(words[index++] as string);
    }
    return out;
  };
  return { tokenize, normalize: (text) => tokenize(text).join(' ') };
}

/**
 * Lower-cased words: letters and digits; apostrophes inside words and dots/commas inside numbers are
 * kept; dots between single letters (`u.s.`) are joined; hyphens split.
 */
function splitWords(text: string): string[] {
  const lowered = text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[\u2018\u2019]/g, "'")
    // "a.i." / "u.s.a." → "ai" / "usa"
    .replace(/\b(?:\p{L}\.){2,}/gu, (match) => match.replaceAll('.', ' ').replaceAll(' ', '') + ' ');
  return lowered.match(/\d+(?:[.,]\d+)*|\p{L}+(?:'\p{L}+)?|\p{N}+/gu) ?? [];
}
