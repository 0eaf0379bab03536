import type { z } from 'zod';
import { ConfigError } from '../core/index.ts';
import { formatPath } from '../spec/index.ts';
import type { Deployment, ProviderAdapter } from './types.ts';

/**
 * Deployment settings that sat at the top level of a deployment before each provider's own
 * settings moved under `options`. Configs that still spell them so are accepted: the provider
 * that used the setting names the option it became ({@link ProviderDefinition.legacySettings}).
 */
export const legacyDeploymentSettings = [
  'apiVersion',
  'azureDeployment',
  'wireFormat',
  'defaultMaxTokens',
] as const;
export type LegacyDeploymentSetting = (typeof legacyDeploymentSettings)[number];

/**
 * Everything Pipewright needs to know about one provider: its name, its deployment options and
 * its adapter. Each adapter folder exports its definition; adding a provider is a folder plus
 * one entry in the list of `provider-definitions.ts` (the registry and the config schema read
 * that list; nothing switches on provider names).
 *
 * @example
 * export const acmeProviderDefinition: ProviderDefinition = {
 *   name: 'acme',
 *   optionsSchema: z.strictObject({ region: z.enum(['eu', 'us']).optional() }),
 *   adapter: acmeAdapter,
 * };
 */
export interface ProviderDefinition {
  /** The `provider` value of a deployment. Unique among the registered definitions. */
  readonly name: string;
  /** One line for docs and error messages. */
  readonly description: string;
  /**
   * The deployment's `options` as the configuration must give them: a strict object, so a
   * misspelt option is an error naming it. The adapter reads them with its own lenient reader
   * ({@link createDeploymentOptionsReader}).
   */
  readonly optionsSchema: z.ZodType<Record<string, unknown>>;
  /** Top-level settings of older configs this provider used, and the option each became. */
  readonly legacySettings?: Readonly<Partial<Record<LegacyDeploymentSetting, string>>>;
  /** The adapter for this provider's deployments. */
  readonly adapter: ProviderAdapter;
  /**
   * Chooses the adapter per deployment instead (the sim answers in the wire format its options
   * name); `adapterOf` is the adapter registered for another provider name.
   */
  selectAdapter?(deployment: Deployment, adapterOf: (provider: string) => ProviderAdapter): ProviderAdapter;
}

/**
 * A reader of one provider's options from a deployment, for its adapter: validated with the
 * provider's schema (unknown keys are dropped here: the config schema already refused them,
 * and a sim deployment carries its own), parsed once per deployment object, and a
 * `config.invalid` error naming `deployments.<id>.options.<field>` when a value has the wrong type.
 *
 * @example
 * const readAnthropicOptions = createDeploymentOptionsReader('anthropic', z.object({ version: z.string().optional() }));
 * readAnthropicOptions({ id: 'c', provider: 'anthropic', model: 'm', baseUrl: 'u', options: { version: '2023-06-01' } }).version; // '2023-06-01'
 */
export function createDeploymentOptionsReader<Options>(
  provider: string,
  schema: z.ZodType<Options>,
): (deployment: Deployment) => Options {
  const cache = new WeakMap<Deployment, Options>();
  return (deployment) => {
    const cached = cache.get(deployment);
    if (cached !== undefined) return cached;
    const result = schema.safeParse(deployment.options ?? {});
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = formatPath(['options', ...(issue?.path ?? [])]);
      throw new ConfigError({
        message: `deployment ${deployment.id} (${provider}): ${path}: ${issue?.message ?? 'invalid value'}`,
        param: `deployments.${deployment.id}.${path}`,
      });
    }
    cache.set(deployment, result.data);
    return result.data;
  };
}

/** A problem with a deployment's provider or options, with its path inside the deployment. */
export interface DeploymentOptionsIssue {
  path: Array<string | number>;
  message: string;
}

/** What {@link resolveDeploymentOptions} found: the options to keep, or the problems. */
export interface ResolvedDeploymentOptions {
  options: Record<string, unknown> | undefined;
  issues: DeploymentOptionsIssue[];
}

/**
 * Checks a configured deployment's provider and options against the registered definitions:
 * the provider must be registered, older top-level settings move into `options` under the
 * name the provider gives them (a setting the provider never had, or one given twice, is an
 * error), and the options must satisfy the provider's schema. Used by the config schema.
 *
 * @example
 * resolveDeploymentOptions(providerDefinitions, { provider: 'sim', legacy: { wireFormat: 'gemini' } });
 * // { options: { wireFormat: 'gemini' }, issues: [] }
 */
export function resolveDeploymentOptions(
  definitions: readonly ProviderDefinition[],
  deployment: {
    provider: string;
    options?: Record<string, unknown> | undefined;
    legacy?: Readonly<Partial<Record<LegacyDeploymentSetting, unknown>>>;
  },
): ResolvedDeploymentOptions {
  const definition = definitions.find((candidate) => candidate.name === deployment.provider);
  if (definition === undefined) {
    return {
      options: deployment.options,
      issues: [
        {
          path: ['provider'],
          message: `unknown provider ${JSON.stringify(deployment.provider)} (expected one of ${definitions.map((candidate) => candidate.name).join(', ')})`,
        },
      ],
    };
  }
  const issues: DeploymentOptionsIssue[] = [];
  const merged: Record<string, unknown> = { ...deployment.options };
  // Which option came from which top-level setting, so that a problem names what the user wrote.
  const spelledAs = new Map<string, LegacyDeploymentSetting>();
  for (const setting of legacyDeploymentSettings) {
    const value = deployment.legacy?.[setting];
    if (value === undefined) continue;
    const option = definition.legacySettings?.[setting];
    if (option === undefined) {
      issues.push({ path: [setting], message: `is not a setting of provider ${definition.name}` });
    } else if (merged[option] !== undefined) {
      issues.push({ path: [setting], message: `is given twice: here and as options.${option}` });
    } else {
      merged[option] = value;
      spelledAs.set(option, setting);
    }
  }
  const hasOptions = deployment.options !== undefined || spelledAs.size > 0;
  const result = definition.optionsSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const [first, ...rest] = issue.path.map((segment) =>
        typeof segment === 'number' ? segment : String(segment),
      );
      const legacy = typeof first === 'string' ? spelledAs.get(first) : undefined;
      issues.push({
        path:
          legacy === undefined
            ? ['options', ...(first === undefined ? [] : [first]), ...rest]
            : [legacy, ...rest],
        message: issue.message,
      });
    }
  }
  if (issues.length > 0) return { options: deployment.options, issues };
  return { options: hasOptions && result.success ? result.data : undefined, issues };
}
