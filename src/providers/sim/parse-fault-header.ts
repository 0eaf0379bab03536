/**
 * The fault-injection grammar of the sim, used by the `x-sim-fault` request header and by the
 * `fault` strings of a sim config.
 *
 * ```
 * x-sim-fault: directive *( ";" directive )
 * directive  = name [ "=" value ]          (spaces around ";" and "=" are ignored)
 * ```
 *
 * At most one *fault* directive per header:
 *
 * | directive                  | effect                                                                   |
 * | -------------------------- | ------------------------------------------------------------------------ |
 * | `status=<code>`            | answer with that HTTP status (400–599) in the provider's error format    |
 * | `quota`                    | 429 meaning "out of credit" (`insufficient_quota`, spend limit…)         |
 * | `context-length`           | 400 "context length exceeded" in the provider's words                    |
 * | `content-filter[=prompt]`  | the prompt is refused by the provider's content filter                   |
 * | `content-filter=output`    | 200 whose output was filtered (`content_filter`, `refusal`, `SAFETY`)    |
 * | `timeout`                  | accept the request and never answer (until the client or server closes)  |
 * | `reset[=after:N]`          | destroy the connection before answering, or after N stream events        |
 * | `cut-stream[=after:N]`     | end the stream cleanly after N events, without its terminator (N=1)     |
 * | `malformed-chunk[=N]`      | the Nth stream event carries invalid JSON (N=1); non-streams get a bad body |
 * | `stream-error[=after:N]`   | an error event inside the 200 stream after N events (N=1)                |
 *
 * Modifiers, combinable with any fault or used alone:
 *
 * | directive               | effect                                                                       |
 * | ----------------------- | ---------------------------------------------------------------------------- |
 * | `retry-after=<seconds>` | with `status`: the retry hint, in each provider's form (429 defaults to 1 s) |
 * | `latency=<ms or dist>`  | total response time: `50`, `uniform(10,50)`, `normal(200,40)`, `lognormal(200,0.5)` |
 * | `ttft=<ms or dist>`     | streams: time before the first content event (a slow first token)           |
 * | `chunk-delay=<ms or dist>` | streams: time between content events                                     |
 * | `times=<N>`             | the fault hits only the first N identical requests; later retries succeed    |
 *
 * Parsing is strict: an unknown directive, a repeated one, a bad value or two faults at once
 * is an error naming the directive (the sim answers it with a 400).
 *
 * @example
 * parseFaultHeader('status=429; retry-after=2');
 * // { fault: { kind: 'status', status: 429, retryAfterMs: 2000 } }
 * parseFaultHeader('cut-stream=after:3; chunk-delay=5');
 */
import { parseDistribution, type Distribution } from './parse-distribution.ts';

export type FaultKind =
  | { kind: 'status'; status: number; retryAfterMs?: number }
  | { kind: 'quota' }
  | { kind: 'context-length' }
  | { kind: 'content-filter'; target: 'prompt' | 'output' }
  | { kind: 'timeout' }
  | { kind: 'reset'; afterEvents?: number }
  | { kind: 'cut-stream'; afterEvents: number }
  | { kind: 'malformed-chunk'; event: number }
  | { kind: 'stream-error'; afterEvents: number };

/** A parsed `x-sim-fault` header or config fault string. */
export interface FaultSpec {
  fault?: FaultKind;
  latency?: Distribution;
  ttft?: Distribution;
  chunkDelay?: Distribution;
  /** The fault hits only the first `times` identical requests. */
  times?: number;
}

/** A syntax error in a fault string; the message names the directive at fault. */
export class FaultSyntaxError extends Error {
  readonly directive: string | undefined;
  constructor(message: string, directive?: string) {
    super(message);
    this.name = 'FaultSyntaxError';
    this.directive = directive;
  }
}

const faultDirectives = [
  'status',
  'quota',
  'context-length',
  'content-filter',
  'timeout',
  'reset',
  'cut-stream',
  'malformed-chunk',
  'stream-error',
] as const;
const modifierDirectives = ['retry-after', 'latency', 'ttft', 'chunk-delay', 'times'] as const;
type DirectiveName = (typeof faultDirectives)[number] | (typeof modifierDirectives)[number];
const knownDirectives: ReadonlySet<string> = new Set<string>([...faultDirectives, ...modifierDirectives]);

/**
 * Parses a fault string (see the grammar above). `allowTimes: false` rejects `times`, which
 * only makes sense in a request header.
 */
