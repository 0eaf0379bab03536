/** How a model group spreads calls over its deployments. */
export const balancingStrategies = ['ordered', 'weighted', 'least-busy', 'lowest-latency'] as const;
export type BalancingStrategy = (typeof balancingStrategies)[number];

/** Live per-deployment figures the balancer reads: calls in flight and a latency EWMA. */
export interface DeploymentStats {
  begin(deployment: string): void;
  end(deployment: string): void;
  /** Feeds one successful call's latency into the EWMA. */
  observeLatency(deployment: string, latencyMs: number): void;
  inFlight(deployment: string): number;
  /** The EWMA of successful latencies, undefined before the first. */
  latencyMs(deployment: string): number | undefined;
}

interface Figures {
  inFlight: number;
  latency: number | undefined;
}

/**
 * Per-deployment figures for the balancer. `alpha` weighs the newest sample of the EWMA.
 *
 * @example
 * const stats = createDeploymentStats();
 * stats.begin('gpt-eu'); stats.observeLatency('gpt-eu', 420); stats.end('gpt-eu');
 */
export function createDeploymentStats(options: { alpha?: number } = {}): DeploymentStats {
  const alpha = options.alpha ?? 0.3;
  const figures = new Map<string, Figures>();
  function get(deployment: string): Figures {
    let found = figures.get(deployment);
    if (found === undefined) {
      found = { inFlight: 0, latency: undefined };
      figures.set(deployment, found);
    }
    return found;
  }
  return {
    begin(deployment) {
      get(deployment).inFlight += 1;
    },
    end(deployment) {
      const found = get(deployment);
      found.inFlight = Math.max(0, found.inFlight - 1);
    },
    observeLatency(deployment, latencyMs) {
      const found = get(deployment);
      found.latency =
        found.latency === undefined ? latencyMs : alpha * latencyMs + (1 - alpha) * found.latency;
    },
    inFlight: (deployment) => figures.get(deployment)?.inFlight ?? 0,
    latencyMs: (deployment) => figures.get(deployment)?.latency,
  };
}

/**
 * Orders a group's deployments for one call; the pipeline tries them in that order (skipping
 * open breakers), so the order is also the fallback chain.
 *
 * - `ordered`: as configured (the same array, no allocation).
 * - `weighted`: a random order drawn by weight (a deployment with weight 3 comes first three
 *   times as often as one with weight 1); weight 0 comes last.
 * - `least-busy`: fewest calls in flight first.
 * - `lowest-latency`: lowest latency EWMA first; a deployment with no sample yet is tried first,
 *   so each gets measured.
 *
 * Ties keep the configured order.
 *
 * @example
 * orderDeployments(group.deployments, 'weighted', { stats, random: Math.random, weightOf: (d) => d.weight ?? 1 });
 */
export function orderDeployments<T extends { id: string }>(
  candidates: readonly T[],
  strategy: BalancingStrategy,
  context: { stats: DeploymentStats; random: () => number; weightOf: (candidate: T) => number },
): readonly T[] {
  if (strategy === 'ordered' || candidates.length < 2) return candidates;
  const { stats } = context;
  if (strategy === 'least-busy') return sortStable(candidates, (candidate) => stats.inFlight(candidate.id));
  if (strategy === 'lowest-latency')
    return sortStable(candidates, (candidate) => stats.latencyMs(candidate.id) ?? -1);
  return drawByWeight(candidates, context.weightOf, context.random);
}

function sortStable<T>(candidates: readonly T[], score: (candidate: T) => number): T[] {
  return candidates
    .map((candidate, index) => ({ candidate, index, score: score(candidate) }))
    .sort((left, right) => left.score - right.score || left.index - right.index)
    .map((entry) => entry.candidate);
}

function drawByWeight<T>(
  candidates: readonly T[],
  weightOf: (candidate: T) => number,
  random: () => number,
): T[] {
  const pool = candidates.map((candidate) => ({ candidate, weight: Math.max(0, weightOf(candidate)) }));
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, entry) => sum + entry.weight, 0);
    let index = 0;
    if (total > 0) {
      let point = random() * total;
      index = pool.findIndex((entry) => (point -= entry.weight) < 0);
      if (index === -1) index = pool.length - 1;
    }
    const [picked] = pool.splice(index, 1);
    if (picked !== undefined) out.push(picked.candidate);
  }
  return out;
}
