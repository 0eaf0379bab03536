import type { ErrorCode } from './error-codes.ts';
import { PipewrightError } from './errors.ts';
import { redactSecrets } from './redact-secrets.ts';

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
  /**
   * The upstream's error code exactly as sent: OpenAI's `error.code` (`context_length_exceeded`),
   * Anthropic's `error.details.error_code`, Gemini's `error.status` (`RESOURCE_EXHAUSTED`).
   */
  upstreamCode?: string;
  /** The upstream's error type exactly as sent: OpenAI's `error.type`, Anthropic's `error.type`. */
  upstreamType?: string;
  /** OpenAI's `error.param` exactly as sent (`null` when the upstream sent `null`). */
  upstreamParam?: string | null;
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
 *
 * The message keeps the provider's words but never a credential: every message passes through
 * {@link redactSecrets} here, whoever builds the error (an upstream that echoes the key it
 * was sent, `Incorrect API key provided: sk-proj-****1234`, reaches no caller).
 * `upstreamCode`, `upstreamType` and `upstreamParam` carry the upstream's own error fields as
 * sent, for clients that test OpenAI's codes (`err.code === 'context_length_exceeded'`).
 *
 * @example
 * const error = new ProviderError({ kind: 'context_length_exceeded', message: 'too long', provider: 'openai',
 *   upstreamCode: 'context_length_exceeded', upstreamType: 'invalid_request_error', upstreamParam: 'messages' });
 * error.code; // 'provider.context_length_exceeded'
 * error.upstreamCode; // 'context_length_exceeded'
 */
export class ProviderError extends PipewrightError {
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly deployment: string | undefined;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly providerCode: string | undefined;
  readonly upstreamCode: string | undefined;
  readonly upstreamType: string | undefined;
  readonly upstreamParam: string | null | undefined;
  readonly requestId: string | undefined;

  constructor(options: ProviderErrorOptions) {
    super({
      code: `provider.${options.kind}` as ErrorCode,
      message: redactSecrets(options.message),
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
    this.upstreamCode = options.upstreamCode;
    this.upstreamType = options.upstreamType;
    this.upstreamParam = options.upstreamParam;
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
    if (this.upstreamCode !== undefined) options.upstreamCode = this.upstreamCode;
    if (this.upstreamType !== undefined) options.upstreamType = this.upstreamType;
    if (this.upstreamParam !== undefined) options.upstreamParam = this.upstreamParam;
    if (this.requestId !== undefined) options.requestId = this.requestId;
    if (this.details !== undefined) options.details = this.details;
    return options;
  }

  static isProviderError(value: unknown): value is ProviderError {
    return PipewrightError.isInstance(value) && value.code.startsWith('provider.') && 'kind' in value;
  }
}
