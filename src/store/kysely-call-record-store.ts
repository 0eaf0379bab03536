import type { ColumnType, Insertable, Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import { sql } from 'kysely';
import { InvalidRequestError } from '../core/index.ts';
import type { CacheStatus, CallOperation, CallOutcome, CallRecord } from '../telemetry/index.ts';
import type { CallRecordQuery, CallRecordStore, CallRecordSummary } from './call-record-store.ts';
import { toStoreError } from './store-error.ts';

/**
 * The call_records table as the drivers return it: SQLite gives booleans as 0/1, PostgreSQL
 * gives `bigint` as strings, so reads accept both and `toCallRecord` normalises.
 */
export interface CallRecordsTable {
  tenant_id: string;
  id: string;
  time: ColumnType<number | string, number, never>;
  request_id: string;
  trace_id: string;
  operation: string;
  step_type: string | null;
  model_group: string;
  provider: string | null;
  model: string | null;
  deployment: string | null;
  streamed: ColumnType<number | boolean, number, never>;
  input_tokens: ColumnType<number | string, number, never>;
  output_tokens: ColumnType<number | string, number, never>;
  cached_input_tokens: ColumnType<number | string, number, never>;
  cache_write_tokens: ColumnType<number | string, number, never>;
  reasoning_tokens: ColumnType<number | string, number, never>;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  cost_usd: number | null;
  cache_status: string;
  saved_cost_usd: number | null;
  saved_latency_ms: number | null;
  outcome: string;
  error_code: string | null;
  simulated: ColumnType<number | boolean, number, never>;
}

export interface StoreDatabase {
  call_records: CallRecordsTable;
}

export const defaultListLimit = 100;
export const maxListLimit = 10_000;

/** Rows per INSERT statement: 26 columns × 400 stays under every driver's bound-parameter limit. */
const rowsPerStatement = 400;

/**
 * The call-record store over any Kysely dialect (SQLite now, PostgreSQL later). Every read starts
 * from `tenantRows`, which applies the tenant filter: there is no query without it.
 *
 * @example
 * const callRecords = createKyselyCallRecordStore(db);
 * await callRecords.insertMany(records);
 */
export function createKyselyCallRecordStore(db: Kysely<StoreDatabase>): CallRecordStore {
  function tenantRows(query: CallRecordQuery): SelectQueryBuilder<StoreDatabase, 'call_records', object> {
    const checked = checkQuery(query);
    let builder = db.selectFrom('call_records').where('tenant_id', '=', checked.tenantId);
    if (checked.since !== undefined) builder = builder.where('time', '>=', checked.since);
    if (checked.until !== undefined) builder = builder.where('time', '<', checked.until);
    if (checked.modelGroup !== undefined) builder = builder.where('model_group', '=', checked.modelGroup);
    return builder;
  }

  return {
    async insertMany(records) {
      if (records.length === 0) return;
      try {
        await db.transaction().execute(async (transaction) => {
          for (let start = 0; start < records.length; start += rowsPerStatement) {
            const rows = records.slice(start, start + rowsPerStatement).map(toRow);
            // A retried batch (the first attempt's outcome unknown) must not duplicate rows.
            await transaction
              .insertInto('call_records')
              .values(rows)
              .onConflict((conflict) => conflict.columns(['tenant_id', 'id']).doNothing())
              .execute();
          }
        });
      } catch (error) {
        throw toStoreError(error, 'insert of call records');
      }
    },

    async list(query) {
      const limit = checkLimit(query.limit);
      const builder = tenantRows(query);
      try {
        const rows = await builder
          .selectAll()
          .orderBy('time', 'desc')
          .orderBy('id', 'desc')
          .limit(limit)
          .execute();
        return rows.map(toCallRecord);
      } catch (error) {
        throw toStoreError(error, 'list of call records');
      }
    },

    async summarize(query) {
      const builder = tenantRows(query);
      try {
        const row = await builder
          .select([
            sql<number | string>`count(*)`.as('calls'),
            sql<number | string | null>`sum(case when outcome = 'error' then 1 else 0 end)`.as('errors'),
            sql<number | string | null>`sum(input_tokens)`.as('input_tokens'),
            sql<number | string | null>`sum(output_tokens)`.as('output_tokens'),
            sql<number | string | null>`sum(cached_input_tokens)`.as('cached_input_tokens'),
            sql<number | string | null>`sum(cost_usd)`.as('cost_usd'),
            sql<
              number | string | null
            >`sum(case when cache_status in ('hit', 'semantic-hit') then 1 else 0 end)`.as('cache_hits'),
            sql<number | string | null>`sum(case when cache_status = 'semantic-hit' then 1 else 0 end)`.as(
              'semantic_hits',
            ),
            sql<number | string | null>`sum(saved_cost_usd)`.as('saved_cost_usd'),
            sql<number | string | null>`sum(saved_latency_ms)`.as('saved_latency_ms'),
          ])
          .executeTakeFirstOrThrow();
        const summary: CallRecordSummary = {
          calls: toNumber(row.calls),
          errors: toNumber(row.errors),
          inputTokens: toNumber(row.input_tokens),
          outputTokens: toNumber(row.output_tokens),
          cachedInputTokens: toNumber(row.cached_input_tokens),
          costUsd: roundUsd(toNumber(row.cost_usd)),
          cacheHits: toNumber(row.cache_hits),
          semanticHits: toNumber(row.semantic_hits),
          savedCostUsd: roundUsd(toNumber(row.saved_cost_usd)),
          savedLatencyMs: toNumber(row.saved_latency_ms),
        };
        return summary;
      } catch (error) {
        throw toStoreError(error, 'summary of call records');
      }
    },
  };
}

function checkQuery(query: CallRecordQuery): CallRecordQuery {
  if (typeof query !== 'object' || query === null)
    throw new InvalidRequestError({ message: 'query must be an object' });
  if (typeof query.tenantId !== 'string' || query.tenantId.length === 0) {
    throw new InvalidRequestError({
      message: 'tenantId is required: every read is scoped to one tenant',
      param: 'tenantId',
    });
  }
  for (const field of ['since', 'until'] as const) {
    const value = query[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new InvalidRequestError({
        message: `${field} must be a time in milliseconds since the epoch`,
        param: field,
      });
    }
  }
  if (query.modelGroup !== undefined && typeof query.modelGroup !== 'string') {
    throw new InvalidRequestError({ message: 'modelGroup must be a string', param: 'modelGroup' });
  }
  return query;
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return defaultListLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxListLimit) {
    throw new InvalidRequestError({
      message: `limit must be an integer from 1 to ${maxListLimit}`,
      param: 'limit',
    });
  }
  return limit;
}

