import { readFileSync } from 'node:fs';
import { ConfigError, parseYamlBounded } from '../core/index.ts';
import { formatPath } from '../spec/index.ts';
import { configSchema, type PipewrightConfig } from './config-schema.ts';
import { expandEnv } from './expand-env.ts';

/**
 * Validates a config object (already parsed from YAML or written in code) and checks the
 * references between its parts. Every problem names its path, e.g.
 * `modelGroups[1].deployments[0]: unknown deployment "gpt-eu"`.
 *
 * @example
 * const config = parseConfig({ deployments: [...], modelGroups: [...] }, process.env);
 */
export function parseConfig(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
): PipewrightConfig {
  const expanded = expandEnv(raw ?? {}, env);
  // The master key usually lives only in the environment.
  const masterKey = env.PIPEWRIGHT_MASTER_KEY;
  if (masterKey !== undefined && masterKey !== '' && isRecord(expanded)) {
    const server = isRecord(expanded.server) ? expanded.server : {};
    if (server.masterKey === undefined) expanded.server = { ...server, masterKey };
  }
  const result = configSchema.safeParse(expanded);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
    }));
    throw new ConfigError({
      message: issues.map((issue) => `${issue.path || 'config'}: ${issue.message}`).join('\n'),
      ...(issues[0]?.path ? { param: issues[0].path } : {}),
      details: { issues },
    });
  }
  const config = result.data;
  const problems: Array<{ path: string; message: string }> = [];
  const deploymentIds = new Set<string>();
  config.deployments.forEach((deployment, index) => {
    if (deploymentIds.has(deployment.id))
      problems.push({
        path: `deployments[${index}].id`,
        message: `duplicate deployment id "${deployment.id}"`,
      });
    deploymentIds.add(deployment.id);
  });
  const groupNames = new Set<string>();
  config.modelGroups.forEach((group, index) => {
    if (groupNames.has(group.name))
      problems.push({ path: `modelGroups[${index}].name`, message: `duplicate model group "${group.name}"` });
    groupNames.add(group.name);
    group.deployments.forEach((deploymentId, position) => {
      if (!deploymentIds.has(deploymentId)) {
        problems.push({
          path: `modelGroups[${index}].deployments[${position}]`,
          message: `unknown deployment "${deploymentId}"`,
        });
      }
    });
  });
  config.modelGroups.forEach((group, index) => {
    const references: Array<[string, string | undefined]> = [
      ...group.fallbacks.map((name, position): [string, string] => [`fallbacks[${position}]`, name]),
      ['contextLengthFallback', group.contextLengthFallback],
      ['contentFilterFallback', group.contentFilterFallback],
    ];
    for (const [field, name] of references) {
      if (name === undefined) continue;
      if (!groupNames.has(name))
        problems.push({ path: `modelGroups[${index}].${field}`, message: `unknown model group "${name}"` });
      else if (name === group.name)
        problems.push({
          path: `modelGroups[${index}].${field}`,
          message: 'a model group cannot fall back to itself',
        });
    }
  });
  const stepNames = new Set<string>();
  config.stepTypes.forEach((stepType, index) => {
    if (stepNames.has(stepType.name))
      problems.push({ path: `stepTypes[${index}].name`, message: `duplicate step type "${stepType.name}"` });
    stepNames.add(stepType.name);
    if (!groupNames.has(stepType.modelGroup)) {
      problems.push({
        path: `stepTypes[${index}].modelGroup`,
        message: `unknown model group "${stepType.modelGroup}"`,
      });
    }
  });
  for (const name of Object.keys(config.cache.modelGroups)) {
    if (!groupNames.has(name))
      problems.push({ path: `cache.modelGroups.${name}`, message: `unknown model group "${name}"` });
  }
  const embedder = config.cache.semantic.embedder;
  if (embedder !== 'local' && !groupNames.has(embedder.modelGroup)) {
    problems.push({
      path: 'cache.semantic.embedder.modelGroup',
      message: `unknown model group "${embedder.modelGroup}"`,
    });
  }
  if (config.cache.backend === 'redis' && config.redis === undefined) {
    problems.push({ path: 'cache.backend', message: 'the redis backend needs the `redis` section (url)' });
  }
  if (problems.length > 0) {
    throw new ConfigError({
      message: problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n'),
      param: problems[0]?.path ?? '',
      details: { issues: problems },
    });
  }
  Object.defineProperty(config, parsedMarker, { value: true, enumerable: false });
  return config;
}

const parsedMarker = Symbol.for('pipewright.parsed-config');

/**
 * True only for a config object `parseConfig` returned (a copy made by spreading is parsed
 * again), so raw input that merely looks complete is never used unvalidated.
 */
export function isParsedConfig(config: unknown): config is PipewrightConfig {
  return typeof config === 'object' && config !== null && parsedMarker in config;
}

/** Reads and validates a YAML config file; YAML syntax errors report line and column. */
export function loadConfigFile(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PipewrightConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError({
      message: `cannot read config file ${path}: ${(error as Error).message}`,
      cause: error,
    });
  }
  let value: unknown;
  try {
    // Bounded like every YAML Pipewright reads (depth, aliases; a config may be larger than a request).
    value = parseYamlBounded(text, { param: path, code: 'config.invalid', limits: { maxBytes: 16_777_216 } });
  } catch (error) {
    throw new ConfigError({ message: (error as Error).message, cause: error });
  }
  try {
    return parseConfig(value, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError({
        message: `${path}:\n${error.message}`,
        param: error.param ?? '',
        cause: error,
        ...(error.details ? { details: error.details } : {}),
      });
    }
    throw error;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
