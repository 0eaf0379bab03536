import type { CallRecord, CallRecordSink } from '../telemetry/index.ts';

/**
 * A tenant-scoped read of call records. `tenantId` is required: there is no unscoped read.
 * `since` is inclusive and `until` exclusive (ms since the epoch).
 */
export interface CallRecordQuery {
  tenantId: string;
  since?: number;
  until?: number;
  /** Maximum rows for `list` (default 100, at most 10,000). Ignored by `summarize`. */
  limit?: number;
  modelGroup?: string;
}

/** Totals over the records a query matches. `costUsd` sums the known costs (unknown count as 0). */
export interface CallRecordSummary {
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
  /** Calls answered by the exact or the semantic cache. */
  cacheHits: number;
  /** Of those, calls answered by the semantic cache. */
  semanticHits: number;
  /** What cache hits and single-flight joins avoided: the original calls' cost (USD) and latency (ms). */
  savedCostUsd: number;
  savedLatencyMs: number;
}

/**
 * Persistence for call records. Every read takes the tenant, so one tenant can never read
 * another's rows.
 *
 * @example
 * await store.callRecords.insertMany([record]);
 * const recent = await store.callRecords.list({ tenantId: 'acme', limit: 20 });
 * const today = await store.callRecords.summarize({ tenantId: 'acme', since: startOfDay });
 */
export interface CallRecordStore extends CallRecordSink {
  /** Writes all records in one transaction (all or none). */
  insertMany(records: readonly CallRecord[]): Promise<void>;
  /** The tenant's records, newest first. */
  list(query: CallRecordQuery): Promise<CallRecord[]>;
  summarize(query: CallRecordQuery): Promise<CallRecordSummary>;
}
