import type { Clock } from '../../core/index.ts';
import { createDeadline, type RateLimitReservation, type Resilience } from '../../resilience/index.ts';
import type { CallContext } from '../call-context.ts';
import { withContext } from '../call-context.ts';
import { estimateTokens } from '../estimate-tokens.ts';
import type { ModelCall, ModelLayer } from '../model.ts';

export interface AdmissionLayerDependencies {
  clock: Clock;
  resilience: Resilience;
}

/** What admission holds for a call until it ends. */
interface Admitted {
  call: ModelCall;
  /** Releases the tenant's slot and settles its token reservation with what the call used. */
  release(usedTokens: number): void;
}

/**
 * Admission: the call's deadline starts here (the caller's, the step type's or the default),
 * then the tenant's bulkhead and rate limit admit it, waiting in a fair queue (bounded by
 * `maxQueueMs` and the deadline) or refusing at once with 429, as configured. Everything taken
 * is given back when the answer ends, however it ends.
 */
export function createAdmissionLayer(dependencies: AdmissionLayerDependencies): ModelLayer {
  const { clock, resilience } = dependencies;
  const { bulkhead } = resilience;

  async function admit(call: ModelCall, streamed: boolean): Promise<Admitted> {
    const { context } = call;
    const deadline = createDeadline({
      clock,
      timeoutMs: resilience.deadlineFor(
        context.stepType ?? undefined,
        context.deadlineMs,
        streamed ? 'chatStream' : call.operation,
      ),
      signal: context.signal,
    });
    const key = `tenant:${context.tenantId}`;
    const tenants = resilience.tenants;
    const maxWaitMs = () =>
      tenants.overflow === 'reject' ? 0 : Math.min(tenants.maxQueueMs, deadline.remainingMs());
    let slot = false;
    let reservation: RateLimitReservation | null = null;
    const release = (usedTokens: number) => {
      deadline.dispose();
      if (slot) bulkhead.release(key);
      slot = false;
      reservation?.settle(usedTokens);
      reservation = null;
    };
    try {
      if (tenants.maxInFlight !== undefined) {
        await bulkhead.acquire(key, tenants.maxInFlight, { maxWaitMs: maxWaitMs(), signal: deadline.signal });
        slot = true;
      }
      if (tenants.limits !== undefined) {
        reservation = await resilience.rateLimiter.acquire(key, tenants.limits, estimateTokens(call), {
          maxWaitMs: maxWaitMs(),
          signal: deadline.signal,
        });
      }
    } catch (error) {
      release(0);
      throw error;
    }
    const admitted: Partial<CallContext> = { deadline };
    return { call: withContext(call, admitted), release };
  }

  return {
    name: 'admission',
    async generate(call, next) {
      const admitted = await admit(call, false);
      let usedTokens = 0;
      try {
        const answer = await next(admitted.call as typeof call);
        usedTokens = answer.meta.usage.inputTokens + answer.meta.usage.outputTokens;
        return answer;
      } finally {
        admitted.release(usedTokens);
      }
    },
    async stream(call, next) {
      const admitted = await admit(call, true);
      try {
        const stream = await next(admitted.call as typeof call);
        void stream.end.then(({ meta }) =>
          admitted.release(meta.usage.inputTokens + meta.usage.outputTokens),
        );
        return stream;
      } catch (error) {
        admitted.release(0);
        throw error;
      }
    },
  };
}
