import { createId } from '../core/index.ts';
import { isServedFromCache, type CacheStatus, type CallOperation, type TokenUsage } from '../spec/index.ts';
import type { CallRecord } from './call-record.ts';

/** What is known about a finished call, from which its one call record is built. */
export interface CallFacts {
  operation: CallOperation;
  streamed: boolean;
  /** Milliseconds since the epoch, when the call started. */
  startedAt: number;
  tenantId: string;
  requestId: string;
  traceId: string;
  stepType: string | null;
  modelGroup: string;
  /** The deployment that was called last (null when none was, or when a cache answered). */
  provider: string | null;
  model: string | null;
  deployment: string | null;
  simulated: boolean;
  usage: TokenUsage;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  costUsd: number | null;
  cacheStatus: CacheStatus;
  savedCostUsd: number | null;
  savedLatencyMs: number | null;
  /** The PipewrightError code the call failed with; null when it succeeded. */
  errorCode: string | null;
}

/**
 * The one place a call record is made. A call answered from a cache (or by joining an identical
 * call in flight) made no upstream call of its own: it carries no provider, deployment, tokens or
 * cost, so the GenAI upstream metrics never count it; its model and what it saved stay.
 *
 * @example
 * recorder.record(buildCallRecord({ operation: 'chat', streamed: false, startedAt, tenantId, ... }));
 */
export function buildCallRecord(facts: CallFacts): CallRecord {
  const fromCache = isServedFromCache(facts.cacheStatus);
  const usage = fromCache ? undefined : facts.usage;
  return {
    id: createId('call'),
    time: facts.startedAt,
    tenantId: facts.tenantId,
    requestId: facts.requestId,
    traceId: facts.traceId,
    operation: facts.operation,
    stepType: facts.stepType,
    modelGroup: facts.modelGroup,
    provider: fromCache ? null : facts.provider,
    model: facts.model,
    deployment: fromCache ? null : facts.deployment,
    streamed: facts.streamed,
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cachedInputTokens: usage?.cachedInputTokens ?? 0,
    cacheWriteTokens: usage?.cacheWriteTokens ?? 0,
    reasoningTokens: usage?.reasoningTokens ?? 0,
    latencyMs: facts.latencyMs,
    timeToFirstTokenMs: fromCache ? null : facts.timeToFirstTokenMs,
    costUsd: fromCache ? 0 : facts.costUsd,
    cacheStatus: facts.cacheStatus,
    savedCostUsd: facts.savedCostUsd,
    savedLatencyMs: facts.savedLatencyMs,
    outcome: facts.errorCode === null ? 'success' : 'error',
    errorCode: facts.errorCode,
    simulated: facts.simulated,
  };
}
