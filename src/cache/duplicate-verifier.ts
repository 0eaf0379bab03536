import { duplicateVerifierModel } from './duplicate-verifier-model.ts';
import { duplicateVerifierVectorModel } from './duplicate-verifier-vector-model.ts';
import type { ConceptNormalizer } from './normalize-concepts.ts';
import { analyzeText, jaccard, ruleMismatch, type GuardVerdict, type PairVectors, type PrecisionGuard, type TextAnalysis } from './precision-guard.ts';
import { siameseMargin, type SiameseLayer } from './siamese-margin.ts';

/**
 * The learned duplicate verifier: a small gradient-boosted tree ensemble over features of a pair
 * (the embedder's cosine, word, bigram and character overlaps, words only one side has,
 * number/negation/entity mismatches) that scores how likely two requests ask the same thing.
 * Trained on the STS-B training split only by bench/semantic-cache/train-verifier.ts, which writes
 * the model into duplicate-verifier-model.ts; the product never reads the data set.
 *
 * When the caller also hands over both embeddings, a second model (duplicate-verifier-vector-model.ts)
 * adds one feature: the log-odds of a logistic layer over the two vectors (siamese-margin.ts).
 */

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

/** The vector model's features: the lexical ones, then the siamese layer's log-odds. */
export const vectorVerifierFeatureNames = [...verifierFeatureNames, 'siameseMargin'] as const;

/** A tree node: `[feature index, split, below split, at or above split]`, or a leaf's value. */
export type VerifierTreeNode = number | readonly [number, number, VerifierTreeNode, VerifierTreeNode];

export interface VerifierModel {
  /** Feature names the trees were trained on, in order (must equal `verifierFeatureNames`). */
  features: readonly string[];
  /** Log-odds before the trees. */
  bias: number;
  trees: readonly VerifierTreeNode[];
  /** The score threshold chosen on the training split (out-of-fold) for the default operating point. */
  threshold: number;
  /** The cosine pre-filter chosen with it. */
  minSimilarity: number;
}

/** A verifier model over `vectorVerifierFeatureNames`, with its siamese layer. */
export interface VectorVerifierModel extends VerifierModel {
  siamese: SiameseLayer;
}

export interface DuplicateVerifierOptions {
  /** Least score (0–1) to accept without vectors; defaults to the model's chosen operating point. */
  minScore?: number;
  model?: VerifierModel;
  /** The model used when both vectors are passed; `null` never uses them. */
  vectorModel?: VectorVerifierModel | null;
  /** Least score (0–1) to accept with vectors; defaults to the vector model's operating point. */
  minVectorScore?: number;
}

export interface DuplicateVerifier extends PrecisionGuard {
  /** Probability-like score (0–1) that the pair is a duplicate (by the vector model when `vectors` are given). */
  score(request: string, candidate: string, similarity: number, vectors?: PairVectors): number;
  /** The feature vector of a pair: `verifierFeatureNames` order, plus `siameseMargin` when the vector model is used. */
  features(request: string, candidate: string, similarity: number, vectors?: PairVectors): number[];
  readonly minScore: number;
  readonly minVectorScore: number;
}

/**
 * A `PrecisionGuard` that accepts a neighbour when the learned score reaches `minScore`. It needs
 * the cosine similarity: without it (`check(a, b)`) it refuses, so a caller that forgets to pass
 * it loses hits, never precision.
 *
 * @example
 * const verifier = createDuplicateVerifier(createConceptNormalizer());
 * verifier.check('What is the capital of France?', 'What is the capital of Spain?', 0.93).ok; // false
 */
export function createDuplicateVerifier(normalizer: ConceptNormalizer, options: DuplicateVerifierOptions = {}): DuplicateVerifier {
  const model = options.model ?? duplicateVerifierModel;
  const vectorModel = options.vectorModel === undefined ? duplicateVerifierVectorModel : options.vectorModel;
  if (model.features.join(',') !== verifierFeatureNames.join(',') || (vectorModel !== null && vectorModel.features.join(',') !== vectorVerifierFeatureNames.join(','))) {
    throw new Error('the duplicate verifier model was trained on other features: rerun bench/semantic-cache/train-verifier.ts');
  }
  const minScore = options.minScore ?? model.threshold;
  const minVectorScore = options.minVectorScore ?? vectorModel?.threshold ?? 1.01;
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
  // The vector model when both vectors fit its layer, else the lexical one.
  const judge = (a: TextAnalysis, b: TextAnalysis, similarity: number, vectors: PairVectors | undefined) => {
    const lexical = pairFeatures(a, b, similarity);
    const margin = vectors === undefined || vectorModel === null ? undefined : siameseMargin(vectors.request, vectors.candidate, vectorModel.siamese);
    if (margin === undefined || vectorModel === null) return { features: lexical, model, cut: minScore };
    return { features: [...lexical, margin], model: vectorModel as VerifierModel, cut: minVectorScore };
  };
  const features = (request: string, candidate: string, similarity: number, vectors?: PairVectors) => judge(analyze(request), analyze(candidate), similarity, vectors).features;
  const score = (request: string, candidate: string, similarity: number, vectors?: PairVectors) => {
    const judged = judge(analyze(request), analyze(candidate), similarity, vectors);
    return scoreFeatures(judged.features, judged.model);
  };
  return {
    minScore,
    minVectorScore,
    features,
    score,
    check: (request, candidate, similarity, vectors) => {
      const a = analyze(request);
      const b = analyze(candidate);
      const overlap = jaccard(a.content, b.content);
      if (similarity === undefined) return { ok: false, reason: 'verifier', overlap };
      const judged = judge(a, b, similarity, vectors);
      const value = scoreFeatures(judged.features, judged.model);
      const verdict: GuardVerdict = { ok: value >= judged.cut, overlap, score: value };
      if (!verdict.ok) verdict.reason = ruleMismatch(a, b) ?? 'verifier';
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
  while (typeof current !== 'number') current = (features[current[0]] as number) < current[1] ? current[2] : current[3];
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
    lengthRatio: Math.max(lengthA, lengthB) === 0 ? 1 : Math.min(lengthA, lengthB) / Math.max(lengthA, lengthB),
    numbersDiffer: ruleFlag(a, b, 'numbers'),
    negationDiffers: a.negations === b.negations ? 0 : 1,
    entitiesDiffer: ruleFlag(a, b, 'entities'),
  };
  return verifierFeatureNames.map((name) => values[name]);
}

function ruleFlag(a: TextAnalysis, b: TextAnalysis, rule: 'numbers' | 'entities'): number {
  if (rule === 'numbers') return ruleMismatch(a, b) === 'numbers' ? 1 : 0;
  // Entities are checked after numbers and negations: compare with those made equal.
  return ruleMismatch({ ...a, numbers: b.numbers, negations: b.negations }, b) === 'entities' ? 1 : 0;
}

/** Content words of `own` that `other` lacks. */
function countMissing(own: ReadonlySet<string>, other: ReadonlySet<string>): number {
  let missing = 0;
  for (const word of own) if (!other.has(word)) missing += 1;
  return missing;
}

function bigrams(tokens: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let index = 1; index < tokens.length; index++) out.add(`${tokens[index - 1] as string} ${tokens[index] as string}`);
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
