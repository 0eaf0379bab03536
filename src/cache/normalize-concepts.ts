/**
 * Concept normalisation before embedding: case, punctuation and a synonym/abbreviation table, so
 * that "What is AI in B2B?" and "what is artificial intelligence in business-to-business" embed
 * alike. Each table row is a canonical phrase and the forms that mean the same.
 *
 * Only what is unambiguous is rewritten, because two requests normalised alike can be served one
 * another's answer. How a form is written says how it matches:
 *
 * - a form with a capital letter matches only as written: `US` is the country, `us` the pronoun;
 *   `ML` is machine learning, `ml` a millilitre;
 * - a form with dots between single letters matches only with its dots: `e.g.` and `i.e.`, never
 *   the words `eg` or `ie`; `U.S.` (and `U.S` at the end of a sentence);
 * - a form with an apostrophe matches only with it: `won't` and `can't`, never the words `wont` and
 *   `cant`;
 * - any other (lower-case) form matches in any case: `b2b`, `B2B`.
 */
export type ConceptTable = Readonly<Record<string, readonly string[]>>;

/** The built-in table; extend it with `createConceptNormalizer({ concepts })`. */
export const defaultConcepts: ConceptTable = {
  'artificial intelligence': ['ai', 'a.i.'],
  'machine learning': ['ML'],
  'large language model': ['llm'],
  'large language models': ['llms'],
  'natural language processing': ['nlp'],
  'business to business': ['b2b', 'business-to-business'],
  'business to consumer': ['b2c', 'business-to-consumer'],
  'application programming interface': ['api'],
  'frequently asked questions': ['faq', 'faqs'],
  'as soon as possible': ['asap'],
  'for example': ['e.g.', 'for instance'],
  'that is': ['i.e.'],
  'united states': ['US', 'USA', 'U.S.', 'U.S.A.', 'united states of america'],
  'united kingdom': ['UK', 'U.K.'],
  versus: ['vs'],
  please: ['pls', 'plz'],
  information: ['info'],
  'do not': ["don't"],
  'does not': ["doesn't"],
  'is not': ["isn't"],
  'can not': ["can't", 'cannot'],
  'will not': ["won't"],
  'what is': ["what's"],
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

/** One word of a text or of a table form. */
interface Word {
  /** As written, apostrophes straightened; a dotted abbreviation without its dots (`U.S.` → `US`). */
  text: string;
  /** Lower case. */
  lower: string;
  /** Written with dots between single letters (`e.g.`, `U.S.`). */
  dotted: boolean;
}

/** How one word of a table form matches a word of the text. */
interface FormWord {
  /** Compared with the text word as written (the form has a capital) or in lower case. */
  value: string;
  caseSensitive: boolean;
  dotted: boolean;
}

/**
 * @example
 * const normalizer = createConceptNormalizer({ concepts: { 'customer relationship management': ['crm'] } });
 * normalizer.normalize('How does AI help B2B CRM?');
 * // "how does artificial intelligence help business to business customer relationship management"
 */
export function createConceptNormalizer(options: ConceptNormalizerOptions = {}): ConceptNormalizer {
  const table = { ...(options.replaceDefaults === true ? {} : defaultConcepts), ...(options.concepts ?? {}) };
  // Forms by their first word (lower case), longest first; each with its canonical tokens.
  const forms = new Map<string, Array<{ words: FormWord[]; target: string[] }>>();
  for (const [canonical, written] of Object.entries(table)) {
    const target = splitWords(canonical).map((word) => word.lower);
    for (const form of [canonical, ...written]) {
      const words = splitWords(form).map((word): FormWord => ({
        caseSensitive: /\p{Lu}/u.test(word.text),
        value: /\p{Lu}/u.test(word.text) ? word.text : word.lower,
        dotted: word.dotted,
      }));
      const first = words[0];
      if (first === undefined) continue;
      const key = first.value.toLowerCase();
      const list = forms.get(key) ?? [];
      list.push({ words, target });
      list.sort((a, b) => b.words.length - a.words.length);
      forms.set(key, list);
    }
  }
  const tokenize = (text: string): string[] => {
    const words = splitWords(text);
    const out: string[] = [];
    for (let index = 0; index < words.length;) {
      const word = words[index] as Word;
      const match = forms
        .get(word.lower)
        ?.find((form) => form.words.every((formWord, offset) => matches(formWord, words[index + offset])));
      if (match === undefined) {
        out.push(word.lower);
        index += 1;
      } else {
        out.push(...match.target);
        index += match.words.length;
      }
    }
    return out;
  };
  return { tokenize, normalize: (text) => tokenize(text).join(' ') };
}

function matches(form: FormWord, word: Word | undefined): boolean {
  if (word === undefined || word.dotted !== form.dotted) return false;
  return form.caseSensitive ? word.text === form.value : word.lower === form.value;
}

/**
 * The words of a text: letters and digits; apostrophes inside words and dots/commas inside numbers
 * are kept; dots between single letters (`u.s.`, `e.g`) make one dotted word; hyphens split; a
 * currency sign is a word of its own (`$5` is not `€5`).
 */
function splitWords(text: string): Word[] {
  const prepared = text.normalize('NFKC').replace(/[\u2018\u2019]/g, "'");
  const words: Word[] = [];
  const pattern =
    /(?<![\p{L}\p{N}])(?:\p{L}\.)+\p{L}(?![\p{L}\p{N}])\.?|\d+(?:[.,]\d+)*|\p{L}+(?:'\p{L}+)?|\p{N}+|\p{Sc}/gu;
  for (const [match] of prepared.matchAll(pattern)) {
    const dotted = /^\p{L}\./u.test(match);
    const written = dotted ? match.replaceAll('.', '') : match;
    words.push({ text: written, lower: written.toLowerCase(), dotted });
  }
  return words;
}
