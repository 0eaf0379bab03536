import { z } from 'zod';
import { providerNames } from '../providers/types.ts';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const id = z.string().regex(idPattern, 'must be 1-128 letters, digits or . _ : / - (starting with a letter or digit)');

export const priceSchema = z.object({
  inputPerMillion: z.number().nonnegative(),
  outputPerMillion: z.number().nonnegative(),
  cachedInputPerMillion: z.number().nonnegative().optional(),
  cacheWritePerMillion: z.number().nonnegative().optional(),
  reasoningPerMillion: z.number().nonnegative().optional(),
});

export const deploymentSchema = z.strictObject({
  id,
  provider: z.enum(providerNames),
  model: z.string().min(1),
  baseUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).transform((url) => url.replace(/\/+$/, '')),
  apiKey: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  apiVersion: z.string().optional(),
  azureDeployment: z.string().optional(),
  wireFormat: z.enum(['openai', 'anthropic', 'gemini']).optional(),
  defaultMaxTokens: z.number().int().positive().optional(),
  contextWindow: z.number().int().positive().optional(),
  /** Price override in USD per million tokens; otherwise the maintained catalog is used. */
  price: priceSchema.optional(),
});

export const modelGroupSchema = z.strictObject({
  name: id,
  /** Deployment ids, tried in order (the resilience layer adds weights and policies). */
  deployments: z.array(id).min(1, 'must list at least one deployment'),
  description: z.string().optional(),
});

export const stepTypeConfigSchema = z.strictObject({
  name: id,
  modelGroup: id,
  description: z.string().optional(),
  /** Mustache-style templates: `{{input.topic}}`, `{{context.brand}}`. */
  system: z.string().optional(),
  prompt: z.string().min(1),
  /** JSON Schema the answer must satisfy. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(4000),
      /** The bearer key every request must present (until tenants' keys exist). */
      masterKey: z.string().min(16, 'must be at least 16 characters').optional(),
      bodyLimitBytes: z.number().int().positive().default(10 * 1024 * 1024),
      /** Serve /metrics without a key (for a Prometheus scraper on a private network). */
      publicMetrics: z.boolean().default(false),
      /** How long graceful shutdown waits for in-flight requests before closing them. */
      shutdownGraceMs: z.number().int().nonnegative().default(30_000),
    })
    .prefault({}),
  store: z
    .strictObject({
      driver: z.literal('sqlite').default('sqlite'),
      path: z.string().min(1).default('.pipewright/pipewright.db'),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      flushIntervalMs: z.number().int().positive().default(1000),
      maxBatch: z.number().int().positive().default(500),
    })
    .prefault({}),
  defaultTenant: id.default('default'),
  deployments: z.array(deploymentSchema).default([]),
  modelGroups: z.array(modelGroupSchema).default([]),
  stepTypes: z.array(stepTypeConfigSchema).default([]),
});

export type PipewrightConfig = z.infer<typeof configSchema>;
export type DeploymentConfig = z.infer<typeof deploymentSchema>;
export type ModelGroupConfig = z.infer<typeof modelGroupSchema>;
export type StepTypeConfig = z.infer<typeof stepTypeConfigSchema>;
export type PriceConfig = z.infer<typeof priceSchema>;
export type PipewrightConfigInput = z.input<typeof configSchema>;
