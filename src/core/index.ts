export * from './error-codes.ts';
export * from './errors.ts';
export * from './provider-error.ts';
export * from './clock.ts';
export * from './ids.ts';
export * from './hash.ts';
export * from './redis-connection.ts';
export * from './tenant.ts';
