// Candidate pair features and models tried against the shipped duplicate verifier
// (verifier-experiments.ts runs them): word-alignment features over per-word USE vectors, a
// logistic "siamese" layer over the two sentence vectors, and the ranking measures used to
// compare them. Bench-only: none of this ships unless it beats the shipped verifier.

import { createRandom } from '../../src/providers/sim/index.ts';

/** Names of `alignmentFeatures`, in order. */
export const alignmentFeatureNames = [
  'alignMeanLow',
  'alignMeanHigh',
  'alignWorst',
  'alignSecondWorst',
  'below050More',
  'below070More',
  'below085Both',
] as const;

/**
 * Soft word alignment: each content word's best cosine to the other text's content words. A word
 * swap ("man" / "woman", "guitar" / "flute") leaves one word per side whose best match is weak.
 * Word vectors are unit length (the embedder normalises them).
 *
 * @example
 * alignmentFeatures([vMan, vPlay, vGuitar], [vWoman, vPlay, vGuitar]); // [0.9, 0.9, 0.62, 0.62, 0, 1, 2]
 */
export function alignmentFeatures(
  wordsA: readonly Float32Array[],
  wordsB: readonly Float32Array[],
): number[] {
  const bestA = bestMatches(wordsA, wordsB);
  const bestB = bestMatches(wordsB, wordsA);
  const meanA = mean(bestA);
  const meanB = mean(bestB);
  const both = [...bestA, ...bestB].sort((x, y) => x - y);
  const below = (values: readonly number[], limit: number) => values.filter((value) => value < limit).length;
  return [
    Math.min(meanA, meanB),
    Math.max(meanA, meanB),
    both[0] ?? 1,
    both[1] ?? 1,
    Math.max(below(bestA, 0.5), below(bestB, 0.5)),
    Math.max(below(bestA, 0.7), below(bestB, 0.7)),
    below(both, 0.85),
  ];
}

function bestMatches(own: readonly Float32Array[], other: readonly Float32Array[]): number[] {
  return own.map((word) =>
    other.length === 0 ? 0 : Math.max(...other.map((candidate) => dot(word, candidate))),
  );
}

/**
 * The sum of the vectors of words with no close counterpart on the other side (best cosine below
 * `limit`), plus their count: a logistic model over it learns which kinds of words, added or
 * dropped, break a paraphrase.
 */
export function unmatchedWordsVector(
  wordsA: readonly Float32Array[],
  wordsB: readonly Float32Array[],
  limit = 0.8,
): Float64Array {
  const dimensions = wordsA[0]?.length ?? wordsB[0]?.length ?? 0;
  const out = new Float64Array(dimensions + 1);
  const add = (own: readonly Float32Array[], other: readonly Float32Array[]) => {
    bestMatches(own, other).forEach((best, index) => {
      if (best >= limit) return;
      const word = own[index] as Float32Array;
      for (let dimension = 0; dimension < dimensions; dimension++)
        out[dimension] = (out[dimension] as number) + 3 * (word[dimension] as number);
      out[dimensions] = (out[dimensions] as number) + 1;
    });
  };
  add(wordsA, wordsB);
  add(wordsB, wordsA);
  return out;
}

/**
 * The siamese input of a pair of unit sentence vectors: |a − b| and a ∘ b, scaled so their values
 * are of order 1 (the USE components are about ±0.05).
 *
 * @example
 * siameseInput(Float32Array.of(0.6, 0.8), Float32Array.of(0.8, 0.6)); // [2, 2, 9.6, 9.6]
 */
export function siameseInput(a: Float32Array, b: Float32Array): Float64Array {
  const dimensions = a.length;
  const out = new Float64Array(2 * dimensions);
  for (let index = 0; index < dimensions; index++) {
    out[index] = Math.abs((a[index] as number) - (b[index] as number)) * 10;
    out[dimensions + index] = (a[index] as number) * (b[index] as number) * 20;
  }
  return out;
}

export interface LogisticModel {
  weights: Float64Array;
  bias: number;
}

/**
 * L2-regularised logistic regression by full-batch Adam. Targets may be soft (0–1).
 *
 * @example
 * const model = trainLogistic(rows, labels, { l2: 1e-3 });
 * logisticMargin(model, row); // log-odds
 */
export function trainLogistic(
  rows: readonly Float64Array[],
  targets: readonly number[],
  options: { l2: number; epochs?: number; learningRate?: number },
): LogisticModel {
  const dimensions = rows[0]?.length ?? 0;
  const epochs = options.epochs ?? 300;
  const rate = options.learningRate ?? 0.05;
  const weights = new Float64Array(dimensions + 1); // the last one is the bias
  const first = new Float64Array(dimensions + 1);
  const second = new Float64Array(dimensions + 1);
  const gradient = new Float64Array(dimensions + 1);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    gradient.fill(0);
    rows.forEach((row, index) => {
      const error = 1 / (1 + Math.exp(-marginOf(weights, row))) - (targets[index] as number);
      for (let dimension = 0; dimension < dimensions; dimension++)
        gradient[dimension] = (gradient[dimension] as number) + error * (row[dimension] as number);
      gradient[dimensions] = (gradient[dimensions] as number) + error;
    });
    for (let dimension = 0; dimension <= dimensions; dimension++) {
      const penalty = dimension < dimensions ? options.l2 * (weights[dimension] as number) : 0;
      const value = (gradient[dimension] as number) / rows.length + penalty;
      first[dimension] = 0.9 * (first[dimension] as number) + 0.1 * value;
      second[dimension] = 0.999 * (second[dimension] as number) + 0.001 * value * value;
      const step =
        (first[dimension] as number) /
        (1 - 0.9 ** epoch) /
        (Math.sqrt((second[dimension] as number) / (1 - 0.999 ** epoch)) + 1e-8);
      weights[dimension] = (weights[dimension] as number) - rate * step;
    }
  }
  return { weights: weights.slice(0, dimensions), bias: weights[dimensions] as number };
}

