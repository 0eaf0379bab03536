import { ProviderError, type Clock, type PipewrightError, type ProviderErrorKind } from '../core/index.ts';

export const circuitStates = ['closed', 'half_open', 'open'] as const;
export type CircuitState = (typeof circuitStates)[number];

/** When a deployment's breaker opens and how it recovers. */
export interface BreakerPolicy {
  /** Opens after this many failures in a row. */
  consecutiveFailures: number;
  /** …or when at least this share (0..1) of the calls in the window failed… */
  failureRate: number;
  /** …once the window holds at least this many calls. */
  minimumCalls: number;
  /** The rolling window of the failure rate, in ms. */
  windowMs: number;
  /** How long it stays open when the provider gave no retry-after; doubles on each re-open. */
  openMs: number;
  /** The longest open period of its own (the growth stops here); a provider's retry-after is honoured in full. */
  maxOpenMs: number;
  /** Calls let through at once while half-open; that many successes close it again. */
  halfOpenProbes: number;
}

export const defaultBreakerPolicy: Readonly<BreakerPolicy> = {
  consecutiveFailures: 5,
  failureRate: 0.5,
  minimumCalls: 10,
  windowMs: 60_000,
  openMs: 5_000,
  // Short enough that a recovered deployment is probed within seconds of an outage ending.
  maxOpenMs: 10_000,
  halfOpenProbes: 1,
};

/**
 * The longest rest a provider's hint (retry-after, a limit's reset time) can impose: honoured in
 * full up to a day, so a nonsensical date cannot take a deployment out for years.
 */
export const maxHonouredPauseMs = 86_400_000;

/** One state change, for logs. */
export interface BreakerTransition {
  deployment: string;
  from: CircuitState;
  to: CircuitState;
  reason: string;
  /** For transitions to open: how long until the first probe (null: until the configuration changes). */
  openForMs?: number | null;
  /** Epoch ms. */
  at: number;
}

/** What `/admin/breakers` and `/metrics` show for one deployment. */
export interface BreakerSnapshot {
  deployment: string;
  state: CircuitState;
  /** Why it last changed state. */
  reason: string | null;
  consecutiveFailures: number;
  windowCalls: number;
  windowFailures: number;
  /** How many times it opened since it was last closed. */
  opens: number;
  /** Ms until a probe is allowed (0 when closed or half-open); null when out until its configuration changes. */
  retryInMs: number | null;
}

export type BreakerAdmission =
  | { admitted: true; probe: boolean }
  | {
      admitted: false;
      retryInMs: number | null;
      reason: string;
      /** Resting because the provider said so (a 429's retry-after, a limit with nothing left): not broken. */
      paused?: true | undefined;
      /** Set when it is out because the provider refused its credentials: the error to surface, in its own class (401/403). */
      refusal?: ProviderError | undefined;
    };

export interface CircuitBreakers {
  /** Declares a deployment. A changed configuration hash lifts a 401/403 exclusion. */
  register(deployment: string, policy: BreakerPolicy, configHash: string): void;
  admit(deployment: string): BreakerAdmission;
  recordSuccess(deployment: string, probe: boolean): void;
  /** Counts the failure when it says something about the deployment; otherwise only releases a probe. */
  recordFailure(deployment: string, error: PipewrightError, probe: boolean): void;
  /** Ends an admitted call without an outcome (aborted by the caller, cut short by the deadline). */
  release(deployment: string, probe: boolean): void;
  /**
   * Rests a healthy deployment for `ms` because the provider said so (a retry-after, a limit
   * with nothing remaining): open, then closed again by itself, no probe. Never shortens a rest.
   */
  pause(deployment: string, ms: number, reason: string): void;
  state(deployment: string): CircuitState;
  snapshot(): BreakerSnapshot[];
}

/** Failures about the request, not the deployment: they never move a breaker. */
const neutralKinds: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'invalid_request',
  'context_length_exceeded',
  'content_filtered',
  'aborted',
]);
const credentialKinds: ReadonlySet<ProviderErrorKind> = new Set<ProviderErrorKind>([
  'authentication',
  'permission_denied',
]);

/** Whether a failure says something about the deployment (and so counts toward opening its breaker). */
export function countsAgainstDeployment(error: PipewrightError): boolean {
  return ProviderError.isProviderError(error) && !neutralKinds.has(error.kind);
}

const bucketCount = 10;

