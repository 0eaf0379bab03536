import type { Kysely, Migration } from 'kysely';

/**
 * Workflow runs, node states, context versions, blobs and events. Every primary key starts with
 * the tenant, so ids never collide across tenants and every read is tenant-scoped by its index.
 */
export const workflowRunsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('workflow_runs')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('run_id', 'text', (column) => column.notNull())
      .addColumn('workflow_id', 'text', (column) => column.notNull())
      .addColumn('workflow_version', 'integer', (column) => column.notNull())
      .addColumn('definition_hash', 'text', (column) => column.notNull())
      .addColumn('source', 'text')
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('input_json', 'text', (column) => column.notNull())
      .addColumn('outputs_json', 'text')
      .addColumn('error_json', 'text')
      .addColumn('context_version', 'integer', (column) => column.notNull())
      .addColumn('cost_usd', 'double precision', (column) => column.notNull())
      .addColumn('concurrency', 'integer', (column) => column.notNull())
      .addColumn('event_seq', 'integer', (column) => column.notNull())
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .addColumn('finished_at', 'bigint')
      .addPrimaryKeyConstraint('workflow_runs_pkey', ['tenant_id', 'run_id'])
      .execute();
    await db.schema
      .createIndex('workflow_runs_tenant_created')
      .on('workflow_runs')
      .columns(['tenant_id', 'created_at'])
      .execute();
    await db.schema
      .createIndex('workflow_runs_tenant_status')
      .on('workflow_runs')
      .columns(['tenant_id', 'status'])
      .execute();

    await db.schema
      .createTable('workflow_nodes')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('run_id', 'text', (column) => column.notNull())
      .addColumn('node_id', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('attempt', 'integer', (column) => column.notNull())
      .addColumn('start_version', 'integer')
      .addColumn('output_json', 'text')
      .addColumn('output_blob_hash', 'text')
      .addColumn('error_json', 'text')
      .addColumn('reason', 'text')
      .addColumn('cost_usd', 'double precision', (column) => column.notNull())
      .addColumn('progress_json', 'text')
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .addPrimaryKeyConstraint('workflow_nodes_pkey', ['tenant_id', 'run_id', 'node_id'])
      .execute();

    await db.schema
      .createTable('workflow_context')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('run_id', 'text', (column) => column.notNull())
      .addColumn('field', 'text', (column) => column.notNull())
      .addColumn('version', 'integer', (column) => column.notNull())
      .addColumn('value_json', 'text')
      .addColumn('blob_hash', 'text')
      .addColumn('node_id', 'text')
      .addColumn('time', 'bigint', (column) => column.notNull())
      .addPrimaryKeyConstraint('workflow_context_pkey', ['tenant_id', 'run_id', 'field', 'version'])
      .execute();

    await db.schema
      .createTable('workflow_blobs')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('hash', 'text', (column) => column.notNull())
      .addColumn('content', 'text', (column) => column.notNull())
      .addColumn('size', 'bigint', (column) => column.notNull())
      .addPrimaryKeyConstraint('workflow_blobs_pkey', ['tenant_id', 'hash'])
      .execute();

    await db.schema
      .createTable('workflow_events')
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('run_id', 'text', (column) => column.notNull())
      .addColumn('seq', 'integer', (column) => column.notNull())
      .addColumn('time', 'bigint', (column) => column.notNull())
      .addColumn('type', 'text', (column) => column.notNull())
      .addColumn('node_id', 'text')
      .addColumn('data_json', 'text', (column) => column.notNull())
      .addPrimaryKeyConstraint('workflow_events_pkey', ['tenant_id', 'run_id', 'seq'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      'workflow_events',
      'workflow_blobs',
      'workflow_context',
      'workflow_nodes',
      'workflow_runs',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};
