import type { Kysely, Migration } from 'kysely';

/**
 * Results of completed model calls made by workflow nodes, keyed by tenant and idempotency key.
 * A call's result is stored as soon as it returns, before the node's transition, so a resume that
 * re-issues the same key replays it instead of paying for it again. `run_id` lets a finished run
 * clear its rows.
 */
export const workflowModelCallsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('workflow_model_calls')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('idempotency_key', 'text', (column) => column.notNull())
      .addColumn('run_id', 'text', (column) => column.notNull())
      .addColumn('node_id', 'text', (column) => column.notNull())
      .addColumn('output_json', 'text', (column) => column.notNull())
      .addColumn('cost_usd', 'double precision', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addPrimaryKeyConstraint('workflow_model_calls_pkey', ['tenant_id', 'idempotency_key'])
      .execute();
    await db.schema
      .createIndex('workflow_model_calls_tenant_run')
      .on('workflow_model_calls')
      .columns(['tenant_id', 'run_id'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('workflow_model_calls').execute();
  },
};
