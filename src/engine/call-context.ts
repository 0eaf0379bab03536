import { createId, createTraceId, type Clock, type TenantId } from '../core/index.ts';
import type { CacheControl } from '../cache/index.ts';
import type { Deadline } from '../resilience/index.ts';
import type { CacheStatus } from '../spec/index.ts';
import type { ModelGroup } from './model-catalog.ts';

/**
 * Everything about one call that is not its payload, resolved once at the engine's edge and
 * read (never re-derived) by every layer below: who it is for, which model group, which cache
 * directives, which time budget.
 */
export interface CallContext {
  /** Resolved at the edge (the caller's credentials, or the library's call options / default). */
  readonly tenantId: TenantId;
  readonly requestId: string;
  /** W3C trace id (32 hex characters). */
  readonly traceId: string;
  /** The step type this call serves (its resilience policy and cache rules), or null. */
  readonly stepType: string | null;
  /** The model group the request names, resolved once (404 naming `model` when unknown). */
  readonly group: ModelGroup;
  /** The cache directives, parsed once (400 naming the header or option when malformed). */
  readonly cacheControl: CacheControl;
  /** The caller's explicit time budget in ms (header or option); the policy's applies otherwise. */
  readonly deadlineMs: number | undefined;
  /** Extra headers sent upstream for this call only. */
  readonly upstreamHeaders: Readonly<Record<string, string>> | undefined;
  /**
   * Aborts when the caller aborts or, for a stream, when its consumer goes away: the one
   * cancellation signal every layer listens to.
   */
  readonly signal: AbortSignal | undefined;
  /** Milliseconds since the epoch, and the monotonic clock, when the call reached the engine. */
  readonly startedAt: number;
  readonly startedMonotonic: number;
  /** What the cache did before the call went on (set by the cache layer; `bypass` without one). */
  readonly cacheStatus: CacheStatus;
  /** The call's running deadline, started by the admission layer for the layers below it. */
  readonly deadline?: Deadline;
}

/** What the edge knows about a call before it enters the layers. */
export interface CallContextInput {
  tenantId: TenantId;
  group: ModelGroup;
  cacheControl: CacheControl;
  requestId?: string | undefined;
  traceId?: string | undefined;
  stepType?: string | undefined;
  deadlineMs?: number | undefined;
  upstreamHeaders?: Readonly<Record<string, string>> | undefined;
  signal?: AbortSignal | undefined;
}

/** Starts a call's context: ids are generated when the caller gave none. */
export function createCallContext(input: CallContextInput, clock: Clock): CallContext {
  return {
    tenantId: input.tenantId,
    requestId: input.requestId ?? createId('req'),
    traceId: input.traceId ?? createTraceId(),
    stepType: input.stepType ?? null,
    group: input.group,
    cacheControl: input.cacheControl,
    deadlineMs: input.deadlineMs,
    upstreamHeaders: input.upstreamHeaders,
    signal: input.signal,
    startedAt: clock.now(),
    startedMonotonic: clock.monotonic(),
    cacheStatus: 'bypass',
  };
}

/** The same call with some context changed (a layer hands this down; the caller's copy is untouched). */
export function withContext<Call extends { readonly context: CallContext }>(
  call: Call,
  changes: Partial<CallContext>,
): Call {
  return { ...call, context: { ...call.context, ...changes } };
}
