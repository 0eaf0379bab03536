import { timingSafeEqual } from 'node:crypto';
import { PipewrightError } from '../core/index.ts';

export interface Principal {
  tenantId: string;
  /** How the caller authenticated (the governance work adds per-tenant keys). */
  keyKind: 'master';
}

const tenantPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Checks the bearer key. Until tenants have their own keys, the master key admits a caller who
 * may name a tenant with `x-pipewright-tenant` (default: the configured default tenant).
 */
export function createAuthenticator(options: { masterKey: string; defaultTenantId: string }) {
  const expected = Buffer.from(options.masterKey);
  return function authenticate(
    authorization: string | undefined,
    tenantHeader: string | string[] | undefined,
  ): Principal {
    const token = parseBearer(authorization);
    if (token === undefined || !matches(token, expected)) {
      throw new PipewrightError({
        code: 'gateway.unauthenticated',
        message:
          token === undefined
            ? 'Missing bearer key: send `Authorization: Bearer <key>`.'
            : 'Invalid API key.',
      });
    }
    const tenant = Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader;
    if (tenant === undefined || tenant === '')
      return { tenantId: options.defaultTenantId, keyKind: 'master' };
    if (!tenantPattern.test(tenant)) {
      throw new PipewrightError({
        code: 'request.invalid',
        message: 'x-pipewright-tenant: must be 1-128 letters, digits or . _ : -',
        param: 'x-pipewright-tenant',
      });
    }
    return { tenantId: tenant, keyKind: 'master' };
  };
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
