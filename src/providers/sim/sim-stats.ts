/** How many requests ended a given way, for one endpoint and model. */
export interface SimCounter {
  /** `openai.chat`, `openai.embeddings`, `anthropic.messages`, `gemini.generateContent`… */
  endpoint: string;
  model: string;
  /** `ok`, `rate_limited`, `overloaded`, `timeout`, `stream_cut`, `unauthenticated`… */
  outcome: string;
  count: number;
}

export interface SimStats {
  total: number;
  /** Requests being answered right now (a `timeout` fault stays in flight until closed). */
  inFlight: number;
  counters: SimCounter[];
}

/** The request counters of one sim server. */
export interface SimStatsRecorder {
  record(endpoint: string, model: string, outcome: string): void;
  started(): void;
  finished(): void;
  snapshot(): SimStats;
  reset(): void;
}

export function createSimStats(): SimStatsRecorder {
  let counters = new Map<string, SimCounter>();
  let total = 0;
  let inFlight = 0;
  return {
    record(endpoint, model, outcome) {
      total++;
      const key = `${endpoint}\u0000${model}\u0000${outcome}`;
      const counter = counters.get(key);
      if (counter === undefined) counters.set(key, { endpoint, model, outcome, count: 1 });
      else counter.count++;
    },
    started: () => void inFlight++,
    finished: () => void inFlight--,
    snapshot: () => ({
      total,
      inFlight,
      counters: [...counters.values()].map((counter) => ({ ...counter })),
    }),
    reset() {
      counters = new Map();
      total = 0;
    },
  };
}

/**
 * Sums the counters matching a filter.
 *
 * @example
 * countSimRequests(sim.stats(), { model: 'gpt-4o-mini', outcome: 'overloaded' }); // 1: it was not retried
 */
export function countSimRequests(
  stats: SimStats,
  filter: { endpoint?: string; model?: string; outcome?: string } = {},
): number {
  let sum = 0;
  for (const counter of stats.counters) {
    if (filter.endpoint !== undefined && counter.endpoint !== filter.endpoint) continue;
    if (filter.model !== undefined && counter.model !== filter.model) continue;
    if (filter.outcome !== undefined && counter.outcome !== filter.outcome) continue;
    sum += counter.count;
  }
  return sum;
}
