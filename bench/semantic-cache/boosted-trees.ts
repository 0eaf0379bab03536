// A small gradient-boosted tree learner (logistic loss, histogram splits, depth-limited trees) for
// the duplicate verifier. Written here rather than pulled in: it is ~150 lines and the product only
// needs the trees it produces (src/cache/duplicate-verifier.ts evaluates them).
import type { VerifierTreeNode } from '../../src/cache/duplicate-verifier.ts';

export interface BoostingParams {
  rounds: number;
  learningRate: number;
  maxDepth: number;
  /** Fewest samples in a leaf. */
  minLeaf: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Most candidate splits per feature (quantiles of the training values). */
  maxBins: number;
}

export const defaultBoostingParams: BoostingParams = {
  rounds: 250,
  learningRate: 0.05,
  maxDepth: 3,
  minLeaf: 20,
  lambda: 1,
  maxBins: 48,
};

export interface BoostedModel {
  bias: number;
  trees: VerifierTreeNode[];
}

/**
 * Fits trees to labels 0/1 by Newton boosting on the log loss.
 *
 * @example
 * const model = trainBoostedTrees(rows, labels, defaultBoostingParams);
 */
export function trainBoostedTrees(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  params: BoostingParams,
): BoostedModel {
  const count = rows.length;
  const featureCount = rows[0]?.length ?? 0;
  const splits = Array.from({ length: featureCount }, (_, feature) =>
    candidateSplits(
      rows.map((row) => row[feature] as number),
      params.maxBins,
    ),
  );
  // bins[feature][sample] = how many candidate splits are ≤ the value.
  const bins = splits.map((featureSplits, feature) =>
    Uint16Array.from(rows, (row) => upperBound(featureSplits, row[feature] as number)),
  );
  const positives = labels.reduce((sum, label) => sum + label, 0);
  const prior = Math.min(Math.max(positives / count, 1e-6), 1 - 1e-6);
  const bias = Math.log(prior / (1 - prior));
  const margins = new Float64Array(count).fill(bias);
  const gradients = new Float64Array(count);
  const hessians = new Float64Array(count);
  const trees: VerifierTreeNode[] = [];
  const all = Array.from({ length: count }, (_, index) => index);
  for (let round = 0; round < params.rounds; round++) {
    for (let index = 0; index < count; index++) {
      const probability = 1 / (1 + Math.exp(-(margins[index] as number)));
      gradients[index] = probability - (labels[index] as number);
      hessians[index] = Math.max(probability * (1 - probability), 1e-9);
    }
    const tree = grow(all, 0);
    trees.push(tree);
    for (let index = 0; index < count; index++)
      margins[index] = (margins[index] as number) + evaluate(tree, rows[index] as readonly number[]);
  }
  return { bias, trees };

  function grow(samples: number[], depth: number): VerifierTreeNode {
    let gradientSum = 0;
    let hessianSum = 0;
    for (const sample of samples) {
      gradientSum += gradients[sample] as number;
      hessianSum += hessians[sample] as number;
    }
    const leaf = round6((-gradientSum / (hessianSum + params.lambda)) * params.learningRate);
    if (depth >= params.maxDepth || samples.length < 2 * params.minLeaf) return leaf;
    const parentScore = (gradientSum * gradientSum) / (hessianSum + params.lambda);
    let best: { gain: number; feature: number; bin: number } | undefined;
    for (let feature = 0; feature < featureCount; feature++) {
      const featureSplits = splits[feature] as number[];
      if (featureSplits.length === 0) continue;
      const featureBins = bins[feature] as Uint16Array;
      const binCount = featureSplits.length + 1;
      const g = new Float64Array(binCount);
      const h = new Float64Array(binCount);
      const n = new Uint32Array(binCount);
      for (const sample of samples) {
        const bin = featureBins[sample] as number;
        g[bin] = (g[bin] as number) + (gradients[sample] as number);
        h[bin] = (h[bin] as number) + (hessians[sample] as number);
        n[bin] = (n[bin] as number) + 1;
      }
      let leftG = 0;
      let leftH = 0;
      let leftN = 0;
      // Split j sends bins 0..j-1 left (value < split j-1 in candidate order).
      for (let bin = 1; bin < binCount; bin++) {
        leftG += g[bin - 1] as number;
        leftH += h[bin - 1] as number;
        leftN += n[bin - 1] as number;
        const rightN = samples.length - leftN;
        if (leftN < params.minLeaf || rightN < params.minLeaf) continue;
        const rightG = gradientSum - leftG;
        const rightH = hessianSum - leftH;
        const gain =
          (leftG * leftG) / (leftH + params.lambda) +
          (rightG * rightG) / (rightH + params.lambda) -
          parentScore;
        if (gain > 1e-9 && (best === undefined || gain > best.gain)) best = { gain, feature, bin };
      }
    }
    if (best === undefined) return leaf;
    const featureBins = bins[best.feature] as Uint16Array;
    const left = samples.filter((sample) => (featureBins[sample] as number) < best.bin);
    const right = samples.filter((sample) => (featureBins[sample] as number) >= best.bin);
    const split = (splits[best.feature] as number[])[best.bin - 1] as number;
    return [best.feature, split, grow(left, depth + 1), grow(right, depth + 1)];
  }
}

/** Log-odds of one row. */
export function predictMargin(model: BoostedModel, row: readonly number[]): number {
  let margin = model.bias;
  for (const tree of model.trees) margin += evaluate(tree, row);
  return margin;
}

function evaluate(node: VerifierTreeNode, row: readonly number[]): number {
  let current = node;
  while (typeof current !== 'number')
    current = (row[current[0]] as number) < current[1] ? current[2] : current[3];
  return current;
}

/** Midpoints between distinct quantile values, rounded so the model file stays short. */
function candidateSplits(values: number[], maxBins: number): number[] {
  const distinct = [...new Set(values)].sort((x, y) => x - y);
  const picked =
    distinct.length <= maxBins
      ? distinct
      : Array.from(
          { length: maxBins },
          (_, index) => distinct[Math.floor(((index + 0.5) * distinct.length) / maxBins)] as number,
        );
  const out: number[] = [];
  for (let index = 1; index < picked.length; index++) {
    const split = round6(((picked[index - 1] as number) + (picked[index] as number)) / 2);
    if (split > (picked[index - 1] as number) && split <= (picked[index] as number) && split !== out.at(-1))
      out.push(split);
  }
  return out;
}

/** Number of splits ≤ value (so value < splits[bin] for the split at bin). */
function upperBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] as number) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function round6(value: number): number {
  return Number(value.toPrecision(6));
}
