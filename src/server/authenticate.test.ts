import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { PipewrightError } from '../core/index.ts';
import { createAuthenticator, tenantIdOf } from './authenticate.ts';

const masterKey = 'authenticate-test-key-0123';
const authenticate = createAuthenticator({ masterKey, defaultTenantId: 'default' });

const refusedFor = (param: string, code: string) => (error: unknown) =>
  PipewrightError.isInstance(error) && error.code === code && error.param === param;

test('a missing, malformed or wrong key is a 401 naming the authorization header', () => {
  for (const header of [undefined, '', 'Basic abc', `Bearer ${masterKey}x`, 'Bearer wrong']) {
    assert.throws(
      () => authenticate(header, undefined),
      refusedFor('authorization', 'gateway.unauthenticated'),
    );
  }
});

test('the master key picks a tenant by header, or the default; a malformed one is a 400 naming the header', () => {
  assert.equal(authenticate(`Bearer ${masterKey}`, undefined).tenantId, 'default');
  assert.equal(authenticate(`Bearer ${masterKey}`, 'acme/eu').tenantId, 'acme/eu');
  assert.throws(
    () => authenticate(`Bearer ${masterKey}`, 'no spaces'),
    refusedFor('x-pipewright-tenant', 'request.invalid'),
  );
});

test('a route served without the authentication hook fails loudly instead of using a default tenant', () => {
  const request = { principal: undefined, routeOptions: { url: '/v1/x' }, url: '/v1/x' };
  assert.throws(
    () => tenantIdOf(request as unknown as FastifyRequest),
    (error: unknown) => PipewrightError.isInstance(error) && error.code === 'gateway.internal',
  );
});