function marginOf(weightsWithBias: Float64Array, row: Float64Array): number {
  let margin = weightsWithBias[row.length] as number;
  for (let dimension = 0; dimension < row.length; dimension++)
    margin += (weightsWithBias[dimension] as number) * (row[dimension] as number);
  return margin;
}

/** The model's log-odds for one row. */
export function logisticMargin(model: LogisticModel, row: Float64Array): number {
  let margin = model.bias;
  for (let dimension = 0; dimension < row.length; dimension++)
    margin += (model.weights[dimension] as number) * (row[dimension] as number);
  return margin;
}

/**
 * Out-of-fold margins for the training rows (each row scored by a model that never saw it), so a
 * tree model stacked on top learns how far the margin is to be trusted on unseen pairs.
 */
export function outOfFoldMargins(
  rows: readonly Float64Array[],
  targets: readonly number[],
  folds: readonly number[],
  options: { l2: number },
): number[] {
  const out = new Array<number>(rows.length).fill(0);
  const foldCount = Math.max(...folds) + 1;
  for (let fold = 0; fold < foldCount; fold++) {
    const inside = rows.map((_, index) => index).filter((index) => folds[index] !== fold);
    const model = trainLogistic(
      inside.map((index) => rows[index] as Float64Array),
      inside.map((index) => targets[index] as number),
      options,
    );
    rows.forEach((row, index) => {
      if (folds[index] === fold) out[index] = logisticMargin(model, row);
    });
  }
  return out;
}

/** Fold numbers 0..count-1: round robin for seed 0, else a seeded shuffle. */
export function assignFolds(size: number, count: number, seed: number): number[] {
  if (seed === 0) return Array.from({ length: size }, (_, index) => index % count);
  const random = createRandom(seed).next;
  return Array.from({ length: size }, () => Math.floor(random() * count));
}

export interface RankedPair {
  score: number;
  label: number;
}

export interface CurveSummary {
  /** Most recall at precision ≥ the target (at least 30 pairs served), and the score cut that gives it. */
  recallAtPrecision: number;
  cut: number;
  /** Most precision at recall ≥ the target. */
  precisionAtRecall: number;
  /** Most recall at precision ≥ 90% (at least 30 served): less noisy than the 95% point. */
  recallAt90: number;
  averagePrecision: number;
}

/**
 * The points of a ranking that the report compares. `positives` counts every duplicate of the
 * split, also those the pre-filter dropped, so recall is over the whole split.
 */
export function summarizeRanking(
  pairs: readonly RankedPair[],
  positives: number,
  targets: { precision: number; recall: number },
): CurveSummary {
  const sorted = [...pairs].sort((x, y) => y.score - x.score);
  const summary: CurveSummary = {
    recallAtPrecision: 0,
    cut: Number.POSITIVE_INFINITY,
    precisionAtRecall: 0,
    recallAt90: 0,
    averagePrecision: 0,
  };
  let truePositives = 0;
  let precisionSum = 0;
  sorted.forEach((pair, index) => {
    truePositives += pair.label;
    if (pair.label === 1) precisionSum += truePositives / (index + 1);
    // Cut only between distinct scores.
    if (index + 1 < sorted.length && (sorted[index + 1] as RankedPair).score === pair.score) return;
    const precision = truePositives / (index + 1);
    const recall = truePositives / positives;
    if (index + 1 >= 30 && precision >= targets.precision && recall > summary.recallAtPrecision) {
      summary.recallAtPrecision = recall;
      summary.cut = pair.score;
    }
    if (index + 1 >= 30 && precision >= 0.9) summary.recallAt90 = Math.max(summary.recallAt90, recall);
    if (recall >= targets.recall) summary.precisionAtRecall = Math.max(summary.precisionAtRecall, precision);
  });
  summary.averagePrecision = positives === 0 ? 0 : precisionSum / positives;
  return summary;
}

/**
 * What a scorer that knows the human score up to Gaussian noise of `noise` (on the 0–5 scale)
 * would reach: the ceiling a model of a given quality can hope for, averaged over `repeats` draws.
 */
export function noisyOracle(
  scores: readonly number[],
  threshold: number,
  noise: number,
  targets: { precision: number; recall: number },
  repeats = 20,
): { pearson: number; recallAtPrecision: number; precisionAtRecall: number } {
  const random = createRandom(7).next;
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const labels = scores.map((score) => (score >= threshold ? 1 : 0));
  const positives = labels.reduce<number>((sum, label) => sum + label, 0);
  const spread = Math.sqrt(mean(scores.map((score) => score * score)) - mean(scores) ** 2);
  let recall = 0;
  let precision = 0;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const summary = summarizeRanking(
      scores.map((score, index) => ({ score: score + noise * gaussian(), label: labels[index] as number })),
      positives,
      targets,
    );
    recall += summary.recallAtPrecision / repeats;
    precision += summary.precisionAtRecall / repeats;
  }
  // Correlation of the noisy score with the true one.
  return {
    pearson: spread / Math.sqrt(spread * spread + noise * noise),
    recallAtPrecision: recall,
    precisionAtRecall: precision,
  };
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += (a[index] as number) * (b[index] as number);
  return sum;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 1 : values.reduce((sum, value) => sum + value, 0) / values.length;
}
