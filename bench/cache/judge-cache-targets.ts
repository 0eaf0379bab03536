import type { Verdict } from '../gateway-overhead/judge-targets.ts';

/** Issue 4's targets for the caches. */
export const cacheTargets = {
  /** An exact hit through the gateway may add less than this, at p99, over calling the upstream directly. */
  exactHitAddedP99Ms: 0.5,
  /** A semantic lookup (embedding excluded) must take less than this at p99 … */
  semanticLookupP99Ms: 2,
  /** … with this many entries in one namespace. */
  semanticLookupEntries: 100_000,
} as const;

/** One timed path of the exact-cache part: its p99 and how many of its requests failed. */
export interface PathSummary {
  p99: number;
  failures: number;
}

export interface ExactHitVerdict {
  /** The hit's p99 minus the direct upstream call's p99, when both were measured. */
  addedP99Ms: number | undefined;
  verdict: Verdict;
}

/**
 * An exact hit through the gateway against the same request sent straight to the upstream (no
 * gateway) in the same run: what a hit costs over answering at all. Comparing with a gateway that
 * still calls the upstream could not fail (a hit skips that call). A path with a failed request
 * fails the target whatever its speed.
 *
 * @example
 * judgeExactHit({ p99: 1.6, failures: 0 }, { p99: 1.5, failures: 0 }); // { addedP99Ms: 0.1, verdict: 'PASS' }
 */
export function judgeExactHit(
  hit: PathSummary | undefined,
  direct: PathSummary | undefined,
): ExactHitVerdict {
  if (hit === undefined || direct === undefined) return { addedP99Ms: undefined, verdict: 'NOT JUDGED' };
  const addedP99Ms = hit.p99 - direct.p99;
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
