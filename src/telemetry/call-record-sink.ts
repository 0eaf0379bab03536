import type { CallRecord } from './call-record.ts';

/**
 * Where a TelemetryRecorder writes its batches. A store's `CallRecordStore` is one; telemetry
 * names only this narrow shape so it does not depend on the store folder.
 */
export interface CallRecordSink {
  /** Writes all records or none (one transaction); rejects on failure. */
  insertMany(records: readonly CallRecord[]): Promise<void>;
}
