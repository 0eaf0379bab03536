/**
 * The registry of stable error codes. A code is never reused or renamed once released;
 * docs/errors.md lists every one. `status` is the HTTP status the gateway answers with and
 * `type` the OpenAI error-envelope `type`.
 */
export const errorCodes = {
  // request validation and gateway
  'request.invalid': { status: 400, type: 'invalid_request_error', retryable: false },
  'request.invalid_json': { status: 400, type: 'invalid_request_error', retryable: false },
  'request.too_large': { status: 413, type: 'invalid_request_error', retryable: false },
  'request.unsupported_media_type': { status: 415, type: 'invalid_request_error', retryable: false },
  'request.timeout': { status: 408, type: 'invalid_request_error', retryable: false },
  'gateway.unauthenticated': { status: 401, type: 'authentication_error', retryable: false },
  'gateway.not_found': { status: 404, type: 'not_found_error', retryable: false },
  'gateway.model_not_found': { status: 404, type: 'invalid_request_error', retryable: false },
  'gateway.unsupported_operation': { status: 400, type: 'invalid_request_error', retryable: false },
  'gateway.shutting_down': { status: 503, type: 'server_error', retryable: true },
  'gateway.internal': { status: 500, type: 'server_error', retryable: false },
  'gateway.overloaded': { status: 429, type: 'rate_limit_error', retryable: true },
  'gateway.rate_limited': { status: 429, type: 'rate_limit_error', retryable: true },
  'gateway.deadline_exceeded': { status: 504, type: 'timeout_error', retryable: true },
  'gateway.circuit_open': { status: 503, type: 'server_error', retryable: true },
  // configuration
  'config.invalid': { status: 500, type: 'server_error', retryable: false },
  // providers (the taxonomy every adapter maps into)
  'provider.rate_limited': { status: 429, type: 'rate_limit_error', retryable: true },
  'provider.quota_exhausted': { status: 429, type: 'insufficient_quota', retryable: false },
  'provider.context_length_exceeded': { status: 400, type: 'invalid_request_error', retryable: false },
  'provider.content_filtered': { status: 400, type: 'invalid_request_error', retryable: false },
  'provider.authentication': { status: 401, type: 'authentication_error', retryable: false },
  'provider.permission_denied': { status: 403, type: 'permission_error', retryable: false },
  'provider.not_found': { status: 404, type: 'not_found_error', retryable: false },
  'provider.invalid_request': { status: 400, type: 'invalid_request_error', retryable: false },
  'provider.overloaded': { status: 503, type: 'server_error', retryable: true },
  'provider.server_error': { status: 502, type: 'server_error', retryable: true },
  'provider.timeout': { status: 504, type: 'timeout_error', retryable: true },
  'provider.connection': { status: 502, type: 'server_error', retryable: true },
  'provider.stream_cut': { status: 502, type: 'server_error', retryable: true },
  'provider.malformed_response': { status: 502, type: 'server_error', retryable: true },
  'provider.aborted': { status: 499, type: 'request_aborted', retryable: false },
  // step types and output validation
  'step.unknown_type': { status: 404, type: 'invalid_request_error', retryable: false },
  'step.output_invalid': { status: 422, type: 'invalid_response_error', retryable: false },
  // workflows
  'workflow.definition_invalid': { status: 400, type: 'invalid_request_error', retryable: false },
  'workflow.input_invalid': { status: 400, type: 'invalid_request_error', retryable: false },
  'workflow.not_found': { status: 404, type: 'not_found_error', retryable: false },
  'workflow.run_not_found': { status: 404, type: 'not_found_error', retryable: false },
  'workflow.run_conflict': { status: 409, type: 'invalid_request_error', retryable: false },
  'workflow.definition_changed': { status: 409, type: 'invalid_request_error', retryable: false },
  'workflow.permission_denied': { status: 403, type: 'permission_error', retryable: false },
  'workflow.context_invalid': { status: 422, type: 'invalid_response_error', retryable: false },
  'workflow.context_version_gone': { status: 410, type: 'invalid_request_error', retryable: false },
  'workflow.node_failed': { status: 500, type: 'server_error', retryable: false },
  'workflow.gate_rejected': { status: 422, type: 'invalid_response_error', retryable: false },
  'workflow.cancelled': { status: 499, type: 'request_aborted', retryable: false },
  // store
  'store.failure': { status: 500, type: 'server_error', retryable: false },
} as const;

export type ErrorCode = keyof typeof errorCodes;