function toRow(record: CallRecord): Insertable<CallRecordsTable> {
  return {
    tenant_id: record.tenantId,
    id: record.id,
    time: record.time,
    request_id: record.requestId,
    trace_id: record.traceId,
    operation: record.operation,
    step_type: record.stepType,
    model_group: record.modelGroup,
    provider: record.provider,
    model: record.model,
    deployment: record.deployment,
    // Booleans as 0/1: SQLite cannot bind booleans and PostgreSQL reads '1'/'0' as true/false.
    streamed: record.streamed ? 1 : 0,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    cached_input_tokens: record.cachedInputTokens,
    cache_write_tokens: record.cacheWriteTokens,
    reasoning_tokens: record.reasoningTokens,
    latency_ms: record.latencyMs,
    time_to_first_token_ms: record.timeToFirstTokenMs,
    cost_usd: record.costUsd,
    cache_status: record.cacheStatus,
    saved_cost_usd: record.savedCostUsd ?? null,
    saved_latency_ms: record.savedLatencyMs ?? null,
    outcome: record.outcome,
    error_code: record.errorCode,
    simulated: record.simulated ? 1 : 0,
  };
}

function toCallRecord(row: Selectable<CallRecordsTable>): CallRecord {
  return {
    id: row.id,
    time: toNumber(row.time),
    tenantId: row.tenant_id,
    requestId: row.request_id,
    traceId: row.trace_id,
    operation: row.operation as CallOperation,
    stepType: row.step_type,
    modelGroup: row.model_group,
    provider: row.provider,
    model: row.model,
    deployment: row.deployment,
    streamed: row.streamed === true || row.streamed === 1,
    inputTokens: toNumber(row.input_tokens),
    outputTokens: toNumber(row.output_tokens),
    cachedInputTokens: toNumber(row.cached_input_tokens),
    cacheWriteTokens: toNumber(row.cache_write_tokens),
    reasoningTokens: toNumber(row.reasoning_tokens),
    latencyMs: row.latency_ms,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    costUsd: row.cost_usd,
    cacheStatus: row.cache_status as CacheStatus,
    savedCostUsd: row.saved_cost_usd,
    savedLatencyMs: row.saved_latency_ms,
    outcome: row.outcome as CallOutcome,
    errorCode: row.error_code,
    simulated: row.simulated === true || row.simulated === 1,
  };
}

function toNumber(value: number | string | null): number {
  if (value === null) return 0;
  return typeof value === 'number' ? value : Number(value);
}

/** Sums of float costs pick up noise in the last digits; 1e-10 USD is far below any real bill. */
function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}
