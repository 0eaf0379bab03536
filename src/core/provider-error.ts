import type { ErrorCode } from './error-codes.ts';
import { PipewrightError } from './errors.ts';

/** The provider error taxonomy every adapter maps into. */
export const providerErrorKinds = [
  'rate_limited',
  'quota_exhausted',
  'context_length_exceeded',
  'content_filtered',
  'authentication',
  'permission_denied',
  'not_found',
  'invalid_request',
  'overloaded',
  'server_error',
  'timeout',
  'connection',
  'stream_cut',
  'malformed_response',
  'aborted',
] as const;

export type ProviderErrorKind = (typeof providerErrorKinds)[number];

export interface ProviderErrorOptions {
  kind: ProviderErrorKind;
  message: string;
  provider: string;
  /** The deployment id the call went to, when known. */
  deployment?: string;
  /** The upstream HTTP status, when there was one. */
  upstreamStatus?: number;
  /** How long the provider asked us to wait, in milliseconds. */
  retryAfterMs?: number;
  /** The provider's own error code or type (`insufficient_quota`, `overloaded_error`). */
  providerCode?: string;
  /** The provider's request id, for support tickets. */
  requestId?: string;
  /** Structured details safe to show to the caller (the engine adds `attempts`). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An error from a model provider, mapped to one taxonomy. `isRetryable` says whether
 * trying again (here or on another deployment) can help: quota exhausted, spend limits,
 * authentication and context length never are.
 */
export class ProviderError extends PipewrightError {
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly deployment: string | undefined;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly providerCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(options: ProviderErrorOptions) {
    super({
      code: `provider.${options.kind}` as ErrorCode,
      message: options.message,
      cause: options.cause,
      ...(options.details === undefined ? {} : { details: options.details }),
    });
    this.name = 'ProviderError';
    this.kind = options.kind;
    this.provider = options.provider;
    this.deployment = options.deployment;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.providerCode = options.providerCode;
    this.requestId = options.requestId;
  }

  /** A copy carrying the deployment the call went to. */
  withDeployment(deployment: string): ProviderError {
    if (this.deployment === deployment) return this;
    return new ProviderError({ ...this.toOptions(), deployment });
  }

  toOptions(): ProviderErrorOptions {
    const options: ProviderErrorOptions = {
      kind: this.kind,
      message: this.message,
      provider: this.provider,
      cause: this.cause,
    };
    if (this.deployment !== undefined) options.deployment = this.deployment;
    if (this.upstreamStatus !== undefined) options.upstreamStatus = this.upstreamStatus;
    if (this.retryAfterMs !== undefined) options.retryAfterMs = this.retryAfterMs;
    if (this.providerCode !== undefined) options.providerCode = this.providerCode;
    if (this.requestId !== undefined) options.requestId = this.requestId;
    if (this.details !== undefined) options.details = this.details;
    return options;
  }

  static isProviderError(value: unknown): value is ProviderError {
    return PipewrightError.isInstance(value) && value.code.startsWith('provider.') && 'kind' in value;
  }
}
