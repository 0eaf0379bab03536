import { InvalidRequestError } from './errors.ts';

declare const tenantBrand: unique symbol;

/**
 * A tenant (workspace) id that was resolved at the edge: from the caller's credentials in the
 * gateway, from the call options or the configured default in the library. Inside the engine a
 * tenant is always a `TenantId`, so no code below the edge can fall back to a default silently:
 * a plain string does not type-check where a `TenantId` is expected.
 */
export type TenantId = string & { readonly [tenantBrand]: true };

/** The shape of tenant ids (the same as every configured id). */
export const tenantIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/**
 * Checks an id and brands it as a resolved tenant. A malformed id is a 400 naming `param`.
 *
 * @example
 * const tenantId = toTenantId(options.tenantId ?? config.defaultTenant, 'tenantId');
 */
export function toTenantId(value: string, param = 'tenantId'): TenantId {
  if (!tenantIdPattern.test(value)) {
    throw new InvalidRequestError({
      message: `${param} must be 1-128 letters, digits or . _ : / - (starting with a letter or digit)`,
      param,
    });
  }
  return value as TenantId;
}
