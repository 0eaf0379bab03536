import type { Verdict } from '../gateway-overhead/judge-targets.ts';
import { median } from '../support/index.ts';

/** Issue 4's targets for the caches. */
export const cacheTargets = {
  /** An exact hit through the gateway may add less than this, at p99, over calling the upstream directly. */
  exactHitAddedP99Ms: 0.5,
  /** A semantic lookup (embedding excluded) must take less than this at p99 … */
  semanticLookupP99Ms: 2,
  /** … with this many entries in one namespace. */
  semanticLookupEntries: 100_000,
} as const;

/** One timed path of the exact-cache part: its p99 in each round and how many of its requests failed. */
export interface PathSummary {
  roundP99s: readonly number[];
  failures: number;
}

export interface ExactHitVerdict {
  /**
   * The median over rounds of the hit's p99 minus the direct upstream call's p99 in the same round
   * (a stall of the shared machine in one round moves one pair, not the verdict).
   */
  addedP99Ms: number | undefined;
  verdict: Verdict;
}

/**
 * An exact hit through the gateway against the same request sent straight to the upstream (no
 * gateway) in the same rounds: what a hit costs over answering at all. Comparing with a gateway that
 * still calls the upstream could not fail (a hit skips that call). A path with a failed request
 * fails the target whatever its speed.
 *
 * @example
 * judgeExactHit({ roundP99s: [1.6, 1.7, 1.5], failures: 0 }, { roundP99s: [1.5, 1.5, 1.5], failures: 0 }); // { addedP99Ms: 0.1, verdict: 'PASS' } (about)
 */
export function judgeExactHit(
  hit: PathSummary | undefined,
  direct: PathSummary | undefined,
): ExactHitVerdict {
  const rounds = Math.min(hit?.roundP99s.length ?? 0, direct?.roundP99s.length ?? 0);
  if (hit === undefined || direct === undefined || rounds === 0)
    return { addedP99Ms: undefined, verdict: 'NOT JUDGED' };
  const addedP99Ms = median(
    Array.from({ length: rounds }, (_, round) => hit.roundP99s[round]! - direct.roundP99s[round]!),
  );
  const ok = hit.failures === 0 && direct.failures === 0 && addedP99Ms < cacheTargets.exactHitAddedP99Ms;
  return { addedP99Ms, verdict: ok ? 'PASS' : 'FAIL' };
}

/**
 * The semantic lookup target, judged only when the run measured the target's number of entries
 * (a quick run with fewer entries says nothing about it).
 *
 * @example
 * judgeSemanticLookup([{ entries: 100_000, hitP99Ms: 1.5, missP99Ms: 1.0 }]); // { p99Ms: 1.5, entries: 100000, verdict: 'PASS' }
 */
export function judgeSemanticLookup(
  rows: ReadonlyArray<{ entries: number; hitP99Ms: number; missP99Ms: number }>,
): { p99Ms: number | undefined; entries: number | undefined; verdict: Verdict } {
  const row = rows.find((candidate) => candidate.entries >= cacheTargets.semanticLookupEntries);
  if (row === undefined) return { p99Ms: undefined, entries: undefined, verdict: 'NOT JUDGED' };
  const p99Ms = Math.max(row.hitP99Ms, row.missP99Ms);
  return { p99Ms, entries: row.entries, verdict: p99Ms < cacheTargets.semanticLookupP99Ms ? 'PASS' : 'FAIL' };
}
