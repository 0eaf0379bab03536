import type { CacheStatus, CallOperation, CallOutcome } from '../spec/index.ts';

export { cacheStatuses, callOperations, callOutcomes } from '../spec/index.ts';
export type { CacheStatus, CallOperation, CallOutcome } from '../spec/index.ts';

/**
 * One model call as the engine saw it: who asked, what ran where, tokens, time, cost and
 * outcome. One record per call, written off the hot path by a TelemetryRecorder.
 *
 * @example
 * const record: CallRecord = {
 *   id: createId('call'), time: clock.now(), tenantId: 'acme', requestId, traceId,
 *   operation: 'chat', stepType: null, modelGroup: 'fast', provider: 'openai',
 *   model: 'gpt-4o-mini', deployment: 'openai-mini', streamed: false,
 *   inputTokens: 120, outputTokens: 30, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0,
 *   latencyMs: 420, timeToFirstTokenMs: null, costUsd: 0.000036, cacheStatus: 'miss',
 *   outcome: 'success', errorCode: null, simulated: false,
 * };
 */
export interface CallRecord {
  /** `createId('call')`. */
  id: string;
  /** Milliseconds since the epoch, when the call started. */
  time: number;
  tenantId: string;
  requestId: string;
  traceId: string;
  operation: CallOperation;
  stepType: string | null;
  /** What the client asked for. */
  modelGroup: string;
  /** Adapter name of the deployment used (null when no call was made). */
  provider: string | null;
  /** Upstream model name. */
  model: string | null;
  /** Deployment id. */
  deployment: string | null;
  streamed: boolean;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  /** Null when the price is unknown. */
  costUsd: number | null;
  cacheStatus: CacheStatus;
  /** On a cache hit: the cost (USD) of the original call, avoided by this one; null otherwise. */
  savedCostUsd?: number | null;
  /** On a cache hit: the latency (ms) of the original call, avoided by this one; null otherwise. */
  savedLatencyMs?: number | null;
  outcome: CallOutcome;
  /** PipewrightError code. */
  errorCode: string | null;
  /** True when the deployment is the sim provider. */
  simulated: boolean;
}
