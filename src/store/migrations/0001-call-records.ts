import type { Kysely, Migration } from 'kysely';

/**
 * The call_records table. Column types are chosen to mean the same on SQLite and PostgreSQL:
 * `bigint` for epoch milliseconds, `double precision` for durations and costs, `boolean`
 * (0/1 on SQLite). The primary key includes the tenant, so ids never collide across tenants.
 */
export const callRecordsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('call_records')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('id', 'text', (column) => column.notNull())
      .addColumn('time', 'bigint', (column) => column.notNull())
      .addColumn('request_id', 'text', (column) => column.notNull())
      .addColumn('trace_id', 'text', (column) => column.notNull())
      .addColumn('operation', 'text', (column) => column.notNull())
      .addColumn('step_type', 'text')
      .addColumn('model_group', 'text', (column) => column.notNull())
      .addColumn('provider', 'text')
      .addColumn('model', 'text')
      .addColumn('deployment', 'text')
      .addColumn('streamed', 'boolean', (column) => column.notNull())
      .addColumn('input_tokens', 'bigint', (column) => column.notNull())
      .addColumn('output_tokens', 'bigint', (column) => column.notNull())
      .addColumn('cached_input_tokens', 'bigint', (column) => column.notNull())
      .addColumn('cache_write_tokens', 'bigint', (column) => column.notNull())
      .addColumn('reasoning_tokens', 'bigint', (column) => column.notNull())
      .addColumn('latency_ms', 'double precision', (column) => column.notNull())
      .addColumn('time_to_first_token_ms', 'double precision')
      .addColumn('cost_usd', 'double precision')
      .addColumn('cache_status', 'text', (column) => column.notNull())
      .addColumn('outcome', 'text', (column) => column.notNull())
      .addColumn('error_code', 'text')
      .addColumn('simulated', 'boolean', (column) => column.notNull())
      .addPrimaryKeyConstraint('call_records_pkey', ['tenant_id', 'id'])
      .execute();
    await db.schema
      .createIndex('call_records_tenant_time')
      .on('call_records')
      .columns(['tenant_id', 'time'])
      .execute();
    await db.schema
      .createIndex('call_records_tenant_group_time')
      .on('call_records')
      .columns(['tenant_id', 'model_group', 'time'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('call_records').execute();
  },
};
