import { errorCodes, type ErrorCode } from './error-codes.ts';

const marker = Symbol.for('pipewright.error');

export interface PipewrightErrorOptions {
  code: ErrorCode;
  message: string;
  cause?: unknown;
  /** Overrides the code's default retryability (rarely needed). */
  isRetryable?: boolean;
  /** Overrides the code's default HTTP status (e.g. an upstream 404 forwarded as is). */
  status?: number;
  /** The request field this error is about, as a path: `messages[2].content`. */
  param?: string;
  /** Structured details safe to show to the caller. */
  details?: Record<string, unknown>;
}

/**
 * The one base error of Pipewright. Every error carries a stable dotted `code` (see
 * docs/errors.md), whether retrying can help, the HTTP status the gateway answers with and,
 * for bad input, the path of the field at fault.
 *
 * @example
 * throw new PipewrightError({ code: 'request.invalid', message: 'must be a string', param: 'model' });
 */
export class PipewrightError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  readonly status: number;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly [marker] = true;

  constructor(options: PipewrightErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = errorCodes[options.code];
    this.name = 'PipewrightError';
    this.code = options.code;
    this.isRetryable = options.isRetryable ?? entry.retryable;
    this.status = options.status ?? entry.status;
    this.param = options.param;
    this.details = options.details;
  }

  /** The OpenAI error-envelope `type` for this error. */
  get type(): string {
    return errorCodes[this.code].type;
  }

  /** True for any PipewrightError, even from another copy of the package. */
  static isInstance(value: unknown): value is PipewrightError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

/** Bad input: names the field at fault. */
export class InvalidRequestError extends PipewrightError {
  constructor(options: {
    message: string;
    param?: string;
    code?: ErrorCode;
    cause?: unknown;
    details?: Record<string, unknown>;
  }) {
    super({ code: options.code ?? 'request.invalid', ...omitCode(options) });
    this.name = 'InvalidRequestError';
  }
}

/** A configuration file or object that cannot be used; `param` is the path in the config. */
export class ConfigError extends PipewrightError {
  constructor(options: {
    message: string;
    param?: string;
    cause?: unknown;
    details?: Record<string, unknown>;
  }) {
    super({ code: 'config.invalid', ...options });
    this.name = 'ConfigError';
  }
}

function omitCode<T extends { code?: unknown }>(value: T): Omit<T, 'code'> {
  const { code: _code, ...rest } = value;
  return rest;
}

/** Wraps anything thrown into a PipewrightError, keeping the original as `cause`. */
export function toPipewrightError(error: unknown): PipewrightError {
  if (PipewrightError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PipewrightError({ code: 'gateway.internal', message, cause: error });
}
