import { duplicateVerifierModel } from './duplicate-verifier-model.ts';
import type { VerifierModel, VerifierTreeNode } from './verifier-model.ts';
import type { ConceptNormalizer } from './normalize-concepts.ts';
import {
  analyzeText,
  jaccard,
  ruleMismatch,
  type GuardVerdict,
  type PrecisionGuard,
  type RuleReason,
  type TextAnalysis,
} from './precision-guard.ts';

/**
 * The learned duplicate verifier: a small gradient-boosted tree ensemble over features of a pair
 * (the embedder's cosine, word, bigram and character overlaps, words only one side has,
 * number/negation/entity mismatches) that scores how likely two requests ask the same thing.
 * Trained on the STS-B training split only by bench/semantic-cache/train-verifier.ts, which writes
 * the model into duplicate-verifier-model.ts; the product never reads the data set.
 */

/** Rule mismatches that refuse a pair whatever its score. */
const vetoes: ReadonlySet<RuleReason> = new Set<RuleReason>(['numbers', 'units', 'negation']);

/** The features, in the order the model indexes them. */
export const verifierFeatureNames = [
  'cosine',
  'contentJaccard',
  'tokenJaccard',
  'bigramJaccard',
  'charTrigramJaccard',
  'unmatchedMore',
  'unmatchedLess',
  'contentWordsFewer',
  'lengthRatio',
  'numbersDiffer',
  'negationDiffers',
  'entitiesDiffer',
] as const;

export type VerifierFeatureName = (typeof verifierFeatureNames)[number];

export type { VerifierModel, VerifierTreeNode } from './verifier-model.ts';

export interface DuplicateVerifierOptions {
  /** Least score (0–1) to accept; defaults to the model's chosen operating point. */
  minScore?: number;
  model?: VerifierModel;
}

export interface DuplicateVerifier extends PrecisionGuard {
  /**
   * Probability-like score (0–1) that the pair is a duplicate; 0 when their numbers, units or
   * negations differ (those rules are not left to the model).
   */
  score(request: string, candidate: string, similarity: number): number;
  /** The feature vector of a pair, in `verifierFeatureNames` order. */
  features(request: string, candidate: string, similarity: number): number[];
  readonly minScore: number;
}

/**
 * A `PrecisionGuard` that accepts a neighbour when the learned score reaches `minScore` and their
 * numbers, units and negations are the same (whatever `minScore`). It needs
 * the cosine similarity: without it (`check(a, b)`) it refuses, so a caller that forgets to pass
 * it loses hits, never precision.
 *
 * @example
 * const verifier = createDuplicateVerifier(createConceptNormalizer());
 * verifier.check('What is the capital of France?', 'What is the capital of Spain?', 0.93).ok; // false
 */
export function createDuplicateVerifier(
  normalizer: ConceptNormalizer,
  options: DuplicateVerifierOptions = {},
): DuplicateVerifier {
  const model = options.model ?? duplicateVerifierModel;
  if (model.features.join(',') !== verifierFeatureNames.join(','))
    throw new Error(
      'the duplicate verifier model was trained on other features: rerun bench/semantic-cache/train-verifier.ts',
    );
  const minScore = options.minScore ?? model.threshold;
  // Stored texts are checked again and again: keep their analysis.
  const analyses = new Map<string, TextAnalysis>();
  const analyze = (text: string): TextAnalysis => {
    let analysis = analyses.get(text);
    if (analysis === undefined) {
      analysis = analyzeText(text, normalizer);
      if (analyses.size >= 4096) analyses.delete(analyses.keys().next().value as string);
      analyses.set(text, analysis);
    }
    return analysis;
  };
  const features = (request: string, candidate: string, similarity: number) =>
    pairFeatures(analyze(request), analyze(candidate), similarity);
  const scoreAnalysed = (a: TextAnalysis, b: TextAnalysis, similarity: number) => {
    const rule = ruleMismatch(a, b);
    // The model weighs a differing number, unit or negation as one feature among others and can
    // outvote it ("with food" / "without food" scored as duplicates): those rules decide alone.
    const vetoed = rule !== undefined && vetoes.has(rule);
    return { value: vetoed ? 0 : scoreFeatures(pairFeatures(a, b, similarity), model), rule, vetoed };
  };
  return {
    minScore,
    features,
    score: (request, candidate, similarity) =>
      scoreAnalysed(analyze(request), analyze(candidate), similarity).value,
    check: (request, candidate, similarity) => {
      const a = analyze(request);
      const b = analyze(candidate);
      const overlap = jaccard(a.content, b.content);
      if (similarity === undefined) return { ok: false, reason: 'verifier', overlap };
      const { value, rule, vetoed } = scoreAnalysed(a, b, similarity);
      const verdict: GuardVerdict = { ok: !vetoed && value >= minScore, overlap, score: value };
      if (!verdict.ok) verdict.reason = rule ?? 'verifier';
      return verdict;
    },
  };
}

