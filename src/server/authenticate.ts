import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PipewrightError, toTenantId, type TenantId } from '../core/index.ts';

export interface Principal {
  /** The caller's tenant, resolved once at the edge; every route passes it down explicitly. */
  tenantId: TenantId;
  /** How the caller authenticated (the governance work adds per-tenant keys). */
  keyKind: 'master';
}

/** The header a master-key holder names a tenant with. */
export const tenantHeader = 'x-pipewright-tenant';

/**
 * Checks the bearer key. Until tenants have their own keys, the master key admits a caller who
 * may name a tenant with `x-pipewright-tenant` (default: the configured default tenant).
 * A missing or wrong key is a 401 `gateway.unauthenticated` naming `authorization`.
 *
 * @example
 * const authenticate = createAuthenticator({ masterKey, defaultTenantId: 'default' });
 * authenticate('Bearer ' + masterKey, undefined); // { tenantId: 'default', keyKind: 'master' }
 */
export function createAuthenticator(options: { masterKey: string; defaultTenantId: string }) {
  const expected = Buffer.from(options.masterKey);
  const defaultTenantId = toTenantId(options.defaultTenantId, 'defaultTenant');
  return function authenticate(
    authorization: string | undefined,
    tenant: string | string[] | undefined,
  ): Principal {
    const token = parseBearer(authorization);
    if (token === undefined || !matches(token, expected)) {
      throw new PipewrightError({
        code: 'gateway.unauthenticated',
        message:
          token === undefined
            ? 'Missing bearer key: send `Authorization: Bearer <key>`.'
            : 'Invalid API key.',
        param: 'authorization',
      });
    }
    const named = Array.isArray(tenant) ? tenant[0] : tenant;
    if (named === undefined || named === '') return { tenantId: defaultTenantId, keyKind: 'master' };
    return { tenantId: toTenantId(named, tenantHeader), keyKind: 'master' };
  };
}

/**
 * The tenant the authentication hook resolved for this request. Every route but the public ones
 * (health, readiness, public metrics) goes through the hook, so a missing principal is a bug.
 */
export function tenantIdOf(request: FastifyRequest): TenantId {
  const principal = request.principal;
  if (principal === undefined)
    throw new PipewrightError({
      code: 'gateway.internal',
      message: `route ${request.routeOptions.url ?? request.url} was served without authentication`,
    });
  return principal.tenantId;
}

function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

// Constant-time for keys of the right length; only the (non-secret) length can be learnt by timing.
function matches(token: string, expected: Buffer): boolean {
  if (Buffer.byteLength(token) !== expected.length) return false;
  return timingSafeEqual(Buffer.from(token), expected);
}
