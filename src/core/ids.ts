import { randomUUID } from 'node:crypto';

/**
 * A short, unique, URL-safe id with a readable prefix: `createId('req')` → `req_mwr8dlyf3c9a…`.
 * Time-ordered: the first characters encode the current time so ids sort by creation.
 * `randomUUID` draws from Node's cached entropy pool, so this is cheap on the hot path.
 */
export function createId(prefix: string): string {
  const uuid = randomUUID();
  // 20 random hex digits (80 bits) after the time part.
  return `${prefix}_${Date.now().toString(36)}${uuid.slice(0, 8)}${uuid.slice(9, 13)}${uuid.slice(14, 18)}${uuid.slice(19, 23)}`;
}

/** A W3C trace-context trace id (32 hex chars). */
export function createTraceId(): string {
  const uuid = randomUUID();
  return `${uuid.slice(0, 8)}${uuid.slice(9, 13)}${uuid.slice(14, 18)}${uuid.slice(19, 23)}${uuid.slice(24)}`;
}