/**
 * The model's probability for a feature vector.
 *
 * @example
 * scoreFeatures(features, duplicateVerifierModel); // 0.97
 */
export function scoreFeatures(features: readonly number[], model: VerifierModel): number {
  let logOdds = model.bias;
  for (const tree of model.trees) logOdds += evaluateTree(tree, features);
  return 1 / (1 + Math.exp(-logOdds));
}

function evaluateTree(node: VerifierTreeNode, features: readonly number[]): number {
  let current = node;
  while (typeof current !== 'number')
    current = (features[current[0]] as number) < current[1] ? current[2] : current[3];
  return current;
}

/**
 * The features of a pair of analysed texts (see `verifierFeatureNames`).
 *
 * @example
 * pairFeatures(analyzeText(a, normalizer), analyzeText(b, normalizer), 0.91);
 */
export function pairFeatures(a: TextAnalysis, b: TextAnalysis, similarity: number): number[] {
  const unmatchedA = countMissing(a.content, b.content);
  const unmatchedB = countMissing(b.content, a.content);
  const tokensA = new Set(a.stemmed);
  const tokensB = new Set(b.stemmed);
  const lengthA = a.stemmed.length;
  const lengthB = b.stemmed.length;
  const values: Record<VerifierFeatureName, number> = {
    cosine: similarity,
    contentJaccard: jaccard(a.content, b.content),
    tokenJaccard: jaccard(tokensA, tokensB),
    bigramJaccard: jaccard(bigrams(a.stemmed), bigrams(b.stemmed)),
    charTrigramJaccard: jaccard(charTrigrams(a.stemmedText), charTrigrams(b.stemmedText)),
    unmatchedMore: Math.max(unmatchedA, unmatchedB),
    unmatchedLess: Math.min(unmatchedA, unmatchedB),
    contentWordsFewer: Math.min(a.content.size, b.content.size),
    lengthRatio:
      Math.max(lengthA, lengthB) === 0 ? 1 : Math.min(lengthA, lengthB) / Math.max(lengthA, lengthB),
    numbersDiffer: ruleFlag(a, b, 'numbers'),
    negationDiffers: a.negations === b.negations ? 0 : 1,
    entitiesDiffer: ruleFlag(a, b, 'entities'),
  };
  return verifierFeatureNames.map((name) => values[name]);
}

function ruleFlag(a: TextAnalysis, b: TextAnalysis, rule: 'numbers' | 'entities'): number {
  if (rule === 'numbers') return ruleMismatch(a, b) === 'numbers' ? 1 : 0;
  // Entities are checked after numbers and negations: compare with those made equal.
  return ruleMismatch({ ...a, numbers: b.numbers, units: b.units, negations: b.negations }, b) === 'entities'
    ? 1
    : 0;
}

/** Content words of `own` that `other` lacks. */
function countMissing(own: ReadonlySet<string>, other: ReadonlySet<string>): number {
  let missing = 0;
  for (const word of own) if (!other.has(word)) missing += 1;
  return missing;
}

function bigrams(tokens: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let index = 1; index < tokens.length; index++)
    out.add(`${tokens[index - 1] as string} ${tokens[index] as string}`);
  return out;
}

// Long prompts would make the character comparison slow; their start says enough.
const maxCharacters = 2000;

function charTrigrams(text: string): Set<string> {
  const out = new Set<string>();
  const end = Math.min(text.length, maxCharacters);
  for (let index = 0; index + 3 <= end; index++) out.add(text.slice(index, index + 3));
  return out;
}