interface Breaker {
  policy: BreakerPolicy;
  configHash: string;
  state: CircuitState;
  reason: string | null;
  consecutiveFailures: number;
  opens: number;
  /** Monotonic ms; Infinity while out for bad credentials. */
  openUntil: number;
  /** Open only because a 429 asked us to wait: closes by itself when the wait is over, no probe needed. */
  paused: boolean;
  /** While out for refused credentials: what the caller is told instead of "circuit open". */
  refusal: ProviderError | undefined;
  probesInFlight: number;
  probeSuccesses: number;
  lastProbeAt: number;
  bucketMs: number;
  bucketIds: Float64Array;
  bucketCalls: Uint32Array;
  bucketFailures: Uint32Array;
}

/**
 * Circuit breakers, one per deployment: closed → open on `consecutiveFailures` failures in a
 * row or a `failureRate` over a rolling window (once `minimumCalls` were made) → half-open after
 * the open period (the provider's retry-after when it gave one, else `openMs`, doubling on each
 * re-open, up to `maxOpenMs`) → closed after `halfOpenProbes` successful probes. A 429 with a
 * retry-after pauses the deployment for exactly that long, however long (open, then closed again
 * without a probe: the provider said when to come back; capped only at `maxHonouredPauseMs`). A 401/403 keeps the deployment out until its configuration (key, URL,
 * headers) changes. Every transition goes to `onTransition`.
 *
 * @example
 * const breakers = createCircuitBreakers({ clock, onTransition: (t) => logger.warn(t, 'circuit breaker') });
 * breakers.register('gpt-eu', defaultBreakerPolicy, hashOfDeploymentConfig);
 * const admission = breakers.admit('gpt-eu');
 * if (admission.admitted) { try { await call(); breakers.recordSuccess('gpt-eu', admission.probe); } catch (e) { breakers.recordFailure('gpt-eu', e, admission.probe); } }
 */
