import type { Clock } from '../../core/index.ts';
import { createRandom, hashString } from './create-random.ts';
import { sampleDistribution, type Distribution } from './parse-distribution.ts';
import type { FaultKind, FaultSpec } from './parse-fault-header.ts';
import type { EndpointKind, SimConfig, SimRule, WireFormat } from './sim-config.ts';
import type { RateLimitInfo } from './sim-error.ts';

/** What the sim remembers between requests to decide faults reproducibly. */
export interface FaultState {
  config: SimConfig;
  seed: number;
  clock: Clock;
  /** `clock.monotonic()` when the server started: outage windows count from here. */
  startedAt: number;
  /** Per model and endpoint: how many requests came, so the k-th request's fate is fixed by the seed. */
  sequences: Map<string, number>;
  /** Per `times=N` header and identical request: how many times the fault has hit. */
  hits: Map<string, number>;
  /** Per rule and model: the current one-minute rate-limit window. */
  windows: Map<string, { window: number; requests: number; tokens: number }>;
}

/** The facts about a request that faults depend on. */
export interface RequestFacts {
  endpoint: EndpointKind;
  format: WireFormat;
  model: string;
  stream: boolean;
  /** Estimated tokens (prompt + max output) for token rate limits. */
  tokens: number;
  /** The parsed `x-sim-fault` header and the identity of this request for `times`. */
  header?: { spec: FaultSpec; requestKey: string };
}

/** What will happen to a request. */
export interface FaultPlan {
  fault: FaultKind | undefined;
  latencyMs: number;
  ttftMs: number;
  /** Undefined: spread `latencyMs − ttftMs` evenly over the stream's events. */
  chunkDelayMs: number | undefined;
  contextWindow: number | undefined;
  /** Set when a rule has limits: sent as rate-limit headers, and on the 429. */
  rateLimit: RateLimitInfo | undefined;
}

const transientFaults: FaultKind[] = [
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503 },
  { kind: 'status', status: 429, retryAfterMs: 1000 },
];

/**
 * Decides the fault and the delays of one request: the header's fault (until `times` runs out),
 * else an outage window, else a rate limit, else a seeded draw against the failure rate and the
 * rule's fault probabilities. Delays come from the header, else the chosen fault, else the rule.
 */
export function resolveFaultPlan(state: FaultState, facts: RequestFacts): FaultPlan {
  const ruleIndex = (state.config.rules ?? []).findIndex((rule) => ruleMatches(rule, facts));
  const rule = ruleIndex === -1 ? undefined : state.config.rules?.[ruleIndex];
  const sequenceKey = `${facts.model}|${facts.endpoint}`;
  const sequence = state.sequences.get(sequenceKey) ?? 0;
  state.sequences.set(sequenceKey, sequence + 1);
  const random = createRandom(hashString(`${sequenceKey}|${sequence}`, state.seed));
  const draw = random.next();
  const elapsed = state.clock.monotonic() - state.startedAt;

  let chosen: FaultSpec | undefined;
  let rateLimit: RateLimitInfo | undefined;
  const header = facts.header;
  if (header?.spec.fault !== undefined && headerFaultApplies(state, header.spec, header.requestKey)) {
    chosen = header.spec;
  }
  if (chosen === undefined && rule !== undefined) {
    const outage = (rule.outages ?? []).find((window) => elapsed >= window.fromMs && elapsed < window.toMs);
    if (outage !== undefined) chosen = outage.fault ?? { fault: { kind: 'status', status: 503 } };
  }
  if (rule?.limits !== undefined) {
    const limited = applyRateLimit(
      state,
      rule,
      `${ruleIndex}|${facts.model}`,
      elapsed,
      facts.tokens,
      chosen === undefined,
    );
    rateLimit = limited.info;
    if (chosen === undefined && limited.exceeded)
      chosen = { fault: { kind: 'status', status: 429, retryAfterMs: limited.info.requestResetMs } };
  }
  if (chosen === undefined && rule !== undefined) chosen = drawFault(rule, draw);

  const pickDelay = (key: 'latency' | 'ttft' | 'chunkDelay'): Distribution | undefined =>
    header?.spec[key] ?? chosen?.[key] ?? rule?.[key];
  const latency = pickDelay('latency');
  const ttft = pickDelay('ttft');
  const chunkDelay = pickDelay('chunkDelay');
  return {
    fault: chosen?.fault,
    latencyMs: latency === undefined ? 0 : sampleDistribution(latency, random),
    ttftMs: ttft === undefined ? 0 : sampleDistribution(ttft, random),
    chunkDelayMs: chunkDelay === undefined ? undefined : sampleDistribution(chunkDelay, random),
    contextWindow: rule?.contextWindow,
    rateLimit,
  };
}

function ruleMatches(rule: SimRule, facts: RequestFacts): boolean {
  const match = rule.match;
  if (match === undefined) return true;
  if (match.model !== undefined && !match.model.regex.test(facts.model)) return false;
  if (match.endpoint !== undefined && match.endpoint !== facts.endpoint) return false;
  if (match.format !== undefined && match.format !== facts.format) return false;
  if (match.stream !== undefined && match.stream !== facts.stream) return false;
  return true;
}

function headerFaultApplies(state: FaultState, spec: FaultSpec, requestKey: string): boolean {
  if (spec.times === undefined) return true;
  const hits = state.hits.get(requestKey) ?? 0;
  if (hits >= spec.times) return false;
  if (state.hits.size > 10_000) state.hits.clear(); // bounded: old keys are from finished tests
  state.hits.set(requestKey, hits + 1);
  return true;
}

function drawFault(rule: SimRule, draw: number): FaultSpec | undefined {
  const failureRate = rule.failureRate ?? 0;
  if (draw < failureRate) {
    const index = Math.min(
      transientFaults.length - 1,
      Math.floor((draw / failureRate) * transientFaults.length),
    );
    return { fault: transientFaults[index] as FaultKind };
  }
  let threshold = failureRate;
  for (const item of rule.faults ?? []) {
    threshold += item.probability;
    if (draw < threshold) return item.fault;
  }
  return undefined;
}

function applyRateLimit(
  state: FaultState,
  rule: SimRule,
  key: string,
  elapsed: number,
  tokens: number,
  count: boolean,
): { exceeded: boolean; info: RateLimitInfo } {
  const window = Math.floor(elapsed / 60_000);
  let current = state.windows.get(key);
  if (current === undefined || current.window !== window) {
    current = { window, requests: 0, tokens: 0 };
    state.windows.set(key, current);
  }
  // Without a configured limit, headers still report a generous one, as providers always do.
  const requestLimit = rule.limits?.requestsPerMinute ?? 1_000_000;
  const tokenLimit = rule.limits?.tokensPerMinute ?? 100_000_000;
  const exceeded = current.requests + 1 > requestLimit || current.tokens + tokens > tokenLimit;
  if (count && !exceeded) {
    current.requests++;
    current.tokens += tokens;
  }
  const resetMs = Math.max(1, Math.ceil((window + 1) * 60_000 - elapsed));
  return {
    exceeded,
    info: {
      requestLimit,
      requestRemaining: Math.max(0, requestLimit - current.requests),
      requestResetMs: resetMs,
      tokenLimit,
      tokenRemaining: Math.max(0, tokenLimit - current.tokens),
      tokenResetMs: resetMs,
    },
  };
}
