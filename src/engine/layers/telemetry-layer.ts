import { toPipewrightError, type Clock, type PipewrightError } from '../../core/index.ts';
import { emptyUsage, type CallOperation } from '../../spec/index.ts';
import { buildCallRecord, type Metrics, type TelemetryRecorder } from '../../telemetry/index.ts';
import type { CallAttempt, CallMeta } from '../engine-types.ts';
import type { ModelCatalog } from '../model-catalog.ts';
import type { ModelCall, ModelLayer } from '../model.ts';

export interface TelemetryLayerDependencies {
  catalog: ModelCatalog;
  clock: Clock;
  recorder?: TelemetryRecorder | undefined;
  metrics?: Metrics | undefined;
}

/** Attempts that were skipped (breaker open, deployment full or over its limit): no call was made. */
const skippedCodes: ReadonlySet<string> = new Set([
  'gateway.circuit_open',
  'gateway.overloaded',
  'gateway.rate_limited',
]);

/**
 * Telemetry: one call record per call that reached the engine, whatever answered it (a
 * deployment, a cache, an identical call in flight) and however it ended, counted in the metrics
 * and queued for the store. Outermost, so it sees each call exactly once, with its final meta.
 */
export function createTelemetryLayer(dependencies: TelemetryLayerDependencies): ModelLayer {
  const { catalog, clock, recorder, metrics } = dependencies;
  if (recorder === undefined && metrics === undefined) return { name: 'telemetry' };
  const deployments = new Map(
    catalog.list().flatMap((group) => group.deployments.map((deployment) => [deployment.id, deployment])),
  );

  function record(
    call: ModelCall,
    streamed: boolean,
    meta: CallMeta | null,
    error: PipewrightError | null,
  ): void {
    const { context } = call;
    const last = meta === null ? lastCalled(error) : undefined;
    const callRecord = buildCallRecord({
      operation: call.operation as CallOperation,
      streamed,
      startedAt: context.startedAt,
      tenantId: context.tenantId,
      requestId: context.requestId,
      traceId: context.traceId,
      stepType: context.stepType,
      modelGroup: context.group.name,
      provider: meta?.provider ?? last?.provider ?? null,
      model: meta?.model ?? last?.model ?? null,
      deployment: meta?.deployment ?? last?.id ?? null,
      simulated: meta?.simulated ?? last?.provider === 'sim',
      usage: meta?.usage ?? emptyUsage,
      latencyMs: meta?.latencyMs ?? clock.monotonic() - context.startedMonotonic,
      timeToFirstTokenMs: meta?.timeToFirstTokenMs ?? null,
      costUsd: meta?.costUsd ?? null,
      cacheStatus: meta?.cacheStatus ?? context.cacheStatus,
      savedCostUsd: meta?.savedCostUsd ?? null,
      savedLatencyMs: meta?.savedLatencyMs ?? null,
      errorCode: error?.code ?? null,
    });
    metrics?.observeCall(callRecord);
    recorder?.record(callRecord);
  }

  /** The deployment a failed call reached last, from the attempts its error lists. */
  function lastCalled(error: PipewrightError | null) {
    const attempts = error?.details?.['attempts'] as CallAttempt[] | undefined;
    const attempt = attempts?.findLast((candidate) => !skippedCodes.has(candidate.errorCode ?? ''));
    return attempt === undefined ? undefined : deployments.get(attempt.deployment);
  }

  return {
    name: 'telemetry',
    async generate(call, next) {
      try {
        const answer = await next(call);
        record(call, false, answer.meta, null);
        return answer;
      } catch (error) {
        const failure = toPipewrightError(error);
        record(call, false, null, failure);
        throw failure;
      }
    },
    async stream(call, next) {
      try {
        const stream = await next(call);
        void stream.end.then(({ meta, error }) => record(call, true, meta, error));
        return stream;
      } catch (error) {
        const failure = toPipewrightError(error);
        record(call, true, null, failure);
        throw failure;
      }
    },
  };
}
