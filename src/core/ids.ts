import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A short, unique, URL-safe id with a readable prefix: `createId('req')` → `req_k3j…`.
 * Time-ordered: the first characters encode the current time so ids sort by creation.
 */
export function createId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const bytes = randomBytes(12);
  let random = '';
  for (const byte of bytes) random += alphabet[byte % 36];
  return `${prefix}_${time}${random}`;
}

/** A W3C trace-context trace id (32 hex chars). */
export function createTraceId(): string {
  return randomBytes(16).toString('hex');
}
