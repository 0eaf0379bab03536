import { z } from 'zod';
import { ConfigError } from '../../core/index.ts';
import { formatPath } from '../../spec/index.ts';
import { checkDistribution, parseDistribution, type Distribution } from './parse-distribution.ts';
import { FaultSyntaxError, parseFaultHeader, type FaultSpec } from './parse-fault-header.ts';

/** The wire formats the sim speaks. `azure` is OpenAI's format on Azure's paths and headers. */
export const wireFormats = ['openai', 'azure', 'anthropic', 'gemini'] as const;
export type WireFormat = (typeof wireFormats)[number];

/** What kind of call a request is, across formats. */
export const endpointKinds = ['chat', 'embeddings', 'images', 'models'] as const;
export type EndpointKind = (typeof endpointKinds)[number];

const latencySchema = z
  .union([
    z.number().min(0, 'must be at least 0 ms'),
    z.string(),
    z.strictObject({ distribution: z.literal('fixed'), ms: z.number().min(0) }),
    z.strictObject({ distribution: z.literal('uniform'), min: z.number().min(0), max: z.number().min(0) }),
    z.strictObject({ distribution: z.literal('normal'), mean: z.number().min(0), stddev: z.number().min(0) }),
    z.strictObject({
      distribution: z.literal('lognormal'),
      median: z.number().positive(),
      sigma: z.number().min(0),
    }),
  ])
  .transform((value, context): Distribution => {
    try {
      if (typeof value === 'number') return { distribution: 'fixed', ms: value };
      if (typeof value === 'string') return parseDistribution(value);
      return checkDistribution(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

const faultStringSchema = z.string().transform((text, context): FaultSpec & { text: string } => {
  try {
    return { ...parseFaultHeader(text, { allowTimes: false }), text };
  } catch (error) {
    const message =
      error instanceof FaultSyntaxError ? error.message.replace(/^x-sim-fault: /, '') : String(error);
    context.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
});

const requiredFaultSchema = faultStringSchema.refine((spec) => spec.fault !== undefined, {
  message: 'must name a fault (e.g. "status=503"), not only latency',
});

const modelPatternSchema = z
  .string()
  .min(1, 'must be a model name or a glob such as "gpt-4o*"')
  .transform((pattern) => {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return { pattern, regex: new RegExp(`^${source}$`) };
  });

const ruleSchema = z
  .strictObject({
    /** Which requests the rule applies to; a rule without `match` applies to all. */
    match: z
      .strictObject({
        model: modelPatternSchema.optional(),
        endpoint: z.enum(endpointKinds).optional(),
        format: z.enum(wireFormats).optional(),
        stream: z.boolean().optional(),
      })
      .optional(),
    latency: latencySchema.optional(),
    ttft: latencySchema.optional(),
    chunkDelay: latencySchema.optional(),
    /** Prompts (plus max tokens) beyond this many tokens get a context-length error. */
    contextWindow: z.number().int().positive().optional(),
    /** Share of requests (0–1) failing with a transient error: 500, 503 or 429, in equal parts. */
    failureRate: z.number().min(0).max(1).optional(),
    /** Faults drawn at random with these probabilities (seeded, so runs repeat). */
    faults: z
      .array(z.strictObject({ fault: requiredFaultSchema, probability: z.number().min(0).max(1) }))
      .optional(),
    /** Windows, in ms since the server started, during which every request fails. */
    outages: z
      .array(
        z
          .strictObject({
            fromMs: z.number().min(0),
            toMs: z.number().min(0),
            fault: requiredFaultSchema.optional(),
          })
          .refine((outage) => outage.toMs > outage.fromMs, {
            message: 'toMs must be after fromMs',
            path: ['toMs'],
          }),
      )
      .optional(),
    /** Real rate limits, per model, over a fixed one-minute window: 429 once exceeded. */
    limits: z
      .strictObject({
        requestsPerMinute: z.number().int().positive().optional(),
        tokensPerMinute: z.number().int().positive().optional(),
      })
      .optional(),
  })
  .superRefine((rule, context) => {
    const total =
      (rule.failureRate ?? 0) + (rule.faults ?? []).reduce((sum, item) => sum + item.probability, 0);
    if (total > 1 + 1e-9) {
      context.addIssue({
        code: 'custom',
        path: ['faults'],
        message: `failureRate plus fault probabilities add up to ${round(total)}, more than 1`,
      });
    }
  });

export const simConfigSchema = z.strictObject({
  /** Seed of every random draw (faults, latencies, answers). The `seed` option wins over it. */
  seed: z.number().int().optional(),
  /** The model ids listed by `GET /v1/models` (any model name is accepted in calls). */
  models: z.array(z.string().min(1)).min(1).optional(),
  /** Rules, first match wins. */
  rules: z.array(ruleSchema).optional(),
});

/** A sim config as written in YAML/JSON or code. */
export type SimConfigInput = z.input<typeof simConfigSchema>;
/** A validated sim config. */
export type SimConfig = z.output<typeof simConfigSchema>;
export type SimRule = NonNullable<SimConfig['rules']>[number];

/**
 * Validates a sim config; throws a ConfigError whose `param` is the path of the bad field
 * (`rules[0].faults[1].fault`).
 *
 * @example
 * parseSimConfig({ rules: [{ match: { model: 'gpt-4o*' }, failureRate: 0.05, latency: 'normal(300,50)' }] });
 */
export function parseSimConfig(value: unknown): SimConfig {
  const result = simConfigSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const first = issues[0] ?? { path: '', message: 'invalid sim config' };
  throw new ConfigError({
    message: `sim config: ${first.path === '' ? '' : `${first.path}: `}${first.message}`,
    ...(first.path === '' ? {} : { param: first.path }),
    details: { issues },
  });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