// eslint-disable-next-line max-lines-per-function -- a factory: seventeen functions (recordFailure 69 lines, admit 35, the rest under 25) sharing the breaker table
export function createCircuitBreakers(options: {
  clock: Clock;
  onTransition?: ((transition: BreakerTransition) => void) | undefined;
}): CircuitBreakers {
  const { clock, onTransition } = options;
  const breakers = new Map<string, Breaker>();

  function create(policy: BreakerPolicy, configHash: string): Breaker {
    return {
      policy,
      configHash,
      state: 'closed',
      reason: null,
      consecutiveFailures: 0,
      opens: 0,
      openUntil: 0,
      paused: false,
      refusal: undefined,
      probesInFlight: 0,
      probeSuccesses: 0,
      lastProbeAt: 0,
      bucketMs: Math.max(1, policy.windowMs / bucketCount),
      bucketIds: new Float64Array(bucketCount).fill(-1),
      bucketCalls: new Uint32Array(bucketCount),
      bucketFailures: new Uint32Array(bucketCount),
    };
  }

  function get(deployment: string): Breaker {
    let breaker = breakers.get(deployment);
    if (breaker === undefined) {
      breaker = create(defaultBreakerPolicy, '');
      breakers.set(deployment, breaker);
    }
    return breaker;
  }

  function transition(
    deployment: string,
    breaker: Breaker,
    to: CircuitState,
    reason: string,
    openForMs?: number | null,
  ): void {
    const from = breaker.state;
    breaker.state = to;
    breaker.reason = reason;
    onTransition?.({
      deployment,
      from,
      to,
      reason,
      ...(openForMs === undefined ? {} : { openForMs }),
      at: clock.now(),
    });
  }

  function countCall(breaker: Breaker, failed: boolean): void {
    const id = Math.floor(clock.monotonic() / breaker.bucketMs);
    const slot = id % bucketCount;
    if (breaker.bucketIds[slot] !== id) {
      breaker.bucketIds[slot] = id;
      breaker.bucketCalls[slot] = 0;
      breaker.bucketFailures[slot] = 0;
    }
    breaker.bucketCalls[slot] = (breaker.bucketCalls[slot] ?? 0) + 1;
    if (failed) breaker.bucketFailures[slot] = (breaker.bucketFailures[slot] ?? 0) + 1;
  }

  function windowCounts(breaker: Breaker): { calls: number; failures: number } {
    const current = Math.floor(clock.monotonic() / breaker.bucketMs);
    let calls = 0;
    let failures = 0;
    for (let slot = 0; slot < bucketCount; slot++) {
      const id = breaker.bucketIds[slot] ?? -1;
      if (id > current - bucketCount && id <= current) {
        calls += breaker.bucketCalls[slot] ?? 0;
        failures += breaker.bucketFailures[slot] ?? 0;
      }
    }
    return { calls, failures };
  }

  function clearWindow(breaker: Breaker): void {
    breaker.bucketIds.fill(-1);
    breaker.consecutiveFailures = 0;
  }

  function open(
    deployment: string,
    breaker: Breaker,
    reason: string,
    retryAfterMs: number | undefined,
  ): void {
    const { policy } = breaker;
    const grown = policy.openMs * 2 ** Math.min(breaker.opens, 30);
    // The provider's own hint is honoured in full; only our growth stops at maxOpenMs.
    const period =
      retryAfterMs === undefined
        ? Math.min(policy.maxOpenMs, grown)
        : Math.min(maxHonouredPauseMs, retryAfterMs);
    // A re-open never shortens an open period already promised (litellm#40130).
    breaker.openUntil = Math.max(
      breaker.state === 'open' ? breaker.openUntil : 0,
      clock.monotonic() + period,
    );
    breaker.opens += 1;
    breaker.paused = false;
    breaker.probesInFlight = 0;
    breaker.probeSuccesses = 0;
    transition(deployment, breaker, 'open', reason, breaker.openUntil - clock.monotonic());
  }

  function pause(deployment: string, breaker: Breaker, ms: number, reason: string): void {
    // Exactly as long as the provider said (not cut to maxOpenMs: coming back early only collects 429s).
    const until = clock.monotonic() + Math.min(maxHonouredPauseMs, ms);
    if (breaker.state === 'open') {
      // Extends a rest (never shortens one), and never turns a real open into a pause.
      breaker.openUntil = Math.max(breaker.openUntil, until);
      return;
    }
    if (breaker.state !== 'closed') return;
    breaker.paused = true;
    breaker.openUntil = until;
    transition(deployment, breaker, 'open', reason, breaker.openUntil - clock.monotonic());
  }

  function retryIn(breaker: Breaker): number | null {
    if (breaker.state !== 'open') return 0;
    if (breaker.openUntil === Infinity) return null;
    return Math.max(0, breaker.openUntil - clock.monotonic());
  }

  return {
    register(deployment, policy, configHash) {
      const existing = breakers.get(deployment);
      if (existing !== undefined && existing.configHash === configHash) {
        existing.policy = policy;
        return;
      }
      const fresh = create(policy, configHash);
      breakers.set(deployment, fresh);
      if (existing !== undefined && existing.state !== 'closed') {
        fresh.state = existing.state;
        transition(deployment, fresh, 'closed', 'configuration changed');
      }
    },

    admit(deployment) {
      const breaker = get(deployment);
      if (breaker.state === 'closed') return { admitted: true, probe: false };
      const now = clock.monotonic();
      if (breaker.state === 'open') {
        if (now < breaker.openUntil)
          return {
            admitted: false,
            retryInMs: retryIn(breaker),
            reason: breaker.reason ?? 'open',
            ...(breaker.openUntil === Infinity ? { refusal: breaker.refusal } : {}),
            ...(breaker.paused ? { paused: true } : {}),
          };
        if (breaker.paused) {
          breaker.paused = false;
          transition(deployment, breaker, 'closed', "the provider's retry-after has passed");
          return { admitted: true, probe: false };
        }
        transition(deployment, breaker, 'half_open', 'open period over: probing');
      }
      // Half-open: a bounded number of probes; a probe that never reported frees its slot after openMs.
      if (
        breaker.probesInFlight >= breaker.policy.halfOpenProbes &&
        now - breaker.lastProbeAt < breaker.policy.openMs
      ) {
        return {
          admitted: false,
          retryInMs: Math.max(0, breaker.lastProbeAt + breaker.policy.openMs - now),
          reason: 'half-open: a probe is in flight',
        };
      }
      if (breaker.probesInFlight >= breaker.policy.halfOpenProbes) breaker.probesInFlight = 0;
      breaker.probesInFlight += 1;
      breaker.lastProbeAt = now;
      return { admitted: true, probe: true };
    },

    recordSuccess(deployment, probe) {
      const breaker = get(deployment);
      if (probe && breaker.state === 'half_open') {
        breaker.probesInFlight = Math.max(0, breaker.probesInFlight - 1);
        breaker.probeSuccesses += 1;
        if (breaker.probeSuccesses >= breaker.policy.halfOpenProbes) {
          clearWindow(breaker);
          breaker.opens = 0;
          breaker.openUntil = 0;
          transition(deployment, breaker, 'closed', `${breaker.probeSuccesses} probe(s) succeeded`);
        }
        return;
      }
      if (breaker.state !== 'closed') return;
      breaker.consecutiveFailures = 0;
      countCall(breaker, false);
    },

    recordFailure(deployment, error, probe) {
      const breaker = get(deployment);
      if (!countsAgainstDeployment(error)) {
        if (probe && breaker.state === 'half_open')
          breaker.probesInFlight = Math.max(0, breaker.probesInFlight - 1);
        return;
      }
      const providerError = error as ProviderError;
      if (credentialKinds.has(providerError.kind)) {
        breaker.openUntil = Infinity;
        breaker.refusal = createCredentialsRefusedError(deployment, providerError);
        breaker.paused = false;
        breaker.opens += 1;
        breaker.probesInFlight = 0;
        if (breaker.state !== 'open' || breaker.reason?.startsWith('credentials') !== true) {
          transition(
            deployment,
            breaker,
            'open',
            `credentials refused (${error.code}): out until its configuration changes`,
            null,
          );
        }
        return;
      }
      if (breaker.state === 'half_open') {
        if (probe) open(deployment, breaker, `probe failed (${error.code})`, providerError.retryAfterMs);
        return;
      }
      if (breaker.state === 'open') {
        // More 429s during a pause extend it to the latest hint.
        if (
          breaker.paused &&
          providerError.kind === 'rate_limited' &&
          providerError.retryAfterMs !== undefined
        )
          pause(deployment, breaker, providerError.retryAfterMs, '');
        return;
      }
      if (providerError.kind === 'rate_limited' && providerError.retryAfterMs !== undefined) {
        // The provider said exactly when to come back: pause until then instead of counting a failure.
        pause(
          deployment,
          breaker,
          providerError.retryAfterMs,
          `rate limited (${error.code}): paused for the provider's retry-after`,
        );
        return;
      }
      breaker.consecutiveFailures += 1;
      countCall(breaker, true);
      const { policy } = breaker;
      if (breaker.consecutiveFailures >= policy.consecutiveFailures) {
        open(
          deployment,
          breaker,
          `${breaker.consecutiveFailures} consecutive failures (last ${error.code})`,
          providerError.retryAfterMs,
        );
        return;
      }
      const window = windowCounts(breaker);
      if (window.calls >= policy.minimumCalls && window.failures / window.calls >= policy.failureRate) {
        open(
          deployment,
          breaker,
          `${window.failures} of ${window.calls} calls failed in ${policy.windowMs} ms (last ${error.code})`,
          providerError.retryAfterMs,
        );
      }
    },

    release(deployment, probe) {
      const breaker = get(deployment);
      if (probe && breaker.state === 'half_open')
        breaker.probesInFlight = Math.max(0, breaker.probesInFlight - 1);
    },

    pause(deployment, ms, reason) {
      pause(deployment, get(deployment), ms, reason);
    },

    state(deployment) {
      const breaker = get(deployment);
      // Report the state the next call will meet once the open period is over.
      if (breaker.state === 'open' && clock.monotonic() >= breaker.openUntil)
        return breaker.paused ? 'closed' : 'half_open';
      return breaker.state;
    },

    snapshot() {
      const out: BreakerSnapshot[] = [];
      for (const [deployment, breaker] of breakers) {
        const window = windowCounts(breaker);
        const state =
          breaker.state === 'open' && clock.monotonic() >= breaker.openUntil
            ? breaker.paused
              ? 'closed'
              : 'half_open'
            : breaker.state;
        out.push({
          deployment,
          state,
          reason: breaker.reason,
          consecutiveFailures: breaker.consecutiveFailures,
          windowCalls: window.calls,
          windowFailures: window.failures,
          opens: breaker.opens,
          retryInMs: state === 'open' ? retryIn(breaker) : 0,
        });
      }
      return out;
    },
  };
}

/**
 * What a caller is told about a deployment that is out because the provider refused its key: the
 * original class (401 `provider.authentication`, 403 `provider.permission_denied`), not a 503.
 *
 * @example
 * createCredentialsRefusedError('gpt-eu', refusal).message; // "the provider refused the key of deployment gpt-eu (…); it stays out until its configuration changes"
 */
export function createCredentialsRefusedError(deployment: string, refusal: ProviderError): ProviderError {
  const { details: _details, ...options } = refusal.toOptions();
  return new ProviderError({
    ...options,
    deployment,
    message: `the provider refused the key of deployment ${deployment} (${refusal.upstreamStatus ?? refusal.code}: ${refusal.message}); it stays out until its configuration (key, URL or headers) changes`,
    cause: refusal,
  });
}
