import { ConfigError } from '../core/index.ts';

const pattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of a parsed config. A variable that
 * is unset and has no default is an error naming the config path, so a missing secret is found at
 * start-up rather than on the first call.
 */
export function expandEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(pattern, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      throw new ConfigError({
        message: `${path || 'config'}: environment variable ${name} is not set (use \${${name}:-default} for a default)`,
        param: path,
      });
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => expandEnv(item, env, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = expandEnv(item, env, path === '' ? key : `${path}.${key}`);
    return out;
  }
  return value;
}