export function parseFaultHeader(text: string, options: { allowTimes?: boolean } = {}): FaultSpec {
  const directives = splitDirectives(text);
  if (directives.size === 0)
    throw new FaultSyntaxError('x-sim-fault: empty; expected e.g. "status=503" or "latency=50"');
  const spec: FaultSpec = {};
  let faultName: string | undefined;
  for (const [name, value] of directives) {
    const directive = name as DirectiveName;
    if ((faultDirectives as readonly string[]).includes(name)) {
      if (faultName !== undefined) {
        throw new FaultSyntaxError(
          `x-sim-fault: '${faultName}' and '${name}' cannot be combined: one fault per request`,
          name,
        );
      }
      faultName = name;
    }
    switch (directive) {
      case 'status': {
        const status = parseInteger(name, required(name, value), 400, 599);
        spec.fault = { kind: 'status', status };
        break;
      }
      case 'quota':
      case 'context-length':
      case 'timeout':
        noValue(name, value);
        spec.fault = { kind: directive };
        break;
      case 'content-filter': {
        if (value !== undefined && value !== 'prompt' && value !== 'output') {
          throw new FaultSyntaxError(
            `x-sim-fault: content-filter must be 'prompt' or 'output', got '${value}'`,
            name,
          );
        }
        spec.fault = { kind: 'content-filter', target: value ?? 'prompt' };
        break;
      }
      case 'reset':
        spec.fault =
          value === undefined ? { kind: 'reset' } : { kind: 'reset', afterEvents: parseAfter(name, value) };
        break;
      case 'cut-stream':
        spec.fault = { kind: 'cut-stream', afterEvents: value === undefined ? 1 : parseAfter(name, value) };
        break;
      case 'stream-error':
        spec.fault = { kind: 'stream-error', afterEvents: value === undefined ? 1 : parseAfter(name, value) };
        break;
      case 'malformed-chunk':
        spec.fault = {
          kind: 'malformed-chunk',
          event: value === undefined ? 1 : parseInteger(name, value, 1, 100_000),
        };
        break;
      case 'retry-after':
      case 'times':
        break; // applied below, once the fault is known
      case 'latency':
        spec.latency = parseLatency(name, required(name, value));
        break;
      case 'ttft':
        spec.ttft = parseLatency(name, required(name, value));
        break;
      case 'chunk-delay':
        spec.chunkDelay = parseLatency(name, required(name, value));
        break;
    }
  }
  applyRetryAfter(spec, directives.get('retry-after'), directives.has('retry-after'));
  if (directives.has('times')) {
    if (options.allowTimes === false)
      throw new FaultSyntaxError("'times' is only valid in the x-sim-fault request header", 'times');
    if (spec.fault === undefined)
      throw new FaultSyntaxError(
        "x-sim-fault: 'times' needs a fault to limit (e.g. status=503; times=2)",
        'times',
      );
    spec.times = parseInteger('times', required('times', directives.get('times')), 1, 1_000_000);
  }
  return spec;
}

function splitDirectives(text: string): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const equals = part.indexOf('=');
    const name = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
    const value = equals === -1 ? undefined : part.slice(equals + 1).trim();
    if (!knownDirectives.has(name)) {
      throw new FaultSyntaxError(
        `x-sim-fault: unknown directive '${name}' (known: ${[...knownDirectives].join(', ')})`,
        name,
      );
    }
    if (directives.has(name)) throw new FaultSyntaxError(`x-sim-fault: '${name}' is given twice`, name);
    if (value === '') throw new FaultSyntaxError(`x-sim-fault: '${name}=' needs a value`, name);
    directives.set(name, value);
  }
  return directives;
}

function applyRetryAfter(spec: FaultSpec, value: string | undefined, given: boolean): void {
  const fault = spec.fault;
  if (given) {
    if (fault?.kind !== 'status')
      throw new FaultSyntaxError(
        "x-sim-fault: 'retry-after' needs a status (e.g. status=429; retry-after=2)",
        'retry-after',
      );
    const seconds = parseSeconds(required('retry-after', value));
    fault.retryAfterMs = Math.round(seconds * 1000);
  } else if (fault?.kind === 'status' && fault.status === 429) {
    fault.retryAfterMs = 1000;
  }
}

function required(name: string, value: string | undefined): string {
  if (value === undefined)
    throw new FaultSyntaxError(`x-sim-fault: '${name}' needs a value (${name}=...)`, name);
  return value;
}

function noValue(name: string, value: string | undefined): void {
  if (value !== undefined)
    throw new FaultSyntaxError(`x-sim-fault: '${name}' takes no value, got '${name}=${value}'`, name);
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value))
    throw new FaultSyntaxError(`x-sim-fault: ${name} must be a whole number, got '${value}'`, name);
  const number = Number(value);
  if (number < min || number > max)
    throw new FaultSyntaxError(`x-sim-fault: ${name} must be between ${min} and ${max}, got ${number}`, name);
  return number;
}

function parseSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value))
    throw new FaultSyntaxError(
      `x-sim-fault: retry-after must be seconds (e.g. 2 or 0.5), got '${value}'`,
      'retry-after',
    );
  const seconds = Number(value);
  if (seconds > 86_400)
    throw new FaultSyntaxError(
      `x-sim-fault: retry-after must be at most 86400 seconds, got ${seconds}`,
      'retry-after',
    );
  return seconds;
}

function parseAfter(name: string, value: string): number {
  const match = /^after:(\d+)$/.exec(value);
  if (match === null)
    throw new FaultSyntaxError(
      `x-sim-fault: ${name} takes 'after:N' (N stream events), got '${value}'`,
      name,
    );
  return parseInteger(name, match[1] ?? '', 0, 100_000);
}

function parseLatency(name: string, value: string): Distribution {
  try {
    return parseDistribution(value);
  } catch (error) {
    throw new FaultSyntaxError(`x-sim-fault: ${name}: ${(error as Error).message}`, name);
  }
}
