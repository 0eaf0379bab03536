import { PipewrightError } from '../core/index.ts';

/**
 * Wraps a storage failure in a `store.failure` PipewrightError that names the operation and
 * keeps the driver's error as `cause`. PipewrightErrors (bad queries) pass through unchanged.
 *
 * @example
 * try { await db.insertInto('call_records').values(rows).execute(); }
 * catch (error) { throw toStoreError(error, 'insert of call records'); }
 */
export function toStoreError(error: unknown, operation: string): PipewrightError {
  if (PipewrightError.isInstance(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new PipewrightError({
    code: 'store.failure',
    message: `store ${operation} failed: ${reason}`,
    cause: error,
  });
}
