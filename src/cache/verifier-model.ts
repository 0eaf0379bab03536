/** The shape of the learned duplicate verifier (trained by bench/semantic-cache/train-verifier.ts). */

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
